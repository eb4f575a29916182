package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
	rt "github.com/mrqa-dev/mrqa/runtime"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// fromRun is what exec -from is given: the recording's folder and whether
// -out named the re-run's folder.
type fromRun struct {
	dir      string
	outGiven bool
}

// redactedValue is how a recording writes a value it does not hold.
const redactedValue = "(sensitive)"

// from re-runs the run recorded in fr.dir (exec -from): the recorded
// texts loaded as the configuration, the recorded variable values applied,
// the secrets given anew, the recorded scenario only, into a new folder.
func (e *execRun) from(ctx context.Context, fc *fileCommand, fr fromRun, pos []string) int {
	rec, err := fr.check(fc, pos, e.ropts)
	if err != nil {
		return e.usage(err)
	}
	e.ropts.Shard = recordedShard(rec)
	file, sc, code := e.loadRecording(fc, fr, rec, e.ropts.Shard)
	if code != exitcode.OK {
		return code
	}
	out, err := fr.outDir(e.ropts.OutDir)
	if err != nil {
		return e.usage(err)
	}
	overridden := e.printOverrides(fr.dir, rec.Variables, file.Variables)
	sc.Report.Dir = out
	file.Path = rec.File.Path
	e.file = file
	e.ropts.Reproduce = &rt.Reproduction{Recorded: rec, From: results.From{
		Dir: fr.dir, Scenario: rec.Scenario, Started: rec.Started, ToolVersion: rec.ToolVersion, Overridden: overridden,
	}}
	e.hint = func() string { return fromHint(fr, out, e.args, file) }
	code = e.run(ctx, []*spec.Scenario{sc})
	if code != exitcode.Usage && !e.dryRun {
		if _, err := os.Stat(filepath.Join(out, "results.json")); err == nil {
			fmt.Fprintf(e.stdout, "compare with the recording: mrqa report %s %s\n", shellQuote(fr.dir), shellQuote(out))
		}
	}
	return code
}

func (e *execRun) usage(err error) int {
	fmt.Fprintln(e.stderr, "mrqa exec:", err)
	return exitcode.Usage
}

// check refuses what -from cannot combine with and reads the recording.
func (fr fromRun) check(fc *fileCommand, pos []string, ropts rt.Options) (*results.Results, error) {
	switch {
	case len(pos) > 0:
		return nil, fmt.Errorf("-from %s: the recording is the configuration; name no files (%s)", fr.dir, strings.Join(pos, " "))
	case len(fc.scenarios) > 0:
		return nil, fmt.Errorf("-from %s: the recording holds one scenario's run, and that scenario runs; -scenario does not apply", fr.dir)
	case (ropts.Resume || ropts.Force) && !fr.outGiven:
		return nil, fmt.Errorf("-from %s: -resume and -force act on the re-run's folder; name it with -out", fr.dir)
	}
	rec, err := readRecording(fr.dir)
	if err == nil && rec.Merged != nil {
		return nil, fmt.Errorf("-from %s: it holds a merged sweep, measured by %d processes (perhaps against several replicas), which no one process re-runs; re-run each shard's folder with -from", fr.dir, rec.Merged.Count)
	}
	return rec, err
}

// recordedShard is the part of the sweep the recording ran: a shard's
// folder re-runs that shard, read by the configuration as shard.index and
// shard.count as it was then.
func recordedShard(rec *results.Results) spec.Shard {
	if rec.Shard == nil {
		return spec.Shard{}
	}
	return spec.Shard{Index: rec.Shard.Index, Count: rec.Shard.Count}
}

// readRecording reads the results.json of a scenario's folder, naming
// the scenario folders to give instead when dir is an output folder.
func readRecording(dir string) (*results.Results, error) {
	if results.IsLMBenchDir(dir) {
		return nil, fmt.Errorf("-from %s: LMBenchmark run files record no configuration to run again", dir)
	}
	rec, err := results.Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if runs := runDirs(dir); len(runs) > 0 {
			var b strings.Builder
			for _, r := range runs {
				b.WriteString("\n  mrqa exec -from " + shellQuote(r))
			}
			return nil, fmt.Errorf("-from %s: it holds no results.json, but scenario folders that do; re-run each on its own:%s", dir, b.String())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("-from %s: %w", dir, err)
	}
	if rec.Tool != "mrqa" {
		return nil, fmt.Errorf("-from %s: its results were built from %s run files, which record no configuration to run again", dir, rec.Tool)
	}
	return rec, nil
}

// loadRecording loads the recorded configuration with the secrets given
// anew and returns it with the recorded scenario.
func (e *execRun) loadRecording(fc *fileCommand, fr fromRun, rec *results.Results, shard spec.Shard) (*spec.File, *spec.Scenario, int) {
	srcs, inputs, err := recordedSources(fr.dir, rec)
	if err != nil {
		return nil, nil, e.usage(err)
	}
	opts, err := fc.vars.options()
	if err != nil {
		return nil, nil, e.usage(err)
	}
	secrets := secretVariables(rec.Variables)
	if len(fc.vars.varFiles) == 0 {
		// Without a -var-file, what is missing is known before loading.
		if missing := notGiven(secrets, opts); len(missing) > 0 {
			return nil, nil, e.usage(missingSecrets(fr.dir, missing))
		}
	}
	opts.FromRecording = true
	opts.Shard = dsl.Shard{Index: shard.Index, Count: shard.Count}
	opts.Recorded = recordedValues(rec.Variables)
	opts.ReadFile = func(path string) ([]byte, error) {
		if b, ok := inputs[path]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("the recording in %s holds no copy of it", fr.dir)
	}
	loaded := dsl.LoadSources(srcs, opts)
	if len(loaded.Diags) > 0 {
		_ = loaded.WriteDiagnostics(e.stderr)
	}
	if loaded.Diags.HasErrors() {
		return nil, nil, exitcode.Usage
	}
	if missing := notGivenAnew(secrets, loaded.File.Variables); len(missing) > 0 {
		return nil, nil, e.usage(missingSecrets(fr.dir, missing))
	}
	selected, err := dsl.Select(loaded.File, []string{rec.Scenario})
	if err != nil {
		return nil, nil, e.usage(fmt.Errorf("-from %s: %w", fr.dir, err))
	}
	return loaded.File, selected[0], exitcode.OK
}

// recordedSources are the recorded configuration files, as dsl loads
// them, and the recorded copies of the files file() read, by path.
// Results written before every file was recorded have the text of their
// one file only.
func recordedSources(dir string, rec *results.Results) ([]dsl.Source, map[string][]byte, error) {
	var srcs []dsl.Source
	inputs := map[string][]byte{}
	for _, f := range rec.Files {
		switch f.Role {
		case spec.RoleConfiguration:
			srcs = append(srcs, dsl.Source{Path: f.Path, Text: []byte(f.Redacted)})
		case spec.RoleInput:
			inputs[f.Path] = []byte(f.Redacted)
		}
	}
	if len(srcs) == 0 && rec.File.Redacted != "" {
		srcs = append(srcs, dsl.Source{Path: rec.File.Path, Text: []byte(rec.File.Redacted)})
	}
	if len(srcs) == 0 {
		return nil, nil, fmt.Errorf("-from %s: its results.json records no text of the configuration %s (neither files nor file.text), so it cannot run again; run the configuration's own files", dir, rec.File.Path)
	}
	return srcs, inputs, nil
}

// secretVariables names the variables the recording holds no value of:
// the sensitive ones, and any whose value held a secret.
func secretVariables(vars []results.Var) []string {
	var out []string
	for _, v := range vars {
		if v.Sensitive || v.Value == redactedValue {
			out = append(out, v.Name)
		}
	}
	return out
}

// recordedValues are the values to apply again: every variable's but the
// secrets', defaults included, so that an MRQA_VAR_ left in the
// environment cannot change a value the recording used.
func recordedValues(vars []results.Var) map[string]string {
	out := map[string]string{}
	for _, v := range vars {
		if !v.Sensitive && v.Value != redactedValue {
			out[v.Name] = v.Value
		}
	}
	return out
}

// notGiven are the names neither a -var nor an MRQA_VAR_ environment
// variable gives.
func notGiven(names []string, opts dsl.Options) []string {
	env := map[string]bool{}
	for _, kv := range opts.Env {
		if k, _, ok := strings.Cut(kv, "="); ok {
			env[k] = true
		}
	}
	var out []string
	for _, n := range names {
		if _, ok := opts.Vars[n]; !ok && !env[dsl.EnvPrefix+n] {
			out = append(out, n)
		}
	}
	return out
}

// notGivenAnew are the names whose value this load took from no input of
// the user's (-var, -var-file, MRQA_VAR_): a default in the recorded text
// is not the secret the recording left out.
func notGivenAnew(names []string, vars []spec.Variable) []string {
	var out []string
	for _, v := range vars {
		if slices.Contains(names, v.Name) && v.Source != "flag" && v.Source != "env" && v.Source != "file" {
			out = append(out, v.Name)
		}
	}
	return out
}

// missingSecrets says which secrets to give, and both ways to give them;
// it never shows a value.
func missingSecrets(dir string, names []string) error {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s: -var %s=VALUE, or the environment variable %s%s", n, n, dsl.EnvPrefix, n)
	}
	return fmt.Errorf("-from %s: a recording holds no secrets; give the value of each of these variables again (nothing was sent):%s", dir, b.String())
}

// printOverrides prints, before the run, each variable whose value differs
// from the recording's, with both values, and returns their names.
func (e *execRun) printOverrides(dir string, recorded []results.Var, now []spec.Variable) []string {
	was := map[string]results.Var{}
	for _, v := range recorded {
		was[v.Name] = v
	}
	var names []string
	for _, v := range now {
		old, ok := was[v.Name]
		if !ok || old.Value == redactedValue || v.Value == old.Value || (v.Source != "flag" && v.Source != "file") {
			continue // only -var and -var-file override a recorded value
		}
		names = append(names, v.Name)
		if v.Value == redactedValue {
			fmt.Fprintf(e.stderr, "-from %s: var.%s differs from the recording's %s, from %s (the new value holds a secret: not shown)\n", dir, v.Name, strconv.Quote(old.Value), sourceText(v.Source))
			continue
		}
		fmt.Fprintf(e.stderr, "-from %s: var.%s = %s (recorded: %s), from %s\n", dir, v.Name, strconv.Quote(v.Value), strconv.Quote(old.Value), sourceText(v.Source))
	}
	return names
}

// sourceText names where a variable's value came from, as a user gives it.
func sourceText(source string) string {
	switch source {
	case "flag":
		return "-var"
	case "file":
		return "-var-file"
	case "env":
		return "the environment"
	}
	return source
}

// outDir is the re-run's folder: -out, which may not be the recording's
// folder, one inside it or one that holds it; by default a new folder
// beside it, DIR-rerun, DIR-rerun2, … (the first that does not exist).
func (fr fromRun) outDir(out string) (string, error) {
	if !fr.outGiven {
		return fr.defaultOut()
	}
	src, err := results.ResolvedDir(fr.dir)
	if err != nil {
		return "", err
	}
	dst, err := results.ResolvedDir(out)
	if err != nil {
		return "", err
	}
	switch {
	case dst == src || within(dst, src):
		return "", fmt.Errorf("-from %s -out %s: the re-run would write into the recording's folder; name another -out (or leave it out for a folder beside it)", fr.dir, out)
	case within(src, dst):
		return "", fmt.Errorf("-from %s -out %s: the recording lies inside that folder, and the re-run writes its results.json, records and report straight into -out; name a folder outside it (or leave -out out for a folder beside the recording)", fr.dir, out)
	}
	return out, nil
}

// defaultOut is the first of DIR-rerun, DIR-rerun2, … that does not
// exist, named from the recording's absolute path, so that "." and "sc/"
// give a folder beside the recording, not one inside it. It is absolute
// when the recording was named so, else relative to the working folder.
func (fr fromRun) defaultOut() (string, error) {
	abs, err := filepath.Abs(fr.dir)
	if err != nil {
		return "", fmt.Errorf("-from %s: %w", fr.dir, err)
	}
	if filepath.Dir(abs) == abs {
		return "", fmt.Errorf("-from %s: the recording is a root folder, with no folder beside it; name the re-run's folder with -out", fr.dir)
	}
	base := abs + "-rerun"
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name += strconv.Itoa(n)
		}
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			if filepath.IsAbs(fr.dir) {
				return name, nil
			}
			return relToWorking(name), nil
		}
	}
}

// relToWorking is the absolute path abs relative to the working folder,
// or abs when it has no relative form.
func relToWorking(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(wd, abs); err == nil {
		return rel
	}
	return abs
}

// within reports whether path lies strictly inside dir; both are clean
// absolute paths.
func within(path, dir string) bool {
	return strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// fromHint is the command that resumes a re-run: -from, its folder, and
// the flags given, secrets hidden as resumeHint hides them.
func fromHint(fr fromRun, out string, args []string, file *spec.File) string {
	h := hider{sensitive: map[string]bool{}, secrets: rt.NewRedactor(file.Secrets, secretPlaceholder)}
	for _, v := range file.Variables {
		h.sensitive[v.Name] = v.Sensitive
	}
	cmd := "mrqa exec -from " + shellQuote(h.value(fr.dir))
	if !fr.outGiven {
		cmd += " -out " + shellQuote(out)
	}
	cmd += " -resume" + resumeArgs(args, &h)
	if !h.hid {
		return cmd
	}
	return cmd + "\n(secrets are not repeated: replace each " + secretPlaceholder + " with the secret)"
}

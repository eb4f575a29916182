package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
	rt "github.com/mrqa-dev/mrqa/runtime"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/report"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

const execUsage = `usage: mrqa exec FILE.hcl... | DIR [flags]
       mrqa exec -from RESULTS_DIR [-out DIR] [-var name=value]... [flags]

Runs every scenario of the configuration (or those named with -scenario),
one after another, and writes out/<scenario>/results.json,
points/c<C>_s<S>.jsonl and report.html, plus out/compare.html when several
scenarios ran. The configuration is one file, several files, or a directory
(every .hcl file directly in it); variable files (*.mrqavars.hcl) beside
them are applied before -var-file.

An output folder that holds a run is never overwritten or mixed: -resume
continues it (points measured the same way are kept; a change to the
target, corpus, script, rounds, seed or assign is named and refused),
-force replaces it once this run has a point of its own, and anything else
is refused with exit 2.

-shard I/N runs part I of N of each grid (I from 0 to N-1), so N machines
can share a sweep: the points are dealt out by C×S, largest first, each to
the part with the least so far, and each point gets the workload it gets in
a whole sweep. The file reads the part as shard.index and shard.count (to
name each part's replica); mrqa merge combines the parts' folders. A
frontier search and an open-loop sweep choose points from results and are
not sharded. For example, the second of three machines runs
  mrqa exec -shard 1/3 -out out-1 scenarios/novel-critic.hcl

-from re-runs the run recorded in a scenario's results folder from its
results.json alone: the recorded configuration text, variable values and
scenario, nothing read from the original files. The recording holds no
secrets: give each sensitive variable again with -var or MRQA_VAR_name
(exit 2 naming those missing). A -var may override a recorded value; it is
printed and recorded. The corpus and a simulator profile file must match
the recorded ones. The re-run goes to DIR-rerun (numbered when taken)
beside the recording unless -out names a folder, never into the
recording's own, and ends with the mrqa report command that compares both.

example:
  mrqa exec scenarios/quickstart.hcl
  mrqa exec scenarios/novel-critic.hcl -var base_url=http://10.0.0.5:8000/v1 -resume
  mrqa exec scenarios/shared-critic/
  mrqa exec -from out/baseline -var api_key=$KEY -var base_url=http://gpu2:8000/v1

exit codes: 0 done (points failing their SLOs are results), 1 run-time
failure (target unreachable or down, no answer at all, unwritable output),
2 invalid scenario or usage (an output folder in use included), 99 an
expect not met, 130 interrupted.
`

// varFlags are the flags that set scenario variables, shared by exec and validate.
type varFlags struct {
	vars     multiFlag
	varFiles multiFlag
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var(&v.vars, "var", "set a variable: -var name=value (repeatable)")
	fs.Var(&v.varFiles, "var-file", "read variables from an HCL file, after the *.mrqavars.hcl files (repeatable)")
}

func (v *varFlags) options() (dsl.Options, error) {
	opts := dsl.Options{Vars: map[string]string{}, VarFiles: v.varFiles, Env: os.Environ(), Version: checkedVersion()}
	for _, kv := range v.vars {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, fmt.Errorf("-var: want name=value") // the argument itself may be a secret
		}
		opts.Vars[k] = val
	}
	return opts, nil
}

// fileCommand is what exec, validate and prepare share: the variable and
// scenario flags, one configuration (a directory or files), its diagnostics
// printed.
type fileCommand struct {
	name      string
	vars      varFlags
	scenarios multiFlag
	// shard is the part of the sweep the file is read for (exec -shard):
	// expressions read it as shard.index and shard.count.
	shard spec.Shard
}

func (fc *fileCommand) register(fs *flag.FlagSet, selects bool) {
	fc.vars.register(fs)
	if selects {
		fs.Var(&fc.scenarios, "scenario", "only this scenario (repeatable)")
	}
}

// load loads the flags' positional arguments as one configuration (a
// directory, or files), prints its diagnostics, and returns the selected
// scenarios; code is non-zero when the command must stop with it.
func (fc *fileCommand) load(pos []string, stderr io.Writer) (file *spec.File, selected []*spec.Scenario, code int) {
	if len(pos) == 0 {
		fmt.Fprintf(stderr, "mrqa %s: want a scenario file, several, or a directory of them (see mrqa %s -h)\n", fc.name, fc.name)
		return nil, nil, exitcode.Usage
	}
	opts, err := fc.vars.options()
	opts.Shard = dsl.Shard{Index: fc.shard.Index, Count: fc.shard.Count}
	if err != nil {
		fmt.Fprintf(stderr, "mrqa %s: %v\n", fc.name, err)
		return nil, nil, exitcode.Usage
	}
	loaded := dsl.LoadFiles(pos, opts)
	if len(loaded.Diags) > 0 {
		_ = loaded.WriteDiagnostics(stderr)
	}
	if loaded.Diags.HasErrors() {
		return nil, nil, exitcode.Usage
	}
	selected, err = dsl.Select(loaded.File, fc.scenarios)
	if err != nil {
		fmt.Fprintf(stderr, "mrqa %s: %v\n", fc.name, err)
		return nil, nil, exitcode.Usage
	}
	return loaded.File, selected, exitcode.OK
}

func runExec(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("exec", execUsage, stdout, stderr)
	fc := fileCommand{name: "exec"}
	fc.register(fs, true)
	out := fs.String("out", "out", "output directory (with -from: the re-run's folder)")
	resume := fs.Bool("resume", false, "continue the run in the output folder: keep the points measured the same way, run the rest")
	force := fs.Bool("force", false, "replace the run in the output folder (once this run has a point to save)")
	dryRun := fs.Bool("dry-run", false, "print the plan without sending anything")
	lmbench := fs.Bool("lmbench", false, "also write each point in LMBenchmark's JSON format")
	from := fs.String("from", "", "re-run the run recorded in this results folder, from its results.json alone")
	fs.Func("shard", "run part `I/N` of the grid: N disjoint parts, I from 0 to N-1 (as Kubernetes' JOB_COMPLETION_INDEX); mrqa merge combines them", func(v string) error {
		var err error
		fc.shard, err = spec.ParseShard(v)
		return err
	})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	e := &execRun{args: args, dryRun: *dryRun, stdout: stdout, stderr: stderr, ropts: rt.Options{
		OutDir:        *out,
		Resume:        *resume,
		Force:         *force,
		LMBench:       *lmbench,
		Progress:      stderr,
		Terminal:      isTerminal(stderr),
		TerminalWidth: terminalWidth(stderr),
		Version:       version(),
		Tokenizers:    tokenizer.NewCache(),
		Shard:         fc.shard,
	}}
	if *from != "" {
		if fc.shard.Count > 0 {
			return e.usage(fmt.Errorf("-from %s: -shard does not apply: a re-run runs the recorded run's points (-from of a shard's folder re-runs that shard)", *from))
		}
		return e.from(ctx, &fc, fromRun{dir: *from, outGiven: flagGiven(fs, "out")}, pos)
	}
	file, selected, code := fc.load(pos, stderr)
	if code != exitcode.OK {
		return code
	}
	e.file = file
	e.hint = func() string { return resumeHint(pos, args, file) }
	return e.run(ctx, selected)
}

// execRun is one exec: the loaded configuration, the scenarios' run
// options, and where to print.
type execRun struct {
	file   *spec.File
	ropts  rt.Options
	args   []string
	dryRun bool
	// hint is the command that resumes the run, secrets hidden.
	hint           func() string
	stdout, stderr io.Writer
}

// run runs the selected scenarios one after another (or prints their
// plans with -dry-run), and the comparison page when several ran.
func (e *execRun) run(ctx context.Context, selected []*spec.Scenario) int {
	e.ropts.Scenarios = scenarioNames(selected)
	selected = skipPointless(selected, e.ropts.Shard, e.stderr)
	for _, sc := range selected {
		if err := spec.CheckShard(sc, e.ropts.Shard); err != nil {
			return e.usage(err)
		}
	}
	if e.dryRun {
		for _, sc := range selected {
			if err := rt.DryRun(e.stdout, sc, e.ropts.Shard, e.file.Secrets); err != nil {
				return e.usage(err)
			}
		}
		return exitcode.OK
	}
	if err := rt.CheckDirs(selected, e.ropts.OutDir); err != nil {
		fmt.Fprintln(e.stderr, "mrqa exec:", rt.Redact(err.Error(), e.file.Secrets))
		return exitcode.Usage
	}
	code := exitcode.OK
	var ran []*results.Results
	for _, sc := range selected {
		if ctx.Err() != nil {
			code = worse(code, exitcode.Interrupted)
			break
		}
		r, c := e.scenario(ctx, sc)
		code = worse(code, c)
		if r != nil {
			ran = append(ran, r)
		}
	}
	if len(ran) > 1 {
		code = worse(code, showCompare("exec", e.ropts.OutDir, ran, e.file.Secrets, e.stdout, e.stderr))
	}
	return code
}

// scenario runs one scenario, writes its report and prints its table;
// it returns the results when a point ran, and the exit code.
func (e *execRun) scenario(ctx context.Context, sc *spec.Scenario) (*results.Results, int) {
	stdout, stderr := e.stdout, e.stderr
	r, err := rt.Run(ctx, e.file, sc, e.ropts)
	dir := rt.Dir(sc, e.ropts.OutDir)
	code := exitcode.OK
	var shown *results.Results
	if r != nil && len(r.Points) > 0 {
		shown = r
		code = showRun("exec", dir, r, e.file.Secrets, stdout, stderr)
	}
	switch {
	case err == nil:
		code = worse(code, expectCode(r, stderr))
	case errors.Is(err, rt.ErrInterrupted) || ctx.Err() != nil:
		fmt.Fprintf(stderr, "%s: interrupted; results so far are in %s\nresume with: %s\n", sc.Name, dir, e.hint())
		code = worse(code, exitcode.Interrupted)
	default:
		fmt.Fprintf(stderr, "%s: %s\n", sc.Name, rt.Redact(err.Error(), e.file.Secrets))
		if errors.Is(err, rt.ErrPlan) || errors.Is(err, rt.ErrOutputInUse) || errors.Is(err, rt.ErrNotReproduced) {
			return shown, worse(code, exitcode.Usage)
		}
		if errors.Is(err, rt.ErrTargetDown) {
			fmt.Fprintf(stderr, "results so far are in %s; resume with: %s\n", dir, e.hint())
		}
		code = worse(code, exitcode.Failure)
	}
	return shown, code
}

// scenarioNames are the selected scenarios' names, which results.json records
// so that a merge can tell a scenario no shard ran.
func scenarioNames(selected []*spec.Scenario) []string {
	names := make([]string, len(selected))
	for i, sc := range selected {
		names[i] = sc.Name
	}
	return names
}

// skipPointless leaves out, saying so, the grid scenarios of which shard
// runs no point (a grid with fewer points than shards): their other shards
// run them, and merge knows from the deal that this shard owes none. When
// every scenario is such, none is left out, and CheckShard refuses them.
func skipPointless(selected []*spec.Scenario, shard spec.Shard, stderr io.Writer) []*spec.Scenario {
	var keep []*spec.Scenario
	for _, sc := range selected {
		if !shard.Sharded() || sc.Users != nil || sc.Search != nil || len(shard.Points(sc.Grid)) > 0 {
			keep = append(keep, sc)
			continue
		}
		n := len(sc.Grid.Points())
		fmt.Fprintf(stderr, "mrqa exec: scenario %q skipped: its grid has %d point%s, none of them shard %s's\n", sc.Name, n, plural(n), shard)
	}
	if len(keep) == 0 {
		return selected
	}
	return keep
}

// showRun writes a run's report into dir and prints its summary and the
// report's path, as exec and merge do after each scenario.
func showRun(cmd, dir string, r *results.Results, secrets []string, stdout, stderr io.Writer) int {
	code := exitcode.OK
	if err := writeReport(dir, r, secrets); err != nil {
		fmt.Fprintf(stderr, "mrqa %s: %v\n", cmd, err)
		code = exitcode.Failure
	}
	fmt.Fprintf(stdout, "\n== %s ==\n", r.Scenario)
	report.Terminal(stdout, r)
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.html"))
	return code
}

// expectCode is exitcode.Expect, said on stderr, when the run's expect was
// not met, and exitcode.Failure when it could not be judged because points
// of the grid did not run: an incomplete sweep, never a pass nor a fail.
func expectCode(r *results.Results, stderr io.Writer) int {
	switch r.ExpectOutcome {
	case "", metrics.Pass:
		return exitcode.OK
	case metrics.NotJudged:
		n := len(r.NotRun())
		fmt.Fprintf(stderr, "%s: expect %q not judged: %d point%s of the grid did not run\n", r.Scenario, r.Expect, n, plural(n))
		return exitcode.Failure
	}
	fmt.Fprintf(stderr, "%s: expect %q not met (%s)\n", r.Scenario, r.Expect, r.ExpectOutcome)
	return exitcode.Expect
}

// showCompare writes out/compare.html for several scenarios and prints its path.
func showCompare(cmd, out string, ran []*results.Results, secrets []string, stdout, stderr io.Writer) int {
	path := filepath.Join(out, "compare.html")
	if err := writeCompare(path, ran, secrets); err != nil {
		fmt.Fprintf(stderr, "mrqa %s: %v\n", cmd, err)
		return exitcode.Failure
	}
	fmt.Fprintf(stdout, "comparison: %s\n", path)
	return exitcode.OK
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// worse keeps the exit code that ranks first in the order 2, 130, 1, 99, 0:
// a usage error outranks an interrupt, which outranks a failure, which
// outranks an expect not met (docs/architecture.md, "Exit codes").
func worse(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitcode.Usage:
			return 4
		case exitcode.Interrupted:
			return 3
		case exitcode.Failure:
			return 2
		case exitcode.Expect:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// resumeHint is the command that resumes the run: the flags a resumed run
// needs (variables, scenario selection, output dir), leaving out -resume
// itself, with no secret in it. A sensitive variable's value, URL
// credentials and any other secret of the file become "...", and a second
// line asks the user to put the real values back (from the environment
// instead, a variable's source would differ and the run would start over).
func resumeHint(paths []string, args []string, file *spec.File) string {
	h := hider{sensitive: map[string]bool{}, secrets: rt.NewRedactor(file.Secrets, secretPlaceholder)}
	for _, v := range file.Variables {
		h.sensitive[v.Name] = v.Sensitive
	}
	cmd := "mrqa exec"
	for _, p := range paths {
		cmd += " " + shellQuote(h.value(p))
	}
	cmd += " -resume" + resumeArgs(args, &h)
	if !h.hid {
		return cmd
	}
	return cmd + "\n(secrets are not repeated: replace each " + secretPlaceholder + " with the secret)"
}

// secretPlaceholder stands for a secret in the resume hint.
const secretPlaceholder = "..."

// hider replaces the secrets in resume hint arguments and notes that it did.
type hider struct {
	sensitive map[string]bool // variable name → sensitive
	secrets   *rt.Redactor
	hid       bool
}

// value hides the secrets of an argument: URL credentials, then any secret
// of the file.
func (h *hider) value(v string) string {
	out := h.secrets.Apply(stripCredentials(v))
	h.hid = h.hid || out != v
	return out
}

// variable hides a -var argument: a sensitive variable's whole value, or
// the secrets inside another's.
func (h *hider) variable(kv string) string {
	name, val, _ := strings.Cut(kv, "=")
	if h.sensitive[name] {
		h.hid = true
		return name + "=" + secretPlaceholder
	}
	return name + "=" + h.value(val)
}

// stripCredentials replaces the user information of every URL in s
// ("scheme://user:password@host") by the placeholder.
func stripCredentials(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?# ")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndex(s[:end], "@"); at >= 0 {
			b.WriteString(secretPlaceholder)
			s = s[at:]
		}
	}
}

// resumeArgs repeats the flags a resumed run needs, each value hidden by h.
func resumeArgs(args []string, h *hider) string {
	var b strings.Builder
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		base, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case base == "lmbench":
			b.WriteString(" " + a)
			continue
		case !valueFlag(base):
			continue
		case !hasVal && i+1 >= len(args):
			continue
		case !hasVal:
			i++
			val = args[i]
		}
		if base == "var" {
			val = h.variable(val)
		} else {
			val = h.value(val)
		}
		b.WriteString(" -" + base + " " + shellQuote(val))
	}
	return b.String()
}

// valueFlag reports whether a resumed run needs the flag and its value.
func valueFlag(name string) bool {
	switch name {
	case "var", "var-file", "scenario", "out", "shard":
		return true
	}
	return false
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeReport(dir string, r *results.Results, secrets []string) error {
	return writeReportOpts(dir, r, report.Options{Secrets: secrets})
}

// writeReportOpts writes dir/report.html with the given options.
func writeReportOpts(dir string, r *results.Results, opts report.Options) error {
	var b strings.Builder
	if err := report.Write(&b, r, opts); err != nil {
		return fmt.Errorf("report for %s: %w", r.Scenario, err)
	}
	return results.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()))
}

func writeCompare(path string, rs []*results.Results, secrets []string) error {
	return writeCompareOpts(path, rs, report.Options{Secrets: secrets})
}

// writeCompareOpts writes the comparison page at path with the given options.
func writeCompareOpts(path string, rs []*results.Results, opts report.Options) error {
	var b strings.Builder
	if err := report.WriteCompare(&b, rs, opts); err != nil {
		return fmt.Errorf("comparison page: %w", err)
	}
	return results.WriteFile(path, []byte(b.String()))
}

// isTerminal reports whether w is a character device (a terminal), so
// progress can redraw one line instead of printing many.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

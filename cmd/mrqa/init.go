package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/dsl/starter"
	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

const initUsage = `usage: mrqa init [-target URL] [-model ID] [-api-key-env NAME] [-split] [-force] [DIR]

Writes DIR/mrqa.hcl (DIR defaults to the current directory and is created
if missing): a commented scenario that validates as written, each value
saying why it was picked. It never replaces an existing file without -force.
With -split it writes the same configuration as two files that load as one
(mrqa exec DIR): DIR/workload.hcl, the workload a platform team publishes,
and DIR/target.hcl, the target "server" a serving team replaces with its own.

With -target (an OpenAI-compatible server, its root with or without /v1), it
reads GET /v1/models for the model (the only one listed, or -model) and its
context length (max_model_len, which vLLM and SGLang list), and fits the
workload to that: three quarters of the context (4096 tokens when the server
states none) hold a document and every answer; max_tokens is a 64th of the
context as a power of two from 64 to 256; 3 follow-up rounds from a
16384-token context, 2 below; documents stop at 131072 tokens. The grid is
C 1,2,4,8 × S 1,2,4, with variables to shrink it from the command line.
Without -target, the file runs the embedded simulator on its virtual clock.

example:
  mrqa init -target http://127.0.0.1:8000 -api-key-env VLLM_API_KEY bench
  mrqa init                                   # the embedded simulator
`

// initFlags are init's options.
type initFlags struct {
	target, model, apiKeyEnv string
	force, split             bool
}

// usagef is an init failure the command line fixes: exit 2. Any other error
// is a run-time failure: exit 1.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", initUsage, stdout, stderr)
	var o initFlags
	fs.StringVar(&o.target, "target", "", "the server's OpenAI-compatible root `URL`, with or without /v1 (default: the embedded simulator)")
	fs.StringVar(&o.model, "model", "", "the model `ID` to measure, when the server lists several")
	fs.StringVar(&o.apiKeyEnv, "api-key-env", "", "the `NAME` of the environment variable holding the server's API key (the file reads it with env(); the key is never written)")
	fs.BoolVar(&o.force, "force", false, "replace the files init writes when they exist")
	fs.BoolVar(&o.split, "split", false, "write a shared workload (workload.hcl) and the target it runs against (target.hcl) as two files of DIR")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if err := initFile(ctx, &o, pos, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "mrqa init:", err)
		switch {
		case errors.As(err, new(*usageError)):
			return exitcode.Usage
		case ctx.Err() != nil:
			return exitcode.Interrupted
		}
		return exitcode.Failure
	}
	return exitcode.OK
}

// initFile writes the starter file: arguments checked first, then the
// server asked, then the file rendered and proved to load, and only then
// written.
func initFile(ctx context.Context, o *initFlags, pos []string, stdout, stderr io.Writer) error {
	dir, err := o.check(pos)
	if err != nil {
		return err
	}
	t := starter.Target{APIKeyEnv: o.apiKeyEnv}
	if o.target != "" {
		if t, err = o.discover(ctx, stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "target: the embedded simulator, profile %s, on its virtual clock (-target URL measures a server)\n", starter.SimProfile)
	}
	files, choice, err := o.render(t, dir)
	if err != nil {
		return err
	}
	if !o.split { // -split refuses a folder holding any other .hcl file
		if err := checkBeside(files[0]); err != nil {
			return err
		}
	}
	if err := writeStarters(files, o.force); err != nil {
		return err
	}
	if choice.Assumed {
		fmt.Fprintf(stderr, "mrqa init: the server does not state its context length (no max_model_len in /v1/models): assuming %d tokens, a conservative default; if the model takes more, raise document_tokens in %s\n",
			choice.Context, files[0].path)
	}
	run := files[0].path // what validate and exec are given: the file, or the pair's folder
	if o.split {
		run = dir
	}
	printWritten(stdout, files, run, &choice)
	return nil
}

// starterFile is one file init writes.
type starterFile struct {
	path string
	src  []byte
}

// render fills the starter in dir: one file, or with -split the workload
// first and its target beside it.
func (o *initFlags) render(t starter.Target, dir string) ([]starterFile, starter.Choice, error) {
	if !o.split {
		path := filepath.Join(dir, starter.FileName)
		f, err := starter.Render(t, path, os.Environ())
		return []starterFile{{path, f.Src}}, f.Choice, err
	}
	p, err := starter.RenderPair(t, dir, os.Environ())
	return []starterFile{
		{filepath.Join(dir, starter.WorkloadFileName), p.Workload},
		{filepath.Join(dir, starter.TargetFileName), p.Target},
	}, p.Choice, err
}

// checkBeside proves the starter file validates together with the
// variable files already in its folder, which every later command loads
// with it; when they break it, it names them and the problem.
func checkBeside(f starterFile) error {
	dir := filepath.Dir(f.path)
	_, vars, err := dsl.FolderFiles(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new folder: nothing beside the file yet
	}
	if err != nil {
		return fmt.Errorf("list the variable files of %s: %w", dir, err)
	}
	if len(vars) == 0 {
		return nil
	}
	srcs := []dsl.Source{{Path: f.path, Text: f.src}}
	for _, v := range vars {
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("read variable file: %w", err)
		}
		srcs = append(srcs, dsl.Source{Path: v, Text: b})
	}
	l := dsl.LoadSources(srcs, dsl.Options{Env: os.Environ()})
	if !l.Diags.HasErrors() {
		return nil
	}
	var out strings.Builder
	_ = l.WriteDiagnostics(&out)
	return usagef("%s would not validate with the variable files beside it (%s), which mrqa loads with it; nothing written. Fix or move them, or write the file into another folder:\n%s",
		f.path, strings.Join(vars, ", "), strings.TrimRight(out.String(), "\n"))
}

// writeStarters writes every file, or none: a file written before one
// that fails is removed again.
func writeStarters(files []starterFile, force bool) error {
	for i, f := range files {
		if err := writeStarter(f.path, f.src, force); err != nil {
			for _, done := range files[:i] {
				if !force {
					os.Remove(done.path) // created by this run, a moment ago
				}
			}
			return err
		}
	}
	return nil
}

// envName is what -api-key-env accepts: the file writes it into env("…").
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// check validates the arguments and returns the directory to write in; it
// refuses an existing file without -force before anything is sent.
func (o *initFlags) check(pos []string) (string, error) {
	if len(pos) > 1 {
		return "", usagef("want at most one directory, got %d arguments (see mrqa init -h)", len(pos))
	}
	if o.target == "" && (o.model != "" || o.apiKeyEnv != "") {
		return "", usagef("-model and -api-key-env describe a server: give its URL with -target")
	}
	if o.apiKeyEnv != "" && !envName.MatchString(o.apiKeyEnv) {
		return "", usagef("-api-key-env %q: want an environment variable's name (letters, digits and _)", o.apiKeyEnv)
	}
	if o.apiKeyEnv != "" && os.Getenv(o.apiKeyEnv) == "" {
		return "", usagef("-api-key-env %s: the environment variable is not set", o.apiKeyEnv)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	names := []string{starter.FileName}
	if o.split {
		names = []string{starter.WorkloadFileName, starter.TargetFileName}
		if err := otherConfigFiles(dir, names); err != nil {
			return "", err
		}
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil && !o.force {
			return "", usagef("%s exists; -force replaces it", path)
		}
	}
	return dir, nil
}

// otherConfigFiles refuses a directory that holds .hcl files besides
// names: mrqa exec DIR would read them as part of the pair's configuration.
func otherConfigFiles(dir string, names []string) error {
	found, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return err
	}
	var others []string
	for _, f := range found {
		if base := filepath.Base(f); !slices.Contains(names, base) && !strings.HasPrefix(base, ".") {
			others = append(others, base)
		}
	}
	if len(others) > 0 {
		return usagef("-split writes a configuration that mrqa exec %s reads whole, and %s already holds %s; give a new or empty directory",
			dir, dir, strings.Join(others, ", "))
	}
	return nil
}

// discover asks the server for its models: the base URL as given when it
// ends in /v1, otherwise with /v1 added first and as given second.
func (o *initFlags) discover(ctx context.Context, stdout io.Writer) (starter.Target, error) {
	bases, err := targetBases(o.target)
	if err != nil {
		return starter.Target{}, err
	}
	key := ""
	if o.apiKeyEnv != "" {
		key = os.Getenv(o.apiKeyEnv)
	}
	var first error
	for i, base := range bases {
		models, status, err := listModels(ctx, base, key)
		switch {
		case err == nil:
			fmt.Fprintf(stdout, "target: %s (%s)\n", base, baseNote(bases, i))
			return o.chooseModel(stdout, base, models)
		case first == nil && status == http.StatusNotFound && i+1 < len(bases):
			first = err
		case first != nil && status == http.StatusNotFound:
			return starter.Target{}, fmt.Errorf("%w; %s/models answers 404 too", first, base)
		default:
			return starter.Target{}, err
		}
	}
	return starter.Target{}, first // not reached: the last base returns above
}

// targetBases are the base URLs -target may mean, in the order tried.
func targetBases(raw string) ([]string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error quotes the whole URL, credentials included: keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, usagef("-target: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, usagef("-target %q: want http(s)://host[:port][/v1]", u.Redacted())
	case u.User != nil:
		return nil, usagef("-target carries credentials, which the file would keep: pass the API key with -api-key-env NAME instead")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, usagef("-target %q: want a root URL, without a query or fragment", u.Redacted())
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), ""
	given := u.String()
	if strings.HasSuffix(strings.ToLower(u.Path), "/v1") {
		return []string{given}, nil
	}
	u.Path += "/v1"
	return []string{u.String(), given}, nil
}

// baseNote says which form of -target answered.
func baseNote(bases []string, i int) string {
	switch {
	case len(bases) == 1:
		return "as given"
	case i == 0:
		return "/v1 added to -target: OpenAI-compatible servers serve their API there"
	}
	return "as given: it has no /v1, and /v1 answers 404"
}

// listModels reads base/models with the client rules of exec's preflight:
// its timeouts, redirect policy and TLS defaults, the key as a bearer token.
func listModels(ctx context.Context, base, key string) ([]openai.Model, int, error) {
	c, err := openai.New(openai.Config{BaseURL: base, APIKey: key, ConnectTimeout: spec.DefaultConnectTimeout})
	if err != nil {
		return nil, 0, usagef("-target: %v", err)
	}
	return c.Models(ctx)
}

// chooseModel picks -model, or the only model listed, and says which.
func (o *initFlags) chooseModel(stdout io.Writer, base string, models []openai.Model) (starter.Target, error) {
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	t := starter.Target{BaseURL: base, Listed: len(models), APIKeyEnv: o.apiKeyEnv}
	i := slices.Index(ids, o.model)
	switch {
	case len(models) == 0:
		return t, fmt.Errorf("%s/models lists no model", base)
	case o.model == "" && len(models) > 1:
		return t, usagef("%s serves several models (%s): choose one with -model", base, openai.ModelList(ids))
	case o.model == "":
		i = 0
	case i < 0:
		return t, usagef("model %q is not served by %s; it lists: %s", o.model, base, openai.ModelList(ids))
	}
	t.Model, t.MaxModelLen = models[i].ID, models[i].MaxModelLen
	if t.Model == "" {
		return t, fmt.Errorf("%s/models lists a model without an id", base)
	}
	if t.MaxModelLen < 0 {
		return t, fmt.Errorf("%s/models lists max_model_len %d for model %q: a context length cannot be negative; fix the server's configuration", base, t.MaxModelLen, t.Model)
	}
	context := "no max_model_len listed"
	if t.MaxModelLen > 0 {
		context = fmt.Sprintf("max_model_len %d", t.MaxModelLen)
	}
	fmt.Fprintf(stdout, "model: %q (%d listed), %s\n", t.Model, len(models), context)
	return t, nil
}

// writeStarter writes the file, creating its directory; without force it
// never replaces a file, even one created since check looked.
func writeStarter(path string, src []byte, force bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err // names the directory
	}
	if force {
		if err := atomicfile.WriteBytes(path, src, atomicfile.Options{Pattern: ".mrqa-init-*", Perm: 0o644}); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return usagef("%s exists; -force replaces it", path)
	}
	if err != nil {
		return err // names the file
	}
	_, err = f.Write(src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // a half-written file would not validate
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// printWritten says what the files hold and what to run next: mrqa
// validate and exec of run, the file or the pair's folder.
func printWritten(w io.Writer, files []starterFile, run string, ch *starter.Choice) {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	fmt.Fprintf(w, "wrote %s: documents of %d tokens, %d follow-up rounds, max_tokens %d, grid C %v × S %v, for a context of %d tokens\n",
		strings.Join(paths, " and "), ch.DocumentTokens, ch.Rounds, ch.MaxTokens, ch.Concurrent, ch.Sequential, ch.Context)
	fmt.Fprintf(w, "\nnext:\n  mrqa validate %s\n  mrqa exec %s\n", shellQuote(run), shellQuote(run))
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
	rt "github.com/mrqa-dev/mrqa/runtime"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

const validateUsage = `usage: mrqa validate FILE.hcl... | DIR [-var name=value]... [-var-file F]...

Parses and type-checks the configuration (one file, several, or every .hcl
file directly in DIR), compiles its SLO conditions, prints every diagnostic
at once and then the plan: scenarios, targets, grid points, sessions, total
requests. Exit 2 on any error.

example:
  mrqa validate scenarios/novel-critic.hcl -var base_url=http://gpu1:8000/v1
  mrqa validate scenarios/shared-critic/
`

func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", validateUsage, stdout, stderr)
	fc := fileCommand{name: "validate"}
	fc.register(fs, false)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	file, _, code := fc.load(pos, stderr)
	if code != exitcode.OK {
		return code
	}
	dsl.WritePlan(stdout, file)
	return exitcode.OK
}

const fmtUsage = `usage: mrqa fmt [-check] [-w] FILE|DIR...

Prints each FILE in canonical format, or with -w rewrites it in place; a
DIR stands for every .hcl file directly in it (variable files included).
With -check, lists the files that would change and exits 1 if any would.

example:
  mrqa fmt -check scenarios/*.hcl
`

func runFmt(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", fmtUsage, stdout, stderr)
	check := fs.Bool("check", false, "list files that are not formatted; exit 1 if any")
	write := fs.Bool("w", false, "rewrite files in place")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "mrqa fmt: want at least one file")
		return exitcode.Usage
	}
	return dsl.Fmt(pos, *check, *write, stdout, stderr)
}

const prepareUsage = `usage: mrqa prepare FILE.hcl... | DIR [-var name=value]... [-scenario NAME]...

Downloads the Gutenberg books a configuration's corpora name into the cache
and slices every corpus, so that exec needs no network. Prints per book what
was fetched or skipped and why.

example:
  mrqa prepare scenarios/novel-critic.hcl
`

func runPrepare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("prepare", prepareUsage, stdout, stderr)
	fc := fileCommand{name: "prepare"}
	fc.register(fs, true)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	_, selected, code := fc.load(pos, stderr)
	if code != exitcode.OK {
		return code
	}
	var corpora []*spec.Corpus
	target := map[*spec.Corpus]*spec.Target{} // the first scenario's, for tokenizer = "server"
	for _, sc := range selected {
		if _, seen := target[sc.Corpus]; !seen {
			target[sc.Corpus] = sc.Target
			corpora = append(corpora, sc.Corpus)
		}
	}
	opts := corpus.Options{Tokenizers: tokenizer.NewCache(), Progress: stderr,
		TokenizerFor: func(c *spec.Corpus) (tokenizer.Options, error) {
			return rt.TokenizerOptions(tokenizer.Options{}, target[c])
		}}
	err = corpus.Prepare(ctx, corpora, opts, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "mrqa prepare:", err)
		if ctx.Err() != nil {
			return exitcode.Interrupted
		}
		return exitcode.Failure
	}
	return exitcode.OK
}

const simUsage = `usage: mrqa sim [-profile P] [-addr 127.0.0.1:8000]

Serves the embedded simulator as an OpenAI-compatible server on the real
clock, so other tools (or mrqa against a plain target) can be pointed at it.
Stops on Ctrl-C. A scenario's simulator block runs the same profiles in
process, on the real or the virtual clock (docs/simulator.md).

example:
  mrqa sim -profile seed-vllm -addr 127.0.0.1:8000
`

// simProfiles lists the simulator's profiles for sim -h, one line each.
func simProfiles() string {
	var b strings.Builder
	b.WriteString("\nprofiles:\n")
	for _, name := range profile.Names() {
		d, err := profile.Describe(name)
		if err != nil {
			d = err.Error()
		}
		fmt.Fprintf(&b, "  %-13s %s\n", name, d)
	}
	return b.String()
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sim", simUsage+simProfiles(), stdout, stderr)
	names := profile.Names()
	profileFlag := fs.String("profile", profile.Default, "simulator profile: "+
		strings.Join(names[:len(names)-1], ", ")+" or "+names[len(names)-1])
	addr := fs.String("addr", "127.0.0.1:8000", "address to listen on")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 0 {
		fmt.Fprintln(stderr, "mrqa sim: takes no arguments")
		return exitcode.Usage
	}
	if _, err := profile.Config(*profileFlag); err != nil {
		fmt.Fprintln(stderr, "mrqa sim:", err)
		return exitcode.Usage
	}
	if err := sim.Serve(ctx, *profileFlag, *addr, stdout); err != nil {
		fmt.Fprintln(stderr, "mrqa sim:", err)
		return exitcode.Failure
	}
	return exitcode.OK
}

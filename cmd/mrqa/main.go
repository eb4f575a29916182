// Command mrqa finds how many user sessions an LLM inference server can keep
// active while its steady-state time to first token stays under an SLO.
//
// It is a thin shell: flags and exit codes here, everything else in dsl and
// runtime.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mrqa-dev/mrqa/internal/exitcode"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the CLI with args (without the program name) and returns the
// exit code. The first interrupt cancels the run; a second exits at once.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "\ninterrupt: cancelling requests in flight and writing results (interrupt again to exit now)")
		cancel()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "interrupted twice: exiting without finishing")
			os.Exit(exitcode.Interrupted)
		case <-done:
		}
	}()
	return dispatch(ctx, args, stdout, stderr)
}

// command is one subcommand. Its run prints the usage and the flags on -h,
// which is also what "mrqa help NAME" shows.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"init", "write a starter scenario file for a server, or the simulator", runInit},
		{"exec", "run a scenario file's sweeps and write results and reports", runExec},
		{"validate", "check a scenario file and print the plan", runValidate},
		{"fmt", "rewrite scenario files in canonical format", runFmt},
		{"prepare", "download and slice a scenario file's corpora ahead of a run", runPrepare},
		{"sim", "serve the embedded simulator over HTTP", runSim},
		{"calibrate", "probe a server briefly and fit a simulator profile to it", runCalibrate},
		{"merge", "combine the shards of a sweep (exec -shard) into one result", runMerge},
		{"report", "render reports again from results or LMBenchmark run files", runReport},
		{"version", "print mrqa's version, revision and Go build", runVersion},
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		topUsage(stdout)
		return exitcode.Usage
	}
	switch args[0] {
	case "-h", "--help", "help":
		return help(ctx, args[1:], stdout, stderr)
	case "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mrqa: unknown command %q\n\n", args[0])
	topUsage(stderr)
	return exitcode.Usage
}

// help prints the overview, or with a command name what "mrqa NAME -h"
// prints: the command's usage and its flags.
func help(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		topUsage(stdout)
		return exitcode.OK
	}
	c, ok := lookup(args[0])
	if !ok || len(args) > 1 {
		fmt.Fprintf(stderr, "mrqa help: unknown command %q (have %s)\n", strings.Join(args, " "), commandNames())
		return exitcode.Usage
	}
	return c.run(ctx, []string{"-h"}, stdout, stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `mrqa finds how many user sessions an LLM server keeps active while steady-state TTFT stays under an SLO.

usage: mrqa <command> [flags] [args]

commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
example:
  mrqa exec scenarios/quickstart.hcl      # then open out/quickstart/report.html
  mrqa init -target http://127.0.0.1:8000 # a starter scenario for your server

Run 'mrqa help <command>' or 'mrqa <command> -h' for a command's flags.
`)
}

// parseInterspersed parses flags that may come before or after positional
// arguments; the standard flag package stops at the first positional one.
// "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed a "--" if it stopped there: everything after is positional.
		if consumedDashDash(args, rest) {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func consumedDashDash(args, rest []string) bool {
	i := len(args) - len(rest) - 1
	return i >= 0 && args[i] == "--"
}

// newFlagSet returns a flag set whose usage text is the command's, printed to stdout on -h.
func newFlagSet(name, usage string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stdout, usage)
		if !hasFlags(fs) {
			return
		}
		fmt.Fprintln(stdout, "\nflags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagExit maps a flag parse error to an exit code: -h is success.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitcode.OK
	}
	return exitcode.Usage
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

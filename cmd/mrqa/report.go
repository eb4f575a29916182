package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mrqa-dev/mrqa/internal/exitcode"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/report"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

const reportUsage = `usage: mrqa report [-out DIR] [-slo COND]... [-score sessions|harmonic] [-lmbench seed|later] DIR...

Renders reports again without re-running: each DIR is an mrqa scenario
output directory (with results.json) or a directory of LMBenchmark run files
(bench_*.json). Prints the seed-style table and best point for each, writes
report.html beside results.json (or under -out), and compare.html when
several are given. Given an output folder itself (out, holding the scenario
folders out/a, out/b but no results.json), it renders nothing, names the
scenario folders in a command to run instead and exits 2.

An LMBenchmark directory must hold one run: files whose fixed parameters
(base_url, model, num_rounds, answer_len, src_dir, ...) differ are refused
(exit 2). It is judged as the source's plot script judges it, ttft p95 over
the follow-up turns of successful requests within 2 s and the largest C×S,
unless -slo (an SLO condition as in a scenario file; repeat for several,
all must hold) or -score harmonic (the source's later rule, 2CS/(C+S))
says otherwise.

-measured DIR sets a measured run of the same scenario beside each
reported run (a prediction on a calibrated simulator profile): per point
both ttft_p95 and SLO verdicts, and the best point of each, on the terminal
and in the report.

-lmbench writes every point of an mrqa run as LMBenchmark run files in
lmbench/ beside its report: seed (num_users_concurrent/num_users_sequential,
what exec -lmbench writes) or later (concurrent/session_depth).

example:
  mrqa report out/baseline out/lmcache
  mrqa report -out out/vllm ./bench_dir_vllm
  mrqa report -score harmonic -slo 'ttft_p95 <= 1s' ./bench_dir_vllm
  mrqa report -lmbench later out/novel_critic
  mrqa report -measured out/gpu-run out/whatif
`

// reportFlags are the report command's settings.
type reportFlags struct {
	out     string
	slos    multiFlag
	score   string
	lmbench string
	// measured is -measured's folder, and measuredRun its results: a
	// measured run each reported (predicted) run is set beside.
	measured    string
	measuredRun *results.Results
}

func runReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", reportUsage, stdout, stderr)
	var rf reportFlags
	fs.StringVar(&rf.out, "out", "", "where to write reports (default: beside results.json; out/<dir name> for LMBenchmark directories)")
	fs.Var(&rf.slos, "slo", "an SLO condition that judges LMBenchmark run files (default \""+results.LMBenchSLO+"\"); repeatable")
	fs.StringVar(&rf.score, "score", "", "how LMBenchmark run files' best point is chosen: sessions (default) or harmonic")
	fs.StringVar(&rf.lmbench, "lmbench", "", "also write an mrqa run's points as LMBenchmark run files: seed or later")
	fs.StringVar(&rf.measured, "measured", "", "a measured run (mrqa folder or LMBenchmark files) to show point by point beside each predicted run")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "mrqa report: want at least one directory")
		return exitcode.Usage
	}
	if err := rf.check(); err != nil {
		fmt.Fprintln(stderr, "mrqa report:", err)
		return exitcode.Usage
	}
	if rf.measured != "" {
		if rf.measuredRun, _, err = loadReportDir(rf.measured, &rf); err != nil {
			fmt.Fprintln(stderr, "mrqa report: -measured:", err)
			return exitcode.Failure
		}
	}
	var all []*results.Results
	var labels []string // each run's folder, which names runs of one scenario apart
	code := exitcode.OK
	for _, dir := range pos {
		r, c := reportDir(dir, &rf, len(pos) > 1, stdout, stderr)
		code = max(code, c)
		if r != nil {
			all = append(all, r)
			labels = append(labels, filepath.Clean(dir))
		}
	}
	if len(all) > 1 {
		code = max(code, reportCompare(rf.out, all, labels, stdout, stderr))
	}
	return code
}

// check rejects flag values before any directory is read.
func (rf *reportFlags) check() error {
	if rf.score != "" && rf.score != search.ScoreSessions && rf.score != search.ScoreHarmonic {
		return fmt.Errorf("-score %q: want %s or %s", rf.score, search.ScoreSessions, search.ScoreHarmonic)
	}
	for _, s := range rf.slos {
		if _, err := metrics.Compile(s, metrics.ScopePoint); err != nil {
			return fmt.Errorf("-slo %q: %w", s, err)
		}
	}
	if rf.lmbench != "" && rf.lmbench != results.LMBenchSeed && rf.lmbench != results.LMBenchLater {
		return fmt.Errorf("-lmbench %q: want %s or %s", rf.lmbench, results.LMBenchSeed, results.LMBenchLater)
	}
	return nil
}

// judging reports whether -slo or -score was given.
func (rf *reportFlags) judging() bool { return len(rf.slos) > 0 || rf.score != "" }

// sloList names the -slo conditions: "slo", or slo1, slo2, … when several.
func (rf *reportFlags) sloList() []results.SLO {
	if len(rf.slos) == 0 {
		return []results.SLO{{Name: "ttft", Condition: results.LMBenchSLO}}
	}
	out := make([]results.SLO, len(rf.slos))
	for i, c := range rf.slos {
		out[i] = results.SLO{Name: "slo", Condition: c}
		if len(rf.slos) > 1 {
			out[i].Name = fmt.Sprintf("slo%d", i+1)
		}
	}
	return out
}

// reportDir loads one directory, prints its table and writes its report
// (and run files with -lmbench). It returns the results when they could be
// read, and the exit code.
// sameRun reports whether two results are one run: the same scenario
// started at the same instant.
func sameRun(a, b *results.Results) bool {
	return a.Scenario == b.Scenario && a.Started.Equal(b.Started)
}

func reportDir(dir string, rf *reportFlags, several bool, stdout, stderr io.Writer) (*results.Results, int) {
	r, dest, err := loadReportDir(dir, rf)
	if err != nil {
		fmt.Fprintln(stderr, "mrqa report:", err)
		var mixed *results.MixedRunsError
		var usage *usageError
		if errors.As(err, &mixed) || errors.As(err, &usage) {
			return nil, exitcode.Usage
		}
		return nil, exitcode.Failure
	}
	if rf.out != "" {
		dest = rf.out
		if several {
			dest = filepath.Join(rf.out, filepath.Base(filepath.Clean(dir)))
		}
	}
	if rf.measuredRun != nil {
		if why := versusProblem(dir, r, rf.measured, rf.measuredRun); why != "" {
			fmt.Fprintln(stderr, "mrqa report: -measured:", why)
			return nil, exitcode.Usage
		}
	}
	if other, err := results.Load(dest); err == nil && !sameRun(other, r) {
		fmt.Fprintf(stderr, "mrqa report: %s holds another run (scenario %q, started %s): its report would sit beside the wrong results; choose another -out\n",
			dest, other.Scenario, other.Started.Format("2006-01-02 15:04 MST"))
		return nil, exitcode.Usage
	}
	fmt.Fprintf(stdout, "== %s ==\n", r.Scenario)
	report.Terminal(stdout, r)
	if r.Score == search.ScoreHarmonic && r.Best != nil {
		b := r.Best
		fmt.Fprintf(stdout, "Max harmonic mean 2CS/(C+S) where %s: %.2f  => C=%d, S=%d, CxS=%d\n",
			conditions(r.SLOs), b.Score, b.Concurrent, b.Sequential, b.Sessions)
	}
	if rf.measuredRun != nil {
		fmt.Fprintln(stdout)
		report.TerminalVersus(stdout, r, rf.measuredRun)
	}
	if err := writeReportOpts(dest, r, report.Options{Measured: rf.measuredRun}); err != nil {
		fmt.Fprintln(stderr, "mrqa report:", err)
		return nil, exitcode.Failure
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dest, "report.html"))
	if rf.lmbench != "" {
		lm := filepath.Join(dest, "lmbench")
		if err := results.ExportLMBench(dir, r, lm, rf.lmbench); err != nil {
			fmt.Fprintln(stderr, "mrqa report:", err)
			return r, exitcode.Failure
		}
		fmt.Fprintf(stdout, "lmbench (%s format): %s\n", rf.lmbench, lm)
	}
	return r, exitcode.OK
}

// usageError is a flag that does not apply to the directory it met.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// loadReportDir reads an LMBenchmark directory (judged by the flags) or an
// mrqa run, and says where its report goes by default.
func loadReportDir(dir string, rf *reportFlags) (*results.Results, string, error) {
	if !results.IsLMBenchDir(dir) {
		if rf.judging() {
			return nil, "", &usageError{fmt.Sprintf("%s: -slo and -score judge LMBenchmark run files; an mrqa run is judged by its scenario's slo blocks and score", dir)}
		}
		r, err := results.Load(dir)
		if errors.Is(err, fs.ErrNotExist) {
			if runs := runDirs(dir); len(runs) > 0 {
				return nil, "", &usageError{fmt.Sprintf("%s holds no results.json, but scenario folders that do; give those instead:\n  mrqa report%s%s",
					dir, rf.args(), quoteAll(runs))}
			}
		}
		return r, dir, err
	}
	if rf.lmbench != "" {
		return nil, "", &usageError{fmt.Sprintf("%s: -lmbench writes an mrqa run's records as LMBenchmark run files; this directory already holds run files", dir)}
	}
	r, err := results.ReadLMBench(dir)
	if err != nil {
		return nil, "", err
	}
	if rf.judging() {
		score := rf.score
		if score == "" {
			score = search.ScoreSessions
		}
		if err := results.Judge(r, rf.sloList(), score); err != nil {
			return nil, "", fmt.Errorf("%s: %w", dir, err)
		}
	}
	return r, filepath.Join("out", r.Scenario), nil
}

// runDirs lists the folders directly inside dir that hold a results.json:
// the scenario folders of an output folder.
func runDirs(dir string) []string {
	var runs []string
	entries, _ := os.ReadDir(dir) // an unreadable dir already has its own error
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "results.json")); e.IsDir() && err == nil {
			runs = append(runs, sub)
		}
	}
	return runs
}

// args repeats the flags that were given, for a suggested command.
func (rf *reportFlags) args() string {
	var b strings.Builder
	add := func(name, v string) { b.WriteString(" -" + name + " " + shellQuote(v)) }
	if rf.out != "" {
		add("out", rf.out)
	}
	for _, s := range rf.slos {
		add("slo", s)
	}
	if rf.score != "" {
		add("score", rf.score)
	}
	if rf.lmbench != "" {
		add("lmbench", rf.lmbench)
	}
	return b.String()
}

func quoteAll(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

func conditions(slos []results.SLO) string {
	parts := make([]string, len(slos))
	for i, s := range slos {
		parts[i] = s.Condition
	}
	return strings.Join(parts, " && ")
}

func reportCompare(out string, all []*results.Results, labels []string, stdout, stderr io.Writer) int {
	root := out
	if root == "" {
		root = "out"
	}
	path := filepath.Join(root, "compare.html")
	if err := writeCompareOpts(path, all, report.Options{Labels: labels}); err != nil {
		fmt.Fprintln(stderr, "mrqa report:", err)
		return exitcode.Failure
	}
	fmt.Fprintf(stdout, "comparison: %s\n", path)
	return exitcode.OK
}

// versusProblem says why the run in dir cannot be set beside the one in
// measuredDir as prediction and measurement, or "" when it can: the one
// must have run on a calibrated profile, the other must be measured (real
// clock, no profile file), and both must be the same scenario judged by
// the same SLOs, or agreement would mean nothing.
func versusProblem(dir string, predicted *results.Results, measuredDir string, measured *results.Results) string {
	sloText := func(r *results.Results) string {
		var parts []string
		for _, s := range r.SLOs {
			parts = append(parts, s.Name+": "+s.Condition)
		}
		return strings.Join(parts, "; ")
	}
	switch {
	case measured.Target.ProfileFile != nil:
		return fmt.Sprintf("%s ran on the calibrated profile %s: it is a prediction, not a measurement", measuredDir, measured.Target.ProfileFile.Path)
	case measured.Target.Clock == spec.ClockVirtual:
		return fmt.Sprintf("%s ran on the simulator's virtual clock: its timings are simulated, not measured", measuredDir)
	case predicted.Target.ProfileFile == nil:
		return fmt.Sprintf("%s is not a prediction: it loaded no profile file (a run on simulator { profile_file = ... } is)", dir)
	case predicted.Scenario != measured.Scenario:
		return fmt.Sprintf("%s ran scenario %q and %s ran %q: set a prediction beside a measurement of the same scenario", dir, predicted.Scenario, measuredDir, measured.Scenario)
	case sloText(predicted) != sloText(measured):
		return fmt.Sprintf("%s and %s are judged by different SLOs (%s; %s): their verdicts cannot be compared", dir, measuredDir, sloText(predicted), sloText(measured))
	}
	return ""
}

package results

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/search"
)

// lmRun is one run file as read.
type lmRun struct {
	file  string // base name
	c, s  int
	p     LMBenchParams
	fixed map[string]any // every parameter but C, S and output
	recs  []metrics.Record
}

// ReadLMBench reads every *.json run file in dir and builds Results the way
// the source's plot script judges them: ttft pooled over turns ≥ 1 with nulls
// skipped (ttft_ok_p95 in mrqa's names), ≤ 2 s, ties to the larger C. Files
// whose fixed parameters differ come from different runs and are refused
// with a *MixedRunsError; several files for the same C and S (repeated runs
// with the same parameters) are pooled.
func ReadLMBench(dir string) (*Results, error) {
	runs, err := readLMRuns(dir)
	if err != nil {
		return nil, err
	}
	if err := sameRun(dir, runs); err != nil {
		return nil, err
	}
	r := lmbenchResults(dir, runs)
	if err := Judge(r, []SLO{{Name: "ttft", Condition: LMBenchSLO}}, search.ScoreSessions); err != nil {
		return nil, fmt.Errorf("lmbench: %w", err)
	}
	return r, nil
}

// readLMRuns reads dir's run files in name order, skipping JSON files
// without C and S.
func readLMRuns(dir string) ([]lmRun, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("lmbench: %w", err)
	}
	sort.Strings(files)
	var runs []lmRun
	for _, f := range files {
		run, err := readLMRun(f)
		if err != nil {
			return nil, err
		}
		if run.c != 0 && run.s != 0 {
			runs = append(runs, run)
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("lmbench: no run files in %s", dir)
	}
	return runs, nil
}

func readLMRun(path string) (lmRun, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return lmRun{}, fmt.Errorf("lmbench: %w", err)
	}
	var run LMBench
	var raw struct {
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal(b, &run); err != nil {
		return lmRun{}, fmt.Errorf("lmbench: %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return lmRun{}, fmt.Errorf("lmbench: %s: %w", path, err)
	}
	p := run.Params
	out := lmRun{file: filepath.Base(path), c: p.NumUsersConcurrent, s: p.NumUsersSequential, p: p, fixed: raw.Params}
	if out.c == 0 {
		out.c, out.s = p.Concurrent, p.SessionDepth
	}
	for _, k := range []string{"num_users_concurrent", "num_users_sequential", "concurrent", "session_depth", "output"} {
		delete(out.fixed, k)
	}
	for _, res := range run.Results {
		out.recs = append(out.recs, lmRecord(res))
	}
	return out, nil
}

func lmRecord(res LMBenchResult) metrics.Record {
	rec := metrics.Record{Session: res.SessionID, Turn: res.Turn, Duration: res.Latency,
		PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens,
		CachedUnknown: true} // the source's files carry no cached-token counts
	if res.Status != "" && res.Status != "success" {
		rec.Error = res.Status
	}
	if res.TTFT != nil {
		rec.TTFT, rec.TTFC, rec.End = *res.TTFT, *res.TTFT, res.Latency
	} else if rec.Error == "" {
		rec.Error = "no_ttft"
	}
	return rec
}

// lmbenchResults pools runs by C and S into points, not yet judged.
func lmbenchResults(dir string, runs []lmRun) *Results {
	p := runs[0].p
	r := &Results{
		SchemaVersion: SchemaVersion,
		Tool:          "LMBenchmark",
		Scenario:      LMBenchScenario(dir),
		Target:        Target{Model: p.Model, BaseURL: StripUserinfo(p.BaseURL)},
		Corpus:        Corpus{Name: p.SrcDir},
		Script:        Script{MaxTokens: p.AnswerLen},
		Rounds:        p.NumRounds,
		Complete:      true,
		Points:        []Point{},
	}
	type key struct{ c, s int }
	recs := map[key][]metrics.Record{}
	for _, run := range runs {
		k := key{run.c, run.s}
		recs[k] = append(recs[k], run.recs...)
	}
	var cs, ss []int
	for k, rs := range recs {
		r.Points = append(r.Points, Point{Concurrent: k.c, Sequential: k.s,
			Metrics: lmMetrics(k.c, k.s, rs), Turns: lmTurns(rs)})
		cs, ss = append(cs, k.c), append(ss, k.s)
	}
	slices.SortFunc(r.Points, func(a, b Point) int {
		if a.Concurrent != b.Concurrent {
			return a.Concurrent - b.Concurrent
		}
		return a.Sequential - b.Sequential
	})
	slices.Sort(cs)
	slices.Sort(ss)
	r.Grid = Grid{Concurrent: slices.Compact(cs), Sequential: slices.Compact(ss)}
	return r
}

// MixedRunsError says a directory's run files come from different runs:
// their fixed parameters (every one but C, S and output) differ.
type MixedRunsError struct {
	Dir    string
	Fields []string // the parameters that differ, sorted
	lines  []string // per field: each value and the files that have it
}

func (e *MixedRunsError) Error() string {
	return fmt.Sprintf("lmbench: %s: the run files come from different runs (their fixed parameters differ), "+
		"so they cannot be judged as one C×S table; put each run in its own directory:\n  %s",
		e.Dir, strings.Join(e.lines, "\n  "))
}

// sameRun refuses runs whose fixed parameters differ, as the source's plot
// script does.
func sameRun(dir string, runs []lmRun) error {
	keys := map[string]bool{}
	for _, run := range runs {
		for k := range run.fixed {
			keys[k] = true
		}
	}
	e := &MixedRunsError{Dir: dir}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if line, differ := fieldValues(k, runs); differ {
			e.Fields = append(e.Fields, k)
			e.lines = append(e.lines, line)
		}
	}
	if len(e.Fields) > 0 {
		return e
	}
	return nil
}

// fieldValues describes one parameter across runs: each distinct value, in
// the order first seen, with the files that have it; differ is false when
// every run has the same.
func fieldValues(key string, runs []lmRun) (line string, differ bool) {
	var order []string
	files := map[string][]string{}
	for _, run := range runs {
		v := "(absent)"
		if x, ok := run.fixed[key]; ok {
			b, _ := json.Marshal(x)
			v = string(b)
		}
		if _, seen := files[v]; !seen {
			order = append(order, v)
		}
		files[v] = append(files[v], run.file)
	}
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = shownValue(v) + " in " + fileList(files[v])
	}
	return key + ": " + strings.Join(parts, "; "), len(order) > 1
}

// shownValue is a JSON value as an error shows it: a URL's credentials removed.
func shownValue(v string) string {
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return v
	}
	b, _ := json.Marshal(StripUserinfo(s))
	return string(b)
}

func fileList(files []string) string {
	const most = 4
	if len(files) <= most {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:most], ", "), len(files)-most)
}

// Judge evaluates every point of r against slos (conditions at point
// scope, as a scenario's slo blocks) and picks the best passing point by
// score ("sessions" or "harmonic"), replacing r's SLOs, outcomes, best point
// and sweep counts. Results of a frontier search or with an expect are
// refused: their implied points and expect outcome would not follow.
func Judge(r *Results, slos []SLO, score string) error {
	if r.Search != nil || r.Expect != "" {
		return fmt.Errorf("results of %s have a frontier search or an expect; only their scenario can judge them again", r.Scenario)
	}
	if score != search.ScoreSessions && score != search.ScoreHarmonic {
		return fmt.Errorf("unknown score %q (want %q or %q)", score, search.ScoreSessions, search.ScoreHarmonic)
	}
	if len(slos) == 0 {
		return fmt.Errorf("no SLO to judge the points by")
	}
	conds := make([]*metrics.Condition, len(slos))
	for i, s := range slos {
		c, err := metrics.Compile(s.Condition, metrics.ScopePoint)
		if err != nil {
			return fmt.Errorf("slo %q: %w", s.Condition, err)
		}
		conds[i] = c
	}
	r.SLOs, r.Score = slices.Clone(slos), score
	var outs []search.PointOutcome
	names := make([]string, len(slos))
	for i, s := range slos {
		names[i] = s.Name
	}
	for i := range r.Points {
		p := &r.Points[i]
		JudgePoint(p, names, conds)
		outs = append(outs, search.PointOutcome{C: p.Concurrent, S: p.Sequential, Passed: p.Passed})
	}
	setBest(r, outs, score)
	return nil
}

// lmMetrics aggregates imported records. The files record each request's
// duration but not when it started, so the point's span and its
// throughputs cannot be known: they have no data rather than a made-up
// value.
func lmMetrics(c, s int, rs []metrics.Record) metrics.Point {
	m := metrics.Aggregate(c, s, rs)
	for _, name := range []string{"input_tokens_per_s", "output_tokens_per_s", "requests_per_s"} {
		m.NoData[name] = "LMBenchmark run files record no request start times, so the point's span is unknown"
	}
	return m
}

// setBest fills r's best point and sweep counts from judged outcomes.
func setBest(r *Results, outs []search.PointOutcome, score string) {
	r.Sweep = metrics.Sweep{PointsRun: len(outs)}
	for _, o := range outs {
		if o.Passed {
			r.Sweep.PointsPassed++
		}
	}
	r.Best = nil
	if c, s, ok := search.Best(outs, score); ok {
		r.Best = &Best{Concurrent: c, Sequential: s, Sessions: c * s, Score: search.ScoreOf(score, c, s)}
		r.Sweep.MaxSessions, r.Sweep.BestConcurrent, r.Sweep.BestSequential = c*s, c, s
	}
}

func lmTurns(rs []metrics.Record) []TurnStats {
	maxTurn := 0
	for _, r := range rs {
		maxTurn = max(maxTurn, r.Turn)
	}
	out := make([]TurnStats, maxTurn+1)
	vals := make([][]time.Duration, maxTurn+1)
	for _, r := range rs {
		// Unlike metrics.Record.TTFTOrInf, a failed turn is left out of the
		// TTFT values (counted only as an error), as the source's plot script
		// does; a success keeps its TTFT even when it is 0.
		if r.OK() {
			vals[r.Turn] = append(vals[r.Turn], metrics.Duration(r.TTFT))
		} else {
			out[r.Turn].Errors++
		}
	}
	for t := range out {
		out[t].Turn = t
		out[t].Samples = len(vals[t]) + out[t].Errors
		if st, ok := metrics.Summarize(vals[t]); ok {
			out[t].TTFTP50, out[t].TTFTP95 = metrics.Sec(st.P50), metrics.Sec(st.P95)
		}
	}
	return out
}

// IsLMBenchDir reports whether dir holds LMBenchmark run files rather than
// an mrqa results.json.
func IsLMBenchDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		return false
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bench_") {
			return true
		}
	}
	return len(files) > 0
}

// LMBenchScenario names an LMBenchmark directory's results: the directory's
// name, or for mrqa's own out/<scenario>/lmbench, "<scenario>-lmbench", so
// two scenarios' re-rendered reports do not overwrite each other.
func LMBenchScenario(dir string) string {
	dir = filepath.Clean(dir)
	base := filepath.Base(dir)
	if base == "lmbench" {
		if parent := filepath.Base(filepath.Dir(dir)); parent != "." && parent != string(filepath.Separator) {
			return parent + "-lmbench"
		}
	}
	return base
}

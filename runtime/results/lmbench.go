package results

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// LMBench is one run file of the source benchmark (LMBenchmark's
// real-multi-round-qa), the format its plot script reads.
type LMBench struct {
	Params  LMBenchParams   `json:"params"`
	Results []LMBenchResult `json:"results"`
	Src     []string        `json:"src"`
}

// LMBenchParams are the run's parameters. The source's later versions name C
// and S "concurrent" and "session_depth"; both spellings are read.
type LMBenchParams struct {
	NumUsersConcurrent int    `json:"num_users_concurrent"`
	NumUsersSequential int    `json:"num_users_sequential"`
	NumRounds          int    `json:"num_rounds"`
	Model              string `json:"model"`
	BaseURL            string `json:"base_url"`
	SrcDir             string `json:"src_dir"`
	AnswerLen          int    `json:"answer_len"`
	Output             string `json:"output"`
	Concurrent         int    `json:"concurrent,omitempty"`
	SessionDepth       int    `json:"session_depth,omitempty"`
}

// LMBenchResult is one request. TTFT is time to first content, null when the
// request failed.
type LMBenchResult struct {
	SessionID        string   `json:"session_id"`
	Turn             int      `json:"turn"`
	Latency          float64  `json:"latency"`
	TTFT             *float64 `json:"ttft"`
	GenerationTime   float64  `json:"generation_time"`
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	Status           string   `json:"status"`
}

// LMBenchName is a point's file name in the lmbench directory.
func LMBenchName(c, s int) string { return fmt.Sprintf("bench_c%d_s%d.json", c, s) }

// WriteLMBench writes one point in the source's format under dir.
func WriteLMBench(dir string, r *Results, pt *Point, recs []metrics.Record) error {
	out := LMBench{
		Params: LMBenchParams{
			NumUsersConcurrent: pt.Concurrent,
			NumUsersSequential: pt.Sequential,
			NumRounds:          r.Rounds,
			Model:              r.Target.Model,
			BaseURL:            r.Target.BaseURL,
			SrcDir:             r.Corpus.Name,
			AnswerLen:          r.Script.MaxTokens,
			Output:             filepath.ToSlash(filepath.Join(dir, LMBenchName(pt.Concurrent, pt.Sequential))),
		},
		Results: make([]LMBenchResult, 0, len(recs)),
	}
	seen := map[string]bool{}
	for _, s := range pt.Sessions {
		if !seen[s.Document] {
			seen[s.Document] = true
			out.Src = append(out.Src, s.Document)
		}
	}
	for i := range recs {
		rec := &recs[i]
		res := LMBenchResult{
			SessionID:        rec.Session,
			Turn:             rec.Turn,
			Latency:          rec.Duration,
			PromptTokens:     rec.PromptTokens,
			CompletionTokens: rec.CompletionTokens,
			Status:           "success",
		}
		if !rec.OK() {
			res.Status = rec.Error
		} else if rec.TTFC > 0 {
			ttfc := rec.TTFC
			res.TTFT = &ttfc
			res.GenerationTime = rec.Duration - ttfc
		}
		out.Results = append(out.Results, res)
	}
	return WriteJSON(filepath.Join(dir, LMBenchName(pt.Concurrent, pt.Sequential)), out)
}

// ReadLMBench reads every *.json run file in dir and builds Results the way
// the source's plot script judges them: ttft pooled over turns ≥ 1 with nulls
// skipped (ttft_ok_p95 in mrqa's names), ≤ 2 s, ties to the larger C. Several
// files for the same C and S (repeated runs) are pooled.
func ReadLMBench(dir string) (*Results, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("lmbench: %w", err)
	}
	sort.Strings(files)
	type key struct{ c, s int }
	recs := map[key][]metrics.Record{}
	r := &Results{
		SchemaVersion: SchemaVersion,
		Tool:          "LMBenchmark",
		Scenario:      LMBenchScenario(dir),
		Score:         "sessions",
		SLOs:          []SLO{{Name: "ttft", Condition: LMBenchSLO}},
		Complete:      true,
		Points:        []Point{},
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("lmbench: %w", err)
		}
		var run LMBench
		if err := json.Unmarshal(b, &run); err != nil {
			return nil, fmt.Errorf("lmbench: %s: %w", f, err)
		}
		p := run.Params
		c, s := p.NumUsersConcurrent, p.NumUsersSequential
		if c == 0 {
			c, s = p.Concurrent, p.SessionDepth
		}
		if c == 0 || s == 0 {
			continue // not a run file
		}
		if r.Target.Model == "" {
			r.Target.Model = p.Model
			r.Target.BaseURL = p.BaseURL
			r.Rounds = p.NumRounds
			r.Script.MaxTokens = p.AnswerLen
			r.Corpus.Name = p.SrcDir
		}
		k := key{c, s}
		for _, res := range run.Results {
			rec := metrics.Record{Session: fmt.Sprint(res.SessionID), Turn: res.Turn, Duration: res.Latency,
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
			recs[k] = append(recs[k], rec)
		}
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("lmbench: no run files in %s", dir)
	}
	cond, err := metrics.Compile(LMBenchSLO, metrics.ScopePoint)
	if err != nil {
		return nil, fmt.Errorf("lmbench: %w", err)
	}
	var cs, ss []int
	for k, rs := range recs {
		pt := Point{Concurrent: k.c, Sequential: k.s, Metrics: metrics.Aggregate(k.c, k.s, rs)}
		pt.Turns = lmTurns(rs)
		out := cond.Eval(&pt.Metrics)
		pt.SLOs = []SLOOutcome{{Name: "ttft", Outcome: out}}
		pt.Passed = out.Passed()
		r.Points = append(r.Points, pt)
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
	r.Sweep.PointsRun = len(r.Points)
	for _, p := range r.Points {
		if !p.Passed {
			continue
		}
		r.Sweep.PointsPassed++
		n := p.Concurrent * p.Sequential
		if r.Best == nil || n > r.Best.Sessions || n == r.Best.Sessions && p.Concurrent > r.Best.Concurrent {
			r.Best = &Best{Concurrent: p.Concurrent, Sequential: p.Sequential, Sessions: n, Score: float64(n)}
		}
	}
	if r.Best != nil {
		r.Sweep.MaxSessions, r.Sweep.BestConcurrent, r.Sweep.BestSequential = r.Best.Sessions, r.Best.Concurrent, r.Best.Sequential
	}
	return r, nil
}

// LMBenchSLO is the source plot script's rule in mrqa's terms.
const LMBenchSLO = "ttft_ok_p95 <= 2s"

func lmTurns(rs []metrics.Record) []TurnStats {
	maxTurn := 0
	for _, r := range rs {
		maxTurn = max(maxTurn, r.Turn)
	}
	out := make([]TurnStats, maxTurn+1)
	vals := make([][]time.Duration, maxTurn+1)
	for _, r := range rs {
		if r.OK() {
			vals[r.Turn] = append(vals[r.Turn], time.Duration(math.Round(r.TTFT*1e9)))
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

package results

import (
	"errors"
	"maps"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// runFile is one LMBenchmark run file as raw JSON, so a test can write keys
// LMBenchParams does not know.
type runFile struct {
	Params  map[string]any   `json:"params"`
	Results []map[string]any `json:"results"`
}

// laterRun is a later-format run file of one session: an opening turn and
// one follow-up whose ttft is v.
func laterRun(c, s int, v float64, override map[string]any) runFile {
	p := map[string]any{
		"concurrent": c, "session_depth": s, "model": "Qwen/Qwen2.5-7B-Instruct-1M",
		"base_url": "http://localhost:8000/v1", "num_rounds": 1, "src_dir": "gutenberg/128k",
		"answer_len": 512, "output": "bench.csv",
	}
	maps.Copy(p, override)
	res := func(turn int, ttft float64) map[string]any {
		return map[string]any{"session_id": "s", "turn": turn, "latency": ttft + 1, "ttft": ttft,
			"generation_time": 1.0, "prompt_tokens": 1000, "completion_tokens": 10, "status": "success"}
	}
	return runFile{Params: p, Results: []map[string]any{res(0, 9), res(1, v)}}
}

func writeRuns(t *testing.T, runs map[string]runFile) string {
	t.Helper()
	dir := t.TempDir()
	for name, run := range runs {
		if err := WriteJSON(filepath.Join(dir, name), run); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReadLMBenchRefusesMixedRuns: files whose fixed parameters differ come
// from different runs (another server, model, answer length, number of
// rounds) and are refused, as the source's plot script refuses them, naming
// the files and the fields; C, S and output may differ.
func TestReadLMBenchRefusesMixedRuns(t *testing.T) {
	cases := []struct {
		name  string
		other map[string]any // bench_c2_s1.json's params beside a default bench_c1_s1.json
		want  []string       // in the error; nil: the directory is read
	}{
		{"base_url", map[string]any{"base_url": "http://gpu-b:8000/v1"},
			[]string{`base_url: "http://localhost:8000/v1" in bench_c1_s1.json; "http://gpu-b:8000/v1" in bench_c2_s1.json`}},
		{"model", map[string]any{"model": "meta-llama/Llama-3.1-8B-Instruct"},
			[]string{"model: ", `"meta-llama/Llama-3.1-8B-Instruct" in bench_c2_s1.json`}},
		{"answer_len", map[string]any{"answer_len": 128},
			[]string{"answer_len: 512 in bench_c1_s1.json; 128 in bench_c2_s1.json"}},
		{"num_rounds", map[string]any{"num_rounds": 3},
			[]string{"num_rounds: 1 in bench_c1_s1.json; 3 in bench_c2_s1.json"}},
		{"two fields", map[string]any{"num_rounds": 3, "src_dir": "gutenberg/8k"},
			[]string{"num_rounds: ", "src_dir: "}},
		{"a key only one file has", map[string]any{"metrics_url": "http://localhost:8000/metrics"},
			[]string{"metrics_url: (absent) in bench_c1_s1.json; \"http://localhost:8000/metrics\" in bench_c2_s1.json"}},
		{"credentials never shown", map[string]any{"base_url": "http://user:hunter2@gpu-b:8000/v1"},
			[]string{`"http://gpu-b:8000/v1" in bench_c2_s1.json`}},
		{"only C, S and output differ", map[string]any{"output": "other.csv"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRuns(t, map[string]runFile{
				"bench_c1_s1.json": laterRun(1, 1, 0.5, nil),
				"bench_c2_s1.json": laterRun(2, 1, 0.5, tc.other),
			})
			r, err := ReadLMBench(dir)
			if tc.want == nil {
				if err != nil || len(r.Points) != 2 {
					t.Fatalf("ReadLMBench = %v, %v; want two points", r, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadLMBench pooled runs whose %s differ: %d points, best %+v", tc.name, len(r.Points), r.Best)
			}
			var mixed *MixedRunsError
			if !errors.As(err, &mixed) {
				t.Errorf("error %T is not a *MixedRunsError", err)
			}
			for _, w := range append(tc.want, dir, "different runs") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a password:\n%v", err)
			}
		})
	}
}

// withFailure adds a second session to a run whose follow-up failed: null
// ttft, the error kind as status (as mrqa's own run files write it).
func withFailure(run runFile) runFile {
	run.Results = append(run.Results,
		map[string]any{"session_id": "f", "turn": 0, "latency": 10.0, "ttft": 9.0, "generation_time": 1.0,
			"prompt_tokens": 1000, "completion_tokens": 10, "status": "success"},
		map[string]any{"session_id": "f", "turn": 1, "latency": 300.0, "ttft": nil, "generation_time": 0.0,
			"prompt_tokens": 0, "completion_tokens": 0, "status": "http_500"})
	return run
}

// TestJudgeLMBench applies other SLOs and the harmonic score to an imported
// run. Steady ttfts: C=1 S=8 0.5 s with a failed follow-up, C=2 S=3 0.2 s,
// C=1 S=1 0.1 s. By C×S the best is 1×8 = 8; by 2CS/(C+S) 2×3 scores 2.4
// against 1×8's 16/9 ≈ 1.78; within 300 ms, or counting the failure as +∞
// (ttft_p95), 1×8 fails and 2×3 is best.
func TestJudgeLMBench(t *testing.T) {
	dir := writeRuns(t, map[string]runFile{
		"bench_c1_s8.json": withFailure(laterRun(1, 8, 0.5, nil)),
		"bench_c2_s3.json": laterRun(2, 3, 0.2, nil),
		"bench_c1_s1.json": laterRun(1, 1, 0.1, nil),
	})
	cases := []struct {
		name       string
		slo, score string // "": as ReadLMBench judges
		best       [2]int
		bestScore  float64
		passed     int
	}{
		{"source's rule", "", "", [2]int{1, 8}, 8, 3},
		{"harmonic", "", "harmonic", [2]int{2, 3}, 2.4, 3},
		{"tighter SLO", "ttft_ok_p95 <= 300ms", "sessions", [2]int{2, 3}, 6, 2},
		{"failures count", "ttft_p95 <= 2s", "sessions", [2]int{2, 3}, 6, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadLMBench(dir)
			if err != nil {
				t.Fatal(err)
			}
			slo := SLO{Name: "ttft", Condition: LMBenchSLO}
			if tc.slo != "" || tc.score != "" {
				slo = SLO{Name: "slo", Condition: tc.slo}
				if tc.slo == "" {
					slo.Condition = LMBenchSLO
				}
				if err := Judge(r, []SLO{slo}, tc.score); err != nil {
					t.Fatal(err)
				}
			}
			if r.Best == nil || [2]int{r.Best.Concurrent, r.Best.Sequential} != tc.best || math.Abs(r.Best.Score-tc.bestScore) > 1e-9 {
				t.Errorf("best = %+v, want C=%d S=%d score %v", r.Best, tc.best[0], tc.best[1], tc.bestScore)
			}
			if r.Sweep.PointsPassed != tc.passed || r.Sweep.PointsRun != 3 || r.Sweep.MaxSessions != tc.best[0]*tc.best[1] {
				t.Errorf("sweep = %+v, want %d of 3 passed", r.Sweep, tc.passed)
			}
			if len(r.SLOs) != 1 || r.SLOs[0] != slo {
				t.Errorf("SLOs = %+v, want %+v", r.SLOs, slo)
			}
			for _, p := range r.Points {
				if len(p.SLOs) != 1 || p.SLOs[0].Name != slo.Name || p.SLOs[0].Outcome.Passed() != p.Passed {
					t.Errorf("C=%d S=%d outcomes %+v, passed %v", p.Concurrent, p.Sequential, p.SLOs, p.Passed)
				}
			}
		})
	}
}

func TestJudgeRefuses(t *testing.T) {
	ok := []SLO{{Name: "ttft", Condition: LMBenchSLO}}
	cases := []struct {
		name  string
		r     *Results
		slos  []SLO
		score string
		want  string
	}{
		{"unknown score", &Results{}, ok, "max", `unknown score "max"`},
		{"no SLO", &Results{}, nil, "sessions", "no SLO"},
		{"syntax", &Results{}, []SLO{{Name: "s", Condition: "ttft_p95 <="}}, "sessions", `slo "ttft_p95 <="`},
		{"sweep metric", &Results{}, []SLO{{Name: "s", Condition: "max_sessions >= 4"}}, "sessions", "max_sessions"},
		{"frontier search", &Results{Scenario: "x", Search: &Search{}}, ok, "sessions", "frontier search"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Judge(tc.r, tc.slos, tc.score)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Judge = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

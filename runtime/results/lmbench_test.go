package results

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
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

// TestLMBenchFormatsRoundTrip writes the same points in both formats and
// reads each directory back with the importer: the params carry C and S
// under each format's keys, and every per-point metric is the same as
// aggregating the records themselves the way the importer reads them
// (ttft = time to first content, failed requests with a null ttft).
func TestLMBenchFormatsRoundTrip(t *testing.T) {
	points := map[[2]int][]metrics.Record{{1, 2}: lmRecords(), {2, 1}: slowRecords()}
	keys := map[string][2]string{
		LMBenchSeed:  {"num_users_concurrent", "num_users_sequential"},
		LMBenchLater: {"concurrent", "session_depth"},
	}
	for format, cs := range keys {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			for k, recs := range points {
				pt := &Point{Concurrent: k[0], Sequential: k[1]}
				if err := WriteLMBenchFormat(dir, format, lmResults(), pt, recs); err != nil {
					t.Fatal(err)
				}
			}
			var raw runFile
			if err := readJSONFile(filepath.Join(dir, LMBenchName(2, 1)), &raw); err != nil {
				t.Fatal(err)
			}
			if raw.Params[cs[0]] != 2.0 || raw.Params[cs[1]] != 1.0 || len(raw.Params) != 8 {
				t.Errorf("%s params = %v, want C and S as %s, %s and 8 keys", format, raw.Params, cs[0], cs[1])
			}
			got, err := ReadLMBench(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Points) != len(points) {
				t.Fatalf("%d points read back, want %d", len(got.Points), len(points))
			}
			for _, p := range got.Points {
				want := lmMetrics(p.Concurrent, p.Sequential, asImported(points[[2]int{p.Concurrent, p.Sequential}]))
				if !reflect.DeepEqual(p.Metrics, want) {
					t.Errorf("C=%d S=%d metrics read back\n%+v\nwant\n%+v", p.Concurrent, p.Sequential, p.Metrics, want)
				}
			}
			if got.Best == nil || got.Best.Concurrent != 1 || got.Best.Sequential != 2 || got.Rounds != 2 || got.Target.Model != "m" {
				t.Errorf("best %+v, rounds %d, target %+v", got.Best, got.Rounds, got.Target)
			}
		})
	}
	if err := WriteLMBenchFormat(t.TempDir(), "v3", lmResults(), &Point{Concurrent: 1, Sequential: 1}, lmRecords()); err == nil {
		t.Error("an unknown format was written")
	}
}

// slowRecords are lmRecords with every steady TTFT 3 s later: past 2 s.
func slowRecords() []metrics.Record {
	recs := lmRecords()
	for i := range recs {
		if recs[i].OK() && recs[i].Turn > 0 {
			recs[i].TTFC += 3
			recs[i].TTFT += 3
		}
	}
	return recs
}

// asImported is what a run file keeps of records: time to first content as
// the only TTFT, ends at the latency, no cached-token counts, documents and
// ids gone.
func asImported(recs []metrics.Record) []metrics.Record {
	out := make([]metrics.Record, len(recs))
	for i, r := range recs {
		out[i] = metrics.Record{Session: r.Session, Turn: r.Turn, Duration: r.Duration, Error: r.Error,
			PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, CachedUnknown: true}
		if r.OK() {
			out[i].TTFT, out[i].TTFC, out[i].End = r.TTFC, r.TTFC, r.Duration
		}
	}
	return out
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// TestExportLMBench converts a saved mrqa run (results and per-request
// records) into run files, and names the point whose records are missing.
func TestExportLMBench(t *testing.T) {
	src := t.TempDir()
	r := lmResults()
	for _, cs := range [][2]int{{1, 2}, {2, 1}} {
		rel := filepath.ToSlash(RecordsPath(cs[0], cs[1]))
		r.Points = append(r.Points, Point{Concurrent: cs[0], Sequential: cs[1], Records: rel,
			Sessions: []SessionDocument{{Session: "c1s1", Document: "d1"}}})
		if err := WriteRecords(filepath.Join(src, rel), lmRecords()); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "lmbench")
	if err := ExportLMBench(src, r, dest, LMBenchLater); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLMBench(dest)
	if err != nil {
		t.Fatal(err)
	}
	want := lmMetrics(1, 2, asImported(lmRecords()))
	if len(got.Points) != 2 || !reflect.DeepEqual(got.Points[0].Metrics, want) {
		t.Errorf("exported points %+v, want C=1 S=2 first with %+v", got.Points, want)
	}
	r.Points[1].Records = "points/missing.jsonl"
	if err := ExportLMBench(src, r, dest, LMBenchSeed); err == nil || !strings.Contains(err.Error(), "C=2 S=1") {
		t.Errorf("missing records: %v, want an error naming C=2 S=1", err)
	}
}

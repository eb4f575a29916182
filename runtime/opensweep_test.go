package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// openSweepScenario is an open-loop scenario on the virtual clock: 8k-token
// documents, two questions, sessions arriving for a simulated minute.
func openSweepScenario(t *testing.T, rates ...float64) (*spec.File, *spec.Scenario) {
	t.Helper()
	file, sc := sweepScenario(t, "", false)
	sc.Target = &spec.Target{Name: "sim", Simulator: &spec.Simulator{Profile: "seed-vllm", Clock: "virtual"}}
	sc.Corpus.Tokens = 8192
	sc.Corpus.Source.Documents = 64
	sc.Rounds = 2
	sc.Script.MaxTokens = 32
	sc.Grid = spec.Grid{}
	sc.SLOs[0].Condition = mustCompile(t, "ttft_p95 <= 2s")
	sc.Users = &spec.Users{Arrival: spec.ArrivalPoisson, Rates: rates, Duration: time.Minute,
		Think: spec.Think{Distribution: spec.ThinkExponential, Mean: 5 * time.Second}}
	return file, sc
}

// exec runs an open-loop scenario: the rate search runs the declared rates
// from the lowest, bisects to 5 %, writes each point's records by rate,
// and the best point is the highest passing rate, bracketed by a measured
// failure.
func TestOpenLoopSweepVirtual(t *testing.T) {
	file, sc := openSweepScenario(t, 60, 240, 960, 3840)
	out := t.TempDir()
	var log strings.Builder
	r, err := Run(context.Background(), file, sc, Options{OutDir: out, Progress: &log})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if r.Best == nil || r.RateSearch == nil || r.RateSearch.Fail == nil || !r.RateSearch.Settled {
		t.Fatalf("best %+v, rate search %+v; want a settled bracket\n%s", r.Best, r.RateSearch, log.String())
	}
	pass, fail := *r.RateSearch.Pass, *r.RateSearch.Fail
	if r.Best.Rate != pass || pass <= 60 || fail > 3840 || fail-pass > 0.05*pass {
		t.Errorf("best %v, bracket [%v, %v]; want the pass, within 5%% of a failure", r.Best.Rate, pass, fail)
	}
	for _, p := range r.Points {
		if p.Rate == 0 || p.Concurrent != 0 {
			t.Errorf("point %s: not an open-loop point", p.Name())
		}
		if p.Passed != (p.Rate <= pass) {
			t.Errorf("point %s passed %v, against the bracket [%v, %v]", p.Name(), p.Passed, pass, fail)
		}
		if _, err := os.Stat(filepath.Join(Dir(sc, out), p.Records)); err != nil || p.Records != "points/rate_"+results.FormatRate(p.Rate)+".jsonl" {
			t.Errorf("point %s records %q: %v", p.Name(), p.Records, err)
		}
	}
	if !strings.Contains(log.String(), "point rate=60/min done") {
		t.Errorf("progress does not name the rate:\n%s", log.String())
	}
	t.Logf("%d points, best %v/min, fail %v/min", len(r.Points), pass, fail)
}

func mustCompile(t *testing.T, cond string) *metrics.Condition {
	t.Helper()
	c, err := metrics.Compile(cond, metrics.ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exec -dry-run lists an open-loop scenario's declared rates, lowest
// first, with the sessions and requests each schedule holds: a constant
// minute of arrivals at 30/min is 30 sessions of rounds + 1 turns.
func TestDryRunOpen(t *testing.T) {
	_, sc := openSweepScenario(t, 60, 30)
	sc.Users.Arrival = spec.ArrivalConstant
	var buf strings.Builder
	if err := DryRun(&buf, sc); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	r30 := regexp.MustCompile(`(?m)^\s*30\s+30\s+90\s*$`).FindStringIndex(out)
	r60 := regexp.MustCompile(`(?m)^\s*60\s+60\s+180\s*$`).FindStringIndex(out)
	if r30 == nil || r60 == nil || r60[0] < r30[0] {
		t.Errorf("dry run:\n%s", out)
	}
}

// Turns that start before the warm-up ends are flagged in the records and
// left out of every figure of the point; a turn that starts during it and
// ends after it is still left out. Hand-computed: warm-up 10 s; u1 starts
// at 1 s (opening, then a follow-up at 8 s that takes 4 s to its first
// token), u2 and u3 after it, u3's follow-up failing.
func TestOpenWarmupLeftOut(t *testing.T) {
	_, sc := openSweepScenario(t, 6)
	sc.Users.Warmup = 10 * time.Second
	docs := testDocs(3)
	plan := &OpenPoint{Rate: 6, Rounds: 1}
	for i := range 3 {
		plan.Sessions = append(plan.Sessions, OpenSession{Session: Session{Slot: i, Label: fmt.Sprintf("u%d", i+1), Doc: &docs[i]}})
	}
	recs := []metrics.Record{
		{Session: "u1", Turn: 0, Start: 1, TTFT: 0.5, Duration: 1},
		{Session: "u1", Turn: 1, Start: 8, TTFT: 4, Duration: 5},
		{Session: "u2", Turn: 0, Start: 11, TTFT: 0.6, Duration: 1},
		{Session: "u2", Turn: 1, Start: 15, TTFT: 2, Duration: 3},
		{Session: "u3", Turn: 0, Start: 20, TTFT: 1, Duration: 2},
		{Session: "u3", Turn: 1, Start: 25, Duration: 1, Error: "http_500"},
	}
	pt := buildOpenPoint(sc, plan, recs, time.Now(), 26*time.Second)
	m := pt.Metrics
	if m.Requests != 4 || m.Errors != 1 || m.Samples != 2 || m.OpeningSamples != 2 {
		t.Errorf("requests %d, errors %d, samples %d, openings %d; want 4, 1, 2, 2", m.Requests, m.Errors, m.Samples, m.OpeningSamples)
	}
	if m.TTFTOKMax != 2*time.Second || m.OpeningTTFTMax != time.Second {
		t.Errorf("ttft_ok_max %v, opening_ttft_max %v; want 2s and 1s (u1's 4s and 0.5s are warm-up)", m.TTFTOKMax, m.OpeningTTFTMax)
	}
	if pt.Turns[1].Samples != 2 || pt.Errors["http_500"] != 1 {
		t.Errorf("turn 1 samples %d, errors %v; want 2, http_500: 1", pt.Turns[1].Samples, pt.Errors)
	}
	for _, r := range recs {
		if want := r.Session == "u1"; r.Warmup != want {
			t.Errorf("%s t%d: warmup %v, want %v", r.Session, r.Turn, r.Warmup, want)
		}
	}
}

package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
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
	if err := DryRun(&buf, sc, spec.Shard{}, nil); err != nil {
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
// token), u2 and u3 after it, u3's follow-up failing, u4 dropped.
// Sessions are counted whole: u1 [1, 13], u2 [11, 18], u3 [20, 26], so
// over the measured window [10, 26] one session is active on average
// (1·1 + 2·2 + 1·5 + 0·2 + 1·6 = 16 session-seconds in 16 s), two at most,
// and a session lasts (12 + 7 + 6) / 3 s.
func TestOpenWarmupLeftOut(t *testing.T) {
	_, sc := openSweepScenario(t, 6)
	sc.Users.Warmup = 10 * time.Second
	docs := testDocs(4)
	plan := &OpenPoint{Rate: 6, Rounds: 1}
	for i := range 4 {
		plan.Sessions = append(plan.Sessions, OpenSession{Session: Session{Slot: i, Label: fmt.Sprintf("u%d", i+1), Doc: &docs[i]}})
	}
	recs := []metrics.Record{
		{Session: "u1", Turn: 0, Start: 1, TTFT: 0.5, Duration: 1},
		{Session: "u1", Turn: 1, Start: 8, TTFT: 4, Duration: 5},
		{Session: "u2", Turn: 0, Start: 11, TTFT: 0.6, Duration: 1},
		{Session: "u2", Turn: 1, Start: 15, TTFT: 2, Duration: 3},
		{Session: "u3", Turn: 0, Start: 20, TTFT: 1, Duration: 2},
		{Session: "u3", Turn: 1, Start: 25, Duration: 1, Error: "http_500"},
		{Session: "u4", Turn: 0, Start: 21, Error: metrics.ErrDropped},
		{Session: "u4", Turn: 1, Start: 21, Error: metrics.ErrDropped},
	}
	pt := buildOpenPoint(sc, plan, recs, time.Now(), 26*time.Second)
	m := pt.Metrics
	if m.Requests != 6 || m.Errors != 3 || m.Samples != 3 || m.OpeningSamples != 3 {
		t.Errorf("requests %d, errors %d, samples %d, openings %d; want 6, 3, 3, 3", m.Requests, m.Errors, m.Samples, m.OpeningSamples)
	}
	if m.TTFTOKMax != 2*time.Second || m.OpeningTTFTMin != 600*time.Millisecond {
		t.Errorf("ttft_ok_max %v, opening_ttft_min %v; want 2s and 600ms (u1's 4s and 0.5s are warm-up)", m.TTFTOKMax, m.OpeningTTFTMin)
	}
	if pt.Turns[1].Samples != 3 || pt.Errors["http_500"] != 1 || pt.Errors[metrics.ErrDropped] != 2 {
		t.Errorf("turn 1 samples %d, errors %v; want 3, http_500: 1, dropped: 2", pt.Turns[1].Samples, pt.Errors)
	}
	want := results.Users{Started: 3, Finished: 3, Dropped: 1, ActiveMean: 1, ActiveMax: 2, DurationMean: 25.0 / 3}
	if u := pt.Users; u == nil || u.Started != want.Started || u.Finished != want.Finished || u.Dropped != want.Dropped ||
		u.ActiveMax != want.ActiveMax || math.Abs(u.ActiveMean-want.ActiveMean) > 1e-9 || math.Abs(u.DurationMean-want.DurationMean) > 1e-6 {
		t.Errorf("users %+v, want %+v", u, want)
	}
	for _, r := range recs {
		if want := r.Session == "u1"; r.Warmup != want {
			t.Errorf("%s t%d: warmup %v, want %v", r.Session, r.Turn, r.Warmup, want)
		}
	}
}

// -resume keeps an open-loop sweep's rate points: a finished search runs
// nothing again and keeps its best rate; a changed users block is a
// different measurement, named, and refused.
func TestOpenLoopResume(t *testing.T) {
	file, sc := openSweepScenario(t, 240, 3840)
	out := t.TempDir()
	first, err := Run(context.Background(), file, sc, Options{OutDir: out})
	if err != nil || first.Best == nil {
		t.Fatalf("first run: %v, best %+v", err, first.Best)
	}
	var log strings.Builder
	again, err := Run(context.Background(), file, sc, Options{OutDir: out, Resume: true, Progress: &log})
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "point rate=") || len(again.Points) != len(first.Points) || again.Best.Rate != first.Best.Rate {
		t.Errorf("resume ran %d points (first %d), best %v (first %v):\n%s", len(again.Points), len(first.Points), again.Best.Rate, first.Best.Rate, log.String())
	}
	sc.Users.Warmup = 10 * time.Second
	_, err = Run(context.Background(), file, sc, Options{OutDir: out, Resume: true})
	if !errors.Is(err, ErrOutputInUse) || !strings.Contains(err.Error(), "users (") {
		t.Errorf("resume with another warm-up: %v; want ErrOutputInUse naming users", err)
	}
}

// exec runs an open-loop scenario on the real clock through HTTPExecutor:
// each rate's sessions reach the server with request ids naming the rate,
// every declared rate passing makes the highest the best, with no failure
// to bracket it.
func TestOpenLoopSweepRealClock(t *testing.T) {
	srv := &recordingServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	sc.Grid = spec.Grid{}
	sc.Users = &spec.Users{Arrival: spec.ArrivalConstant, Rates: []float64{1200, 600}, Sessions: 4, MaxActive: 100}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 2 || r.Points[0].Rate != 600 || r.Best == nil || r.Best.Rate != 1200 || r.RateSearch.Fail != nil {
		t.Fatalf("points %d (first at %v), best %+v, search %+v; want 600 then 1200, best 1200, no failure", len(r.Points), r.Points[0].Rate, r.Best, r.RateSearch)
	}
	perRate := map[string]int{}
	srv.mu.Lock()
	for _, q := range srv.reqs {
		for _, rate := range []string{"-r600-", "-r1200-"} {
			if strings.Contains(q.id, rate) {
				perRate[rate]++
			}
		}
	}
	srv.mu.Unlock()
	if perRate["-r600-"] != 8 || perRate["-r1200-"] != 8 {
		t.Errorf("requests by rate %v; want 8 each (4 sessions × 2 turns)", perRate)
	}
	if u := r.Points[1].Users; u == nil || u.Started != 4 || u.Finished != 4 {
		t.Errorf("sessions at 1200/min: %+v; want 4 started and finished", u)
	}
}

package runtime

import (
	"context"
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

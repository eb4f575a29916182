package runtime

import (
	"context"
	"strings"
	"testing"
)

// A point that drops sessions must not pass: latency_p95 and itl_p95 are
// measured over successful turns only, and with max_active = 1 the one
// session served looks fast at any rate, so the rate search used to climb
// to max_rate reporting a "best" rate whose error_rate was ~100 %. Dropped
// sessions are arrivals the server could not take: the rate is not
// sustained, whatever the conditions read.
func TestDroppingPointNeverPasses(t *testing.T) {
	for _, cond := range []string{"latency_p95 <= 100s", "itl_p95 <= 1s"} {
		t.Run(cond, func(t *testing.T) {
			file, sc := openSweepScenario(t, 600)
			sc.Users.MaxActive = 1
			sc.SLOs[0].Condition = mustCompile(t, cond)
			var log strings.Builder
			r, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir(), Progress: &log})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, log.String())
			}
			for _, p := range r.Points {
				if p.Passed && p.Users.Dropped > 0 {
					t.Errorf("rate %v/min passed %q with %d sessions dropped (error_rate %.2f)",
						p.Rate, cond, p.Users.Dropped, p.Metrics.ErrorRate)
				}
			}
		})
	}
}

// max_active = 1: no two sessions are ever active at once. A session that
// arrived during an engine step used to be admitted after the step's
// finishes were counted, although the finishing session was still active
// when it arrived.
func TestMaxActiveHonoured(t *testing.T) {
	file, sc := openSweepScenario(t, 600)
	sc.Users.MaxActive = 1
	sc.SLOs[0].Condition = mustCompile(t, "latency_p95 <= 100s")
	r, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Points {
		if p.Users.ActiveMax > 1 {
			t.Errorf("rate %v/min: active_max %d with max_active = 1", p.Rate, p.Users.ActiveMax)
		}
	}
}

package metrics

import (
	"testing"
	"time"
)

// A point where every steady turn failed has ttft_* = +Inf. Conditions that
// add, subtract or multiply such a TTFT never pass: +Inf under arithmetic
// fails the condition rather than wrapping to a small value.
func TestInfArithmeticNeverPasses(t *testing.T) {
	// More than half of the steady turns failed: p50, p95 and the mean are +Inf.
	p := Point{TTFTP50: Inf, TTFTP95: Inf, TTFTMean: Inf, OpeningTTFTP95: Inf, ErrorRate: 1, Samples: 8, Requests: 12, Errors: 12}
	for _, c := range []string{
		"ttft_p95 + 1s <= 2s",
		"ttft_p95 - ttft_p50 <= 500ms", // a tail-spread SLO
		"ttft_p95 * 2 <= 4s",
		"opening_ttft_p95 + ttft_p95 <= 30s",
		"ttft_mean * 2 <= 3s",
	} {
		cond, err := Compile(c, ScopePoint)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if v := cond.Evaluate(&p); v.Outcome == Pass {
			t.Errorf("%q passed on a point whose every steady turn failed (ttft_p50 = ttft_p95 = +Inf)", c)
		}
	}
}

// A histogram quantile whose upper bound is +Inf (the rank fell past the
// last finite bucket) may be any size, so a condition doing arithmetic on
// it does not pass, even though it holds at the lower bound.
func TestInfBoundArithmeticNeverPasses(t *testing.T) {
	p := Point{QueueTimeP95: 60 * time.Second, Bounds: map[string]Bounds{"queue_time_p95": {Lo: 0.5, Hi: Sec(Inf)}}}
	cond, err := Compile("queue_time_p95 + 1s <= 2s", ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	if v := cond.Evaluate(&p); v.Outcome == Pass {
		t.Errorf("queue_time_p95 + 1s <= 2s passed with queue_time_p95 in (0.5s, +Inf]")
	}
}

// A condition that compiles can be evaluated: one whose types can never
// match is a compile error, so validate and exec agree on whether the
// scenario is valid.
func TestConditionThatCannotEvaluateIsACompileError(t *testing.T) {
	for _, c := range []string{"ttft_p95 * 1.5 <= 3s", "ttft_p95 <= 2s * 1.5"} {
		cond, err := Compile(c, ScopePoint)
		if err != nil {
			continue // rejected up front: fine
		}
		p := Point{TTFTP95: time.Second}
		if v := cond.Evaluate(&p); v.Outcome == Error {
			t.Errorf("%q compiles, but every point evaluates to error: %s", c, v.Reason)
		}
	}
}

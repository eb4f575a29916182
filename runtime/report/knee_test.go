package report

import (
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// kp is a point for the knee's tests: the figures the rules read, with
// every server figure optional.
type kp struct {
	c, s      int
	pass      bool
	ttft      time.Duration
	cached    float64 // < 0: the usage reported none
	ws        int     // working set; 0: not recorded
	uncached  float64
	gpuHit    *float64
	offload   *float64
	waiting   *float64
	running   *float64
	preempted *float64
	capacity  *float64
	errors    map[string]int
	requests  int
	limited   string // the client's why, when it flagged itself
}

func f(v float64) *float64 { return &v }

func (k kp) point() results.Point {
	p := results.Point{Concurrent: k.c, Sequential: k.s, Passed: k.pass, Errors: k.errors}
	p.Metrics.TTFTP95 = k.ttft
	p.Metrics.Requests = max(k.requests, 3*k.c*k.s)
	for _, n := range k.errors {
		p.Metrics.Errors += n
	}
	p.Metrics.ErrorRate = float64(p.Metrics.Errors) / float64(p.Metrics.Requests)
	p.Metrics.NoData = metrics.NoDataSet{}
	if k.cached < 0 {
		p.Metrics.NoData["cached_tokens_ratio"] = metrics.WhyCachedUnreported
	} else {
		p.Metrics.CachedTokensRatio = k.cached
	}
	if k.ws > 0 {
		u := k.uncached
		p.Load = &metrics.Load{WorkingSetTokens: k.ws, FollowUpPromptTokens: 2000, FollowUpUncachedTokens: &u}
	}
	if k.gpuHit != nil || k.offload != nil || k.waiting != nil || k.preempted != nil || k.capacity != nil || k.running != nil {
		p.Server = &results.ServerSummary{PrefixCacheHitRate: k.gpuHit, OffloadHitRate: k.offload, RequestsWaitingMean: k.waiting,
			RequestsRunningMax: k.running, Preemptions: k.preempted, KVCapacityTokens: k.capacity}
	}
	if k.limited != "" {
		p.Client = &results.ClientCheck{Limited: true, Why: k.limited}
	}
	outcome := metrics.Fail
	if k.pass {
		outcome = metrics.Pass
	}
	p.SLOs = []results.SLOOutcome{{Name: "ttft", Outcome: outcome}}
	return p
}

func kneeResults(best [2]int, pts ...kp) *results.Results {
	r := &results.Results{Score: "sessions", SLOs: []results.SLO{{Name: "ttft", Condition: "ttft_p95 <= 250ms"}}}
	for _, k := range pts {
		r.Points = append(r.Points, k.point())
	}
	if best[0] > 0 {
		r.Best = &results.Best{Concurrent: best[0], Sequential: best[1], Sessions: best[0] * best[1]}
	}
	return r
}

// Each cause on hand-made data: the cause found, the points compared, and
// the figures the text must state (computed by hand from the fixture).
func TestExplainKnee(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		r          *results.Results
		cause      Cause
		below      [2]int // zero: none
		above      [2]int
		text, move []string
		notInText  []string
	}{
		{
			name: "kv cache: the working set crosses the stated capacity",
			r: kneeResults([2]int{2, 2},
				kp{c: 2, s: 2, pass: true, ttft: 25 * ms, cached: 0.98, ws: 8784, uncached: 34, capacity: f(10240), gpuHit: f(0.66)},
				kp{c: 2, s: 3, ttft: 671 * ms, cached: 0, ws: 13176, uncached: 2000, capacity: f(10240), gpuHit: f(0)},
				kp{c: 3, s: 2, ttft: 757 * ms, cached: 0, ws: 13176, uncached: 2000, capacity: f(10240), gpuHit: f(0)}),
			cause: CauseKVCache, below: [2]int{2, 2}, above: [2]int{2, 3},
			text: []string{"Past 4 sessions (C=2, S=2), the KV cache ran out.", "fell from 98% at 4 sessions to 0% at 6 sessions",
				"13.2k tokens at 6 sessions (8.78k at 4 sessions): it first exceeds the 10.2k-token KV cache", "prefilled ~2.00k of its ~2.00k prompt tokens (~34 at 4 sessions)",
				"TTFT p95 rose from 25.0 ms at 4 sessions to 671 ms at 6 sessions"},
			move: []string{"at least 13.2k tokens (1.3× the 10.2k stated)", "would admit 6 sessions (C=2, S=3)"},
		},
		{
			name: "kv cache without metrics: the client's cached share collapses, the capacity is unknown",
			r: kneeResults([2]int{1, 2},
				kp{c: 1, s: 2, pass: true, ttft: 25 * ms, cached: 0.9, ws: 5000, uncached: 100},
				kp{c: 1, s: 3, ttft: 900 * ms, cached: 0.3, ws: 7500, uncached: 1500}),
			cause: CauseKVCache, below: [2]int{1, 2}, above: [2]int{1, 3},
			text: []string{"fell from 90% at 2 sessions to 30% at 3 sessions", "grew to 7.50k tokens at 3 sessions", "/metrics was not read, so its KV capacity is unknown"},
			move: []string{"More KV cache, or an offload tier"},
		},
		{
			name: "offload: the GPU cache collapses but the tier finds the tokens",
			r: kneeResults([2]int{4, 3},
				kp{c: 4, s: 3, pass: true, ttft: 309 * ms, cached: 1, ws: 1598484, capacity: f(1.9e6), gpuHit: f(0.75), offload: f(0)},
				kp{c: 4, s: 4, ttft: 2500 * ms, cached: 1, ws: 2131312, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.75)}),
			cause: CauseOffload, below: [2]int{4, 3}, above: [2]int{4, 4},
			text: []string{"the GPU KV cache overflowed and the offload tier took over", "fell from 75% at 12 sessions to 0% at 16 sessions",
				"found 75% of the tokens the GPU cache missed", "still found 100% of their prompt cached", "from 309 ms at 12 sessions to 2.50 s at 16 sessions"},
			move: []string{"A GPU KV cache of at least 2.13M tokens (1.2× the 1.90M stated), so that follow-ups hit it instead of loading from the tier, or faster loads"},
		},
		{
			name: "kv cache with an offload tier that no longer holds the working set either",
			r: kneeResults([2]int{8, 3},
				kp{c: 8, s: 3, pass: true, ttft: 649 * ms, cached: 0.9997, ws: 3196968, uncached: 1, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.75), waiting: f(1.01), running: f(8), preempted: f(0)},
				kp{c: 8, s: 4, ttft: 20440 * ms, cached: 0.747, ws: 4262624, uncached: 506, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.56), waiting: f(0.71), running: f(8), preempted: f(0)}),
			cause: CauseKVCache, below: [2]int{8, 3}, above: [2]int{8, 4},
			text: []string{"fell from 100% at 24 sessions to 75% at 32 sessions", "prefilled ~506 of its ~2.00k prompt tokens (~1 at 24 sessions)",
				"The offload tier found 56% of the tokens the GPU cache missed at 32 sessions (75% at 24 sessions): it no longer holds the working set either."},
			move: []string{"A GPU KV cache and offload tier holding at least 4.26M tokens together (the GPU's is 1.90M)"},
		},
		{
			name: "queue: the cache keeps serving while requests wait",
			r: kneeResults([2]int{2, 4},
				kp{c: 2, s: 4, pass: true, ttft: 13 * ms, cached: 0.94, waiting: f(0), gpuHit: f(0.69)},
				kp{c: 4, s: 1, ttft: 265 * ms, cached: 0.94, waiting: f(2), gpuHit: f(0.69)},
				kp{c: 8, s: 1, ttft: 794 * ms, cached: 0.94, waiting: f(6), gpuHit: f(0.69)}),
			cause: CauseQueue, below: [2]int{2, 4}, above: [2]int{8, 1},
			text: []string{"From 8 sessions (C=2, S=4) to 8 sessions (C=8, S=1), requests queued at the server.", "On average 6 requests waited at C=8, S=1, against 0 at C=2, S=4", "kept serving 94%"},
			move: []string{"More compute", "the cache is not what ran out"},
		},
		{
			name: "preemption",
			r: kneeResults([2]int{2, 2},
				kp{c: 2, s: 2, pass: true, ttft: 20 * ms, cached: 0.9, preempted: f(0), waiting: f(0)},
				kp{c: 4, s: 2, ttft: 600 * ms, cached: 0.85, preempted: f(7), waiting: f(0)}),
			cause: CausePreemption, below: [2]int{2, 2}, above: [2]int{4, 2},
			text: []string{"preempted them", "It preempted 7 requests at 8 sessions (0 at 4 sessions)"},
		},
		{
			name: "failures decide when nothing on the server explains them",
			r: kneeResults([2]int{1, 1},
				kp{c: 1, s: 1, pass: true, ttft: 20 * ms, cached: 0.9},
				kp{c: 2, s: 1, ttft: metrics.Inf, cached: 0.9, requests: 6, errors: map[string]int{"http_500": 2, "timeout_first_token": 1}}),
			cause: CauseFailures, below: [2]int{1, 1}, above: [2]int{2, 1},
			text: []string{"3 of 6 requests failed at 2 sessions (http_500 2, timeout_first_token 1)", "so it is ∞ there"},
			move: []string{"Fix the failures first"},
		},
		{
			name: "client limited",
			r: kneeResults([2]int{1, 1},
				kp{c: 1, s: 1, pass: true, ttft: 20 * ms, cached: 0.9},
				kp{c: 2, s: 1, ttft: 400 * ms, cached: 0.9, limited: "stalls up to 120 ms"}),
			cause: CauseClient, below: [2]int{1, 1}, above: [2]int{2, 1},
			text: []string{"the client may have been the bottleneck: stalls up to 120 ms."},
		},
		{
			name: "compute: cache serving, nothing waiting, yet slower",
			r: kneeResults([2]int{1, 1},
				kp{c: 1, s: 1, pass: true, ttft: 20 * ms, cached: 0.9, waiting: f(0), running: f(1), preempted: f(0)},
				kp{c: 2, s: 1, ttft: 400 * ms, cached: 0.9, waiting: f(0.2), running: f(2), preempted: f(0)}),
			cause: CauseCompute, below: [2]int{1, 1}, above: [2]int{2, 1},
			text: []string{"0.2 requests waited on average while up to 2 ran at once at 2 sessions"},
			move: []string{"more KV cache would not"},
		},
		{
			name: "unknown: no server metrics, no cached tokens",
			r: kneeResults([2]int{1, 1},
				kp{c: 1, s: 1, pass: true, ttft: 20 * ms, cached: -1},
				kp{c: 2, s: 1, ttft: 400 * ms, cached: -1}),
			cause: CauseUnknown, below: [2]int{1, 1}, above: [2]int{2, 1},
			text: []string{"The data cannot say why", "add a metrics block", "--enable-prompt-tokens-details"},
		},
		{
			name: "beyond the grid, with an offload tier carrying the overflow",
			r: kneeResults([2]int{4, 4},
				kp{c: 1, s: 1, pass: true, ttft: 288 * ms, cached: 1, ws: 133207, capacity: f(1.9e6), gpuHit: f(0.75), offload: f(0)},
				kp{c: 4, s: 3, pass: true, ttft: 309 * ms, cached: 1, ws: 1598484, capacity: f(1.9e6), gpuHit: f(0.75), offload: f(0)},
				kp{c: 4, s: 4, pass: true, ttft: 654 * ms, cached: 1, ws: 2131312, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.75)}),
			cause: CauseBeyondGrid, below: [2]int{4, 4},
			text: []string{"No point that ranks above 16 sessions (C=4, S=4) was run: the limit lies beyond the grid.", "The offload tier carried the overflow.",
				"From 16 sessions (C=4, S=4) on, the working set (2.13M tokens there) exceeds the 1.90M-token GPU KV cache", "found 75% of the tokens"},
			move: []string{"Extend the grid past C=4, S=4"},
		},
		{
			name: "none passed: the cost of one request",
			r: kneeResults([2]int{},
				kp{c: 1, s: 1, ttft: 400 * ms, cached: 0.95, ws: 3000},
				kp{c: 2, s: 1, ttft: 800 * ms, cached: 0.95, ws: 6000}),
			cause: CausePerRequest, above: [2]int{1, 1},
			text: []string{"Even the smallest point (1 session (C=1, S=1)) failed: with a single session, ttft_p95 <= 250ms fails.", "TTFT p95 is 400 ms", "95% of it served from cache"},
			move: []string{"no amount of KV cache moves it"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := explainKnee(tc.r)
			if k == nil {
				t.Fatal("no explanation")
			}
			if k.Cause != tc.cause {
				t.Errorf("cause %s, want %s\n%s", k.Cause, tc.cause, k.Text)
			}
			checkPoint(t, "below", k.Below, tc.below)
			checkPoint(t, "above", k.Above, tc.above)
			for _, want := range tc.text {
				if !strings.Contains(k.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, k.Text)
				}
			}
			for _, want := range tc.move {
				if !strings.Contains(k.Move, want) {
					t.Errorf("move lacks %q:\n%s", want, k.Move)
				}
			}
		})
	}
}

func checkPoint(t *testing.T, which string, p *results.Point, want [2]int) {
	t.Helper()
	switch {
	case want == [2]int{} && p != nil:
		t.Errorf("%s is C=%d, S=%d, want none", which, p.Concurrent, p.Sequential)
	case want != [2]int{} && (p == nil || p.Concurrent != want[0] || p.Sequential != want[1]):
		t.Errorf("%s is %v, want %v", which, p, want)
	}
}

// A point that failed only for want of data is no evidence of a limit: the
// explanation compares the best with the first point that failed on a
// measurement.
func TestExplainKneeSkipsUndecided(t *testing.T) {
	r := kneeResults([2]int{1, 2},
		kp{c: 1, s: 2, pass: true, ttft: 20 * time.Millisecond, cached: 0.9},
		kp{c: 1, s: 3, ttft: 30 * time.Millisecond, cached: 0.9},
		kp{c: 2, s: 2, ttft: 900 * time.Millisecond, cached: 0.1})
	r.Points[1].SLOs[0].Outcome = metrics.NoData
	k := explainKnee(r)
	checkPoint(t, "above", k.Above, [2]int{2, 2})
	if k.Cause != CauseKVCache {
		t.Fatalf("cause %s: %s", k.Cause, k.Text)
	}
}

// Text wrapping keeps a number with its unit and indents what follows.
func TestWrapText(t *testing.T) {
	got := wrapText("TTFT p95 rose to 671 ms at 6 sessions.", 20, "  ")
	want := "TTFT p95 rose to\n  671 ms at 6\n  sessions.\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

package report

import (
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// the working set crossing the stated capacity is taken as "the KV
// cache ran out" even when the measured cache share did not fall (an
// offload tier whose metrics were not scraped, or a queue). The text then
// says the share "fell from 100% to 100%" and that each follow-up
// "prefilled ~38 of its prompt tokens" under the headline "the KV cache
// ran out", and the queue that was measured is never named.
func TestKneeCapacityCrossedButCacheKeptServing(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{4, 3},
		kp{c: 4, s: 3, pass: true, ttft: 309 * ms, cached: 1, ws: 1598484, uncached: 38, capacity: f(1.9e6), gpuHit: f(0.75), waiting: f(0.1)},
		kp{c: 4, s: 4, ttft: 3000 * ms, cached: 0.99, ws: 2131312, uncached: 38, capacity: f(1.9e6), gpuHit: f(0.74), waiting: f(6)})
	k := explainKnee(r)
	if k.Cause == CauseKVCache {
		t.Errorf("cause %s although the cache kept serving 99%% of follow-up tokens (and 6 requests waited): %s", k.Cause, k.Text)
	}
	if strings.Contains(k.Text, "fell from 100% at 12 sessions to 99%") || strings.Contains(k.Text, "ran out") {
		t.Errorf("text claims the cache ran out / fell with no collapse: %s", k.Text)
	}
}

// hitSentence says "fell" whatever the direction.
func TestKneeHitSentenceSaysFellWhenItRose(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{4, 3},
		kp{c: 4, s: 3, pass: true, ttft: 309 * ms, cached: 0.6, ws: 1598484, uncached: 800, capacity: f(1.9e6)},
		kp{c: 4, s: 4, ttft: 3000 * ms, cached: 0.9, ws: 2131312, uncached: 200, capacity: f(1.9e6)})
	k := explainKnee(r)
	if strings.Contains(k.Text, "fell from 60% at 12 sessions to 90%") {
		t.Errorf("says the share fell when it rose: %s", k.Text)
	}
}

// with no point passing, per_request claims "the time one
// follow-up takes to start is above the SLO" although the only SLO is on
// ITL and TTFT was fine, and claims "no contention to speak of" without
// any measurement of contention.
func TestKneePerRequestBlamesTTFTForAnITLSLO(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{},
		kp{c: 1, s: 1, ttft: 100 * ms, cached: 1, ws: 3000, uncached: 20},
		kp{c: 2, s: 2, ttft: 120 * ms, cached: 1, ws: 12000, uncached: 20})
	r.SLOs[0].Condition = "itl_p95 < 10ms"
	k := explainKnee(r)
	if strings.Contains(k.Text, "to start is above the SLO") {
		t.Errorf("blames TTFT for an ITL SLO that TTFT (100 ms) had nothing to do with: %s", k.Text)
	}
}

// a grid whose smallest point has 16 sessions, which fails with the
// cache share at 0% and the working set over the stated capacity, is
// explained as per_request ("no contention to speak of", "No amount of KV
// cache moves this limit") — the opposite of what the data shows.
func TestKneePerRequestIgnoresKVEvidenceAtLargeSmallestPoint(t *testing.T) {
	r := kneeResults([2]int{},
		kp{c: 4, s: 4, ttft: 27900 * time.Millisecond, cached: 0, ws: 2131312, uncached: 132000, capacity: f(1.9e6), gpuHit: f(0)})
	k := explainKnee(r)
	if k.Cause == CausePerRequest || strings.Contains(k.Move, "No amount of KV cache") {
		t.Errorf("cause %s, move %q: the working set (2.13M) exceeds the 1.90M capacity and 0%% was cached: %s", k.Cause, k.Move, k.Text)
	}
}

// "Every point up to 16 sessions passed" although a point with 8
// sessions (C=2, S=4) failed.
func TestKneeBeyondGridIgnoresFailingPointBelowBest(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{4, 4},
		kp{c: 1, s: 1, pass: true, ttft: 100 * ms, cached: 1},
		kp{c: 2, s: 4, ttft: 3000 * ms, cached: 1},
		kp{c: 4, s: 4, pass: true, ttft: 200 * ms, cached: 1})
	k := explainKnee(r)
	if strings.Contains(k.Text, "Every point up to 16 sessions (C=4, S=4) passed") {
		t.Errorf("false: C=2, S=4 failed: %s", k.Text)
	}
}

// a point above the best that could not be judged is not evidence
// that "the limit lies beyond the grid".
func TestKneeBeyondGridWithUndecidedAbove(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{4, 3},
		kp{c: 1, s: 1, pass: true, ttft: 100 * ms, cached: 1},
		kp{c: 4, s: 3, pass: true, ttft: 200 * ms, cached: 1},
		kp{c: 4, s: 4, ttft: 0, cached: 1})
	r.Points[2].SLOs[0].Outcome = metrics.NoData
	k := explainKnee(r)
	if strings.Contains(k.Text, "the limit lies beyond the grid") {
		t.Errorf("C=4, S=4 in the grid was not judged, yet: %s", k.Text)
	}
}

// the move rounds the multiple down: 2.13M / 1.90M = 1.12 is
// written "1.1×", and 1.1 × 1.90M = 2.09M is less than the "at least
// 2.13M" in the same sentence.
func TestKneeMoveMultipleRoundsDown(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{4, 3},
		kp{c: 4, s: 3, pass: true, ttft: 309 * ms, cached: 1, ws: 1598484, uncached: 38, capacity: f(1.9e6)},
		kp{c: 4, s: 4, ttft: 27900 * ms, cached: 0, ws: 2131312, uncached: 132000, capacity: f(1.9e6)})
	k := explainKnee(r)
	if strings.Contains(k.Move, "(1.1×") {
		t.Errorf("1.1 × 1.90M < 2.13M: %s", k.Move)
	}
}

// the shipped seed-frontier scenario (frontier_lmcache) explains
// its knee as "compute ... more KV cache would not" move the limit, while
// its own results show each follow-up's prefill going from ~38 to ~33.4k
// tokens (cached_tokens_ratio 100% -> 75%, offload hit 75% -> 56%,
// working set 3.20M -> 4.26M past the 3.7M offload tier). A 25-point drop
// in the cache's share is not "the cache still serving". Figures below
// are frontier_lmcache's C=8,S=3 and C=8,S=4 (uncached scaled to the
// fixture's 2000-token prompt).
func TestKneeComputeClaimedWhileRecomputeGrew(t *testing.T) {
	ms := time.Millisecond
	r := kneeResults([2]int{8, 3},
		kp{c: 8, s: 3, pass: true, ttft: 649 * ms, cached: 0.9997, ws: 3196968, uncached: 1, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.75), waiting: f(1.01), running: f(8), preempted: f(0)},
		kp{c: 8, s: 4, ttft: 20440 * ms, cached: 0.747, ws: 4262624, uncached: 506, capacity: f(1.9e6), gpuHit: f(0), offload: f(0.56), waiting: f(0.71), running: f(8), preempted: f(0)})
	k := explainKnee(r)
	if k.Cause == CauseCompute || strings.Contains(k.Move, "more KV cache would not") {
		t.Errorf("cause %s, move %q, though each follow-up prefilled 506 tokens instead of 1: %s", k.Cause, k.Move, k.Text)
	}
}

// A point with no steady turn to measure has no TTFT: neither the
// explanation nor the terminal may print a 0 that reads as instant.
func TestKneeNoDataIsNotZero(t *testing.T) {
	r := kneeResults([2]int{}, kp{c: 1, s: 1, ttft: 0, cached: 1})
	r.Points[0].Metrics.NoData["ttft_p95"] = metrics.WhyNoSteadyTurn
	k := explainKnee(r)
	if strings.Contains(k.Text, "TTFT p95 is 0") || !strings.Contains(k.Text, "TTFT p95 is unmeasured") {
		t.Errorf("knee text: %s", k.Text)
	}
	var b strings.Builder
	Terminal(&b, r)
	if strings.Contains(b.String(), "0.000") {
		t.Errorf("terminal prints a zero TTFT for a point with none:\n%s", b.String())
	}
}

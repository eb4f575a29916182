package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
)

// Cause names what limited a sweep, as the knee explanation found it.
type Cause string

// The causes the explanation recognises (docs/report.md, "Why the knee is
// there").
const (
	CauseKVCache    Cause = "kv_cache"    // the working set outgrew the KV cache; follow-ups recompute
	CauseOffload    Cause = "offload"     // the GPU cache overflowed; an offload tier loads what it lost
	CauseQueue      Cause = "queue"       // requests waited in the server's queue
	CausePreemption Cause = "preemption"  // the server preempted running requests
	CauseCompute    Cause = "compute"     // the cache kept serving and nothing waited: the steps got longer
	CauseFailures   Cause = "failures"    // requests failed, and failed turns decided the verdict
	CauseClient     Cause = "client"      // the client may have been the bottleneck
	CausePerRequest Cause = "per_request" // even the smallest point misses the SLO
	CauseBeyondGrid Cause = "beyond_grid" // every point ranked above the best passed: the limit is past the grid
	CauseUnknown    Cause = "unknown"     // the data cannot say
)

// Knee is the explanation of where a sweep's limit lies: the resource that
// ran out first and the measured evidence, comparing the best point
// (Below) with the first failing point past it (Above).
type Knee struct {
	Cause Cause
	Below *results.Point // nil when no point passed
	Above *results.Point // nil when nothing above the best failed
	// Text is the explanation, a short paragraph; Move says what would move
	// the limit, empty when the data supports nothing specific.
	Text string
	Move string
}

// Thresholds of the explanation's rules. A hit ratio "collapses" when it
// was high below the knee and fell to at most half above it; a queue is
// "real" when on average at least one request waited, or the queue took
// half of the mean TTFT.
const (
	hitHigh       = 0.5
	waitingReal   = 1.0
	queueShareBig = 0.5
)

// explainKnee builds the explanation from the results alone: it uses
// nothing but what was measured and recorded.
func explainKnee(r *results.Results) *Knee {
	if len(r.Points) == 0 {
		return nil
	}
	if isOpen(r) {
		return openKnee(r)
	}
	if k := unrunKnee(r, bestPoint(r)); k != nil {
		return k
	}
	k := &Knee{Below: bestPoint(r)}
	if k.Below == nil {
		k.Above = smallestPoint(r)
		if k.Above == nil {
			return nil
		}
		explainNonePassed(r, k)
		return k
	}
	k.Above = firstFailingAbove(r, k.Below)
	if k.Above == nil {
		if n, why := undecidedAbove(r, k.Below); n > 0 {
			k.Cause = CauseUnknown
			k.Text = fmt.Sprintf("%d point%s that would rank above %s could not be judged (%s), so where the limit lies is not measured.", n, plural(n), pointName(k.Below), why)
			return k
		}
		explainBeyond(r, k)
		return k
	}
	explainBetween(r, k)
	return k
}

// firstFailingAbove is the failing point that ranks above the best by the
// fewest sessions; among equals, one that shares C or S with the best (a
// step along one axis), then the smaller C. Points that failed only for
// want of data are not evidence of a limit and are skipped.
func firstFailingAbove(r *results.Results, best *results.Point) *results.Point {
	b := [2]int{best.Concurrent, best.Sequential}
	var cands []*results.Point
	for i := range r.Points {
		p := &r.Points[i]
		if p.Passed || p.Undecided() || !search.Better(r.Score, [2]int{p.Concurrent, p.Sequential}, b) {
			continue
		}
		cands = append(cands, p)
	}
	neighbour := func(p *results.Point) int {
		if p.Concurrent == b[0] || p.Sequential == b[1] {
			return 0
		}
		return 1
	}
	slices.SortFunc(cands, func(x, y *results.Point) int {
		return cmp.Or(cmp.Compare(sessionsOf(x), sessionsOf(y)), cmp.Compare(neighbour(x), neighbour(y)), cmp.Compare(x.Concurrent, y.Concurrent))
	})
	if len(cands) == 0 {
		return nil
	}
	return cands[0]
}

// undecidedAbove counts the measured points that rank above the best but
// could not be judged, with the first one's reason.
func undecidedAbove(r *results.Results, best *results.Point) (int, string) {
	n, why := 0, ""
	for i := range r.Points {
		p := &r.Points[i]
		if p.Undecided() && search.Better(r.Score, [2]int{p.Concurrent, p.Sequential}, [2]int{best.Concurrent, best.Sequential}) {
			if n == 0 {
				why = p.FirstReason()
			}
			n++
		}
	}
	return n, why
}

func sessionsOf(p *results.Point) int { return p.Concurrent * p.Sequential }

// explainBetween explains the step from the best point to the first failing
// one: a resource's evidence first (a cause on the server), then failures,
// then the client, then what is left.
func explainBetween(r *results.Results, k *Knee) {
	b, a := k.Below, k.Above
	ev := newEvidence(r, b, a)
	lead := fmt.Sprintf("Past %s, ", pointName(b))
	if b.Rate == 0 && sessionsOf(a) <= sessionsOf(b) {
		lead = fmt.Sprintf("From %s to %s, ", pointName(b), pointName(a))
	}
	switch {
	case ev.offloadCarried():
		k.Cause = CauseOffload
		k.Text = lead + "the GPU KV cache overflowed and the offload tier took over. " + ev.offloadSentences()
		k.Move = ev.offloadMove()
	case ev.cacheLost() || (ev.crossedCapacity() && ev.hitUnmeasured()):
		k.Cause = CauseKVCache
		k.Text = lead + "the KV cache ran out. " + ev.kvSentences()
		k.Move = ev.kvMove()
	case ev.preempted():
		k.Cause = CausePreemption
		k.Text = lead + "the server ran out of KV cache for the requests it was running and preempted them. " + ev.preemptionSentences()
		k.Move = "More KV cache per running request (a larger cache, or fewer requests batched at once) would stop the preemptions."
	case ev.queued():
		k.Cause = CauseQueue
		k.Text = lead + "requests queued at the server. " + ev.queueSentences()
		k.Move = fmt.Sprintf("More compute (another replica, or a larger batch if the accelerator has headroom) would admit %s; the cache is not what ran out.", pointName(a))
	case ev.failuresDecided():
		k.Cause = CauseFailures
		k.Text = lead + "requests failed. " + ev.failureSentences()
		k.Move = "Fix the failures first: until they stop, the limit is where the server starts failing, not where it slows down."
	case ev.clientLimited():
		k.Cause = CauseClient
		k.Text = lead + "the client may have been the bottleneck: " + a.Client.Why + ". " + ev.ttftSentence()
		k.Move = "Run mrqa on a machine with more free cores (or fewer other processes) and measure again before trusting this limit."
	case ev.computeBound():
		k.Cause = CauseCompute
		k.Text = lead + "each request took longer to start, with the cache still serving and no queue. " + ev.computeSentences()
		k.Move = "A faster engine step (more compute, a smaller model or batch) would move the limit; more KV cache would not."
	default:
		k.Cause = CauseUnknown
		k.Text = fmt.Sprintf("The data cannot say why %s fails where %s passes. %s %s", pointName(a), pointName(b), ev.ttftSentence(), ev.whatToEnable())
	}
	if k.Cause != CauseClient {
		k.Text = strings.TrimSpace(k.Text + " " + ev.caveats())
	}
}

// explainBeyond explains a sweep where no measured point ranks above the
// best: the limit is past the grid. What the data shows on the way there —
// an offload tier carrying an overflowing GPU cache — is said too, and so
// are smaller points that failed (the results are then not monotone).
func explainBeyond(r *results.Results, k *Knee) {
	k.Cause = CauseBeyondGrid
	low := smallestPoint(r)
	high := k.Below
	k.Text = fmt.Sprintf("No point that ranks above %s was run: the limit lies beyond the grid.", pointName(high))
	if n := failedBelow(r); n > 0 {
		k.Text += fmt.Sprintf(" (%d smaller point%s failed: the results are not monotone in load.)", n, plural(n))
	}
	if low != nil && low != high {
		ev := newEvidence(r, low, high)
		if ev.offloadCarried() {
			k.Text += " The offload tier carried the overflow. " + ev.overflowLead() + " " + ev.offloadSentences()
		} else if ev.crossedCapacity() {
			k.Text += " " + ev.overflowLead()
		}
	}
	k.Move = fmt.Sprintf("Extend the grid past C=%d, S=%d (or use search \"frontier\", which extends it) to find the limit.", high.Concurrent, high.Sequential)
}

func failedBelow(r *results.Results) int {
	n := 0
	for i := range r.Points {
		if !r.Points[i].Passed {
			n++
		}
	}
	return n
}

// explainNonePassed explains a sweep where not even the smallest point
// passed. At one session the limit is the cost of one request (or
// failures, or the client); at a larger smallest point, the KV evidence
// there, else the grid simply starts too high.
func explainNonePassed(r *results.Results, k *Knee) {
	a := k.Above
	ev := newEvidence(r, nil, a)
	lead := fmt.Sprintf("Even the smallest point (%s) failed: ", pointName(a))
	switch {
	case a.Undecided():
		k.Cause = CauseUnknown
		k.Text = lead + "it could not be judged (" + a.FirstReason() + ")."
	case ev.failuresDecided():
		k.Cause = CauseFailures
		k.Text = lead + "requests failed. " + ev.failureSentences()
		k.Move = "Fix the failures first; then the limit can be measured."
	case ev.clientLimited():
		k.Cause = CauseClient
		k.Text = lead + "the client may have been the bottleneck: " + a.Client.Why + "."
		k.Move = "Run mrqa on a machine with more free cores and measure again."
	case ev.overCapacityUncached():
		k.Cause = CauseKVCache
		k.Text = lead + "its working set already outgrows the KV cache. " + joinSentences([]string{ev.workingSetSentence(), ev.perRequestSentence()})
		k.Move = ev.kvMove()
	case sessionsOf(a) > 1:
		k.Cause = CauseUnknown
		k.Text = lead + fmt.Sprintf("%s. No smaller point was run, so whether fewer sessions would pass is not measured.", ev.failedSLOs())
		k.Move = "Add smaller points to the grid (C=1, S=1 at least) to find the limit."
	default:
		k.Cause = CausePerRequest
		k.Text = lead + fmt.Sprintf("with a single session, %s. ", ev.failedSLOs()) + ev.perRequestSentence()
		k.Move = "That is the server's speed for one request, not its capacity: no amount of KV cache moves it; a faster server or a looser SLO does."
	}
}

// pointName names a point the way the terminal and page do.
func pointName(p *results.Point) string {
	if p.Rate > 0 {
		return rateText(p.Rate) + " arriving sessions"
	}
	n := sessionsOf(p)
	return fmt.Sprintf("%d session%s (C=%d, S=%d)", n, plural(n), p.Concurrent, p.Sequential)
}

// fmtTokens writes a token count for people: 950, 13.2k, 131k, 2.13M.
func fmtTokens(f float64) string {
	switch {
	case f >= 1e7:
		return trimFloat(f/1e6, 1) + "M"
	case f >= 1e6:
		return trimFloat(f/1e6, 2) + "M"
	case f >= 1e5:
		return trimFloat(f/1e3, 0) + "k"
	case f >= 1e4:
		return trimFloat(f/1e3, 1) + "k"
	case f >= 1e3:
		return trimFloat(f/1e3, 2) + "k"
	}
	return trimFloat(math.Round(f), 0)
}

// orInf is a duration for a sentence: "∞ (failed turns)" reads as what it is.
func orInf(d float64) string {
	switch {
	case math.IsInf(d, 1):
		return "∞"
	case math.IsNaN(d):
		return "unmeasured"
	}
	return fmtSec(d)
}

// ttftP95 is a point's steady TTFT p95 in seconds: +Inf when failed turns
// pushed it there, NaN when the point had nothing to measure.
func ttftP95(p *results.Point) float64 {
	switch {
	case p.Metrics.NoData.Has("ttft_p95"):
		return math.NaN()
	case p.Metrics.TTFTP95 == metrics.Inf:
		return math.Inf(1)
	}
	return p.Metrics.TTFTP95.Seconds()
}

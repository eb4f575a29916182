package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// evidence holds the two points the explanation compares, b (below the
// knee; nil when none passed) and a (above it), and the run-wide figures.
// Each rule reads only figures that were measured: a figure a point lacks
// makes the rule say nothing, never something false.
type evidence struct {
	r        *results.Results
	b, a     *results.Point
	capacity float64 // KV capacity in tokens the server stated; 0: unknown
}

func newEvidence(r *results.Results, b, a *results.Point) *evidence {
	return &evidence{r: r, b: b, a: a, capacity: kvCapacity(r)}
}

// kvCapacity is the KV capacity the server stated during the run (the
// largest, should it have changed); 0 when it never did.
func kvCapacity(r *results.Results) float64 {
	var c float64
	for i := range r.Points {
		if s := r.Points[i].Server; s != nil && s.KVCapacityTokens != nil {
			c = max(c, *s.KVCapacityTokens)
		}
	}
	return c
}

// clientHit is the share of a point's follow-up prompt tokens the server's
// usage reported as cached (cached_tokens_ratio).
func clientHit(p *results.Point) (float64, bool) {
	if p == nil || p.Metrics.NoData.Has("cached_tokens_ratio") {
		return 0, false
	}
	return p.Metrics.CachedTokensRatio, true
}

// gpuHit is the server's own prefix-cache hit rate over every turn of the
// point (prefix_cache_hit_rate).
func gpuHit(p *results.Point) (float64, bool) {
	if p == nil || p.Server == nil || p.Server.PrefixCacheHitRate == nil {
		return 0, false
	}
	return *p.Server.PrefixCacheHitRate, true
}

// workingSet is a grid point's working set. An open-loop point has none to
// state: its sessions come and go, so the sum over all of them is not what
// the cache holds at once.
func workingSet(p *results.Point) (float64, bool) {
	if p == nil || p.Rate > 0 || p.Load == nil || p.Load.WorkingSetTokens == 0 {
		return 0, false
	}
	return float64(p.Load.WorkingSetTokens), true
}

func serverFigure(p *results.Point, f func(*results.ServerSummary) *float64) (float64, bool) {
	if p == nil || p.Server == nil || f(p.Server) == nil {
		return 0, false
	}
	return *f(p.Server), true
}

func collapsed(below, above float64) bool { return below >= hitHigh && above <= below/2 }

// cacheLost: the cache stopped covering the follow-ups. By the client's
// usage: its share was high below the knee and fell to at most half above,
// or fell by at least ten points while what each follow-up prefilled grew
// fourfold and by a twentieth of its prompt. Without the usage, by the
// server's GPU counters collapsing.
func (e *evidence) cacheLost() bool {
	if hb, ok := clientHit(e.b); ok {
		if ha, ok := clientHit(e.a); ok {
			return collapsed(hb, ha) || (hb-ha >= 0.1 && e.prefillGrew())
		}
	}
	return e.gpuCollapsed()
}

// prefillGrew: each follow-up prefilled at least four times as many tokens
// above the knee as below, and the growth is at least 5 % of its prompt.
func (e *evidence) prefillGrew() bool {
	if e.b == nil || e.b.Load == nil || e.a.Load == nil || e.b.Load.FollowUpUncachedTokens == nil || e.a.Load.FollowUpUncachedTokens == nil {
		return false
	}
	ub, ua := *e.b.Load.FollowUpUncachedTokens, *e.a.Load.FollowUpUncachedTokens
	return ua >= 4*ub && ua-ub >= 0.05*e.a.Load.FollowUpPromptTokens
}

// hitUnmeasured: neither side has the cache's share, by usage or by the
// server's counters.
func (e *evidence) hitUnmeasured() bool {
	_, cb := clientHit(e.b)
	_, ca := clientHit(e.a)
	_, gb := gpuHit(e.b)
	_, ga := gpuHit(e.a)
	return !(cb && ca) && !(gb && ga)
}

func (e *evidence) gpuCollapsed() bool {
	hb, okb := gpuHit(e.b)
	ha, oka := gpuHit(e.a)
	return okb && oka && collapsed(hb, ha)
}

// crossedCapacity: the working set fitted the stated KV cache below the knee
// (a lower bound there proves nothing) and exceeds it above.
func (e *evidence) crossedCapacity() bool {
	wb, okb := workingSet(e.b)
	wa, oka := workingSet(e.a)
	return e.capacity > 0 && okb && oka && !e.b.Load.LowerBound && wb <= e.capacity && wa > e.capacity
}

// firstOver reports whether p has the smallest working set of all the
// points whose working set exceeds the stated capacity.
func (e *evidence) firstOver(p *results.Point) bool {
	w, ok := workingSet(p)
	if !ok || e.capacity == 0 || w <= e.capacity {
		return false
	}
	for i := range e.r.Points {
		if o, ok := workingSet(&e.r.Points[i]); ok && o > e.capacity && o < w {
			return false
		}
	}
	return true
}

// offloadCarried: the GPU prefix cache stopped hitting, and an offload tier
// found at least a quarter of what it missed.
func (e *evidence) offloadCarried() bool {
	oh, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.OffloadHitRate })
	if ha, known := clientHit(e.a); known && ha < hitHigh {
		return false
	}
	return ok && oh >= 0.25 && e.gpuCollapsed()
}

func (e *evidence) preempted() bool {
	pa, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.Preemptions })
	pb, _ := serverFigure(e.b, func(s *results.ServerSummary) *float64 { return s.Preemptions })
	return ok && pa > 0 && pa > 2*pb
}

// queued: at least one request waited on average above the knee (more than
// below it), or the server's queue time took half the mean TTFT there.
func (e *evidence) queued() bool {
	wa, oka := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean })
	wb, _ := serverFigure(e.b, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean })
	if oka && wa >= waitingReal && wa > wb {
		return true
	}
	qa, oka := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.QueueShare })
	qb, _ := serverFigure(e.b, func(s *results.ServerSummary) *float64 { return s.QueueShare })
	return oka && qa >= queueShareBig && qa > qb
}

// failuresDecided: turns failed above the knee and that alone decided the
// verdict: ttft_p95 is infinite (over 5 % of steady turns failed), or a
// failing condition reads an error metric.
func (e *evidence) failuresDecided() bool {
	if e.a.Metrics.Errors == 0 {
		return false
	}
	if math.IsInf(ttftP95(e.a), 1) {
		return true
	}
	for i, o := range e.a.SLOs {
		if !o.Outcome.Passed() && i < len(e.r.SLOs) && strings.Contains(e.r.SLOs[i].Condition, "error") {
			return true
		}
	}
	return false
}

func (e *evidence) clientLimited() bool { return e.a.Client != nil && e.a.Client.Limited }

// computeBound: TTFT rose while the cache kept serving, no request waited on
// average and none was preempted — all of it measured.
func (e *evidence) computeBound() bool {
	h, okh := clientHit(e.a)
	if !okh {
		h, okh = gpuHit(e.a)
	}
	w, okw := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean })
	p, okp := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.Preemptions })
	return okh && h >= hitHigh && okw && w < waitingReal && (!okp || p == 0) && ttftP95(e.a) > ttftP95(e.b) && !e.cacheFell()
}

// cacheFell: the cache's share fell at all (by two points or more), or
// each follow-up prefilled more.
func (e *evidence) cacheFell() bool {
	if hb, ok := clientHit(e.b); ok {
		if ha, ok := clientHit(e.a); ok && hb-ha >= 0.02 {
			return true
		}
	}
	return e.prefillGrew()
}

// at names where a figure was read: "at 6 sessions", or "at C=8, S=1"
// when the two points compared have as many sessions.
func (e *evidence) at(p *results.Point) string {
	if p.Rate > 0 {
		return "at " + rateText(p.Rate)
	}
	if e.b != nil && sessionsOf(e.b) == sessionsOf(e.a) {
		return fmt.Sprintf("at C=%d, S=%d", p.Concurrent, p.Sequential)
	}
	n := sessionsOf(p)
	return fmt.Sprintf("at %d session%s", n, plural(n))
}

// fmtCount writes a count or a mean of counts: 6, 0.4, 12.5.
func fmtCount(f float64) string {
	if f == math.Trunc(f) {
		return trimFloat(f, 0)
	}
	return trimFloat(f, 1)
}

func (e *evidence) ttftSentence() string {
	if e.b == nil {
		return fmt.Sprintf("TTFT p95 is %s.", orInf(ttftP95(e.a)))
	}
	return fmt.Sprintf("TTFT p95 rose from %s %s to %s %s.", orInf(ttftP95(e.b)), e.at(e.b), orInf(ttftP95(e.a)), e.at(e.a))
}

// hitSentence says how the cache's share of the prompt changed, naming
// which figure it is.
func (e *evidence) hitSentence() string {
	if hb, ok := clientHit(e.b); ok {
		if ha, ok := clientHit(e.a); ok {
			return fmt.Sprintf("The share of follow-up prompt tokens served from cache (cached_tokens_ratio) %s %s %s to %s %s.", moved(hb, ha), fmtPct(hb), e.at(e.b), fmtPct(ha), e.at(e.a))
		}
	}
	if hb, ok := gpuHit(e.b); ok {
		if ha, ok := gpuHit(e.a); ok {
			return fmt.Sprintf("The server's prefix-cache hit rate over all turns (prefix_cache_hit_rate) %s %s %s to %s %s.", moved(hb, ha), fmtPct(hb), e.at(e.b), fmtPct(ha), e.at(e.a))
		}
	}
	return ""
}

// moved says which way a ratio went, as the verb before "from … to …".
func moved(from, to float64) string {
	switch {
	case to < from-0.005:
		return "fell from"
	case to > from+0.005:
		return "rose from"
	}
	return "stayed at about"
}

// workingSetSentence sets the working set beside the KV capacity.
func (e *evidence) workingSetSentence() string {
	wa, oka := workingSet(e.a)
	if !oka {
		return ""
	}
	wb, okb := workingSet(e.b)
	below := ""
	if okb {
		below = fmt.Sprintf(" (%s %s)", fmtTokens(wb), e.at(e.b))
	}
	lower := ""
	if e.a.Load.LowerBound {
		lower = " at least"
	}
	switch {
	case e.capacity == 0 && e.a.Server == nil:
		return fmt.Sprintf("The working set (every session's conversation) grew to%s %s tokens %s%s; the server's /metrics was not read, so its KV capacity is unknown.", lower, fmtTokens(wa), e.at(e.a), below)
	case e.capacity == 0:
		return fmt.Sprintf("The working set (every session's conversation) grew to%s %s tokens %s%s; the server does not state its KV capacity (vLLM's cache_config_info, SGLang's max_total_num_tokens), so where it ends is not measured.", lower, fmtTokens(wa), e.at(e.a), below)
	case e.crossedCapacity() && e.firstOver(e.a):
		return fmt.Sprintf("The working set (every session's conversation) is%s %s tokens %s%s: it first exceeds the %s-token KV cache the server states there.", lower, fmtTokens(wa), e.at(e.a), below, fmtTokens(e.capacity))
	case wa > e.capacity:
		return fmt.Sprintf("The working set (every session's conversation) is%s %s tokens %s%s, against a %s-token KV cache.", lower, fmtTokens(wa), e.at(e.a), below, fmtTokens(e.capacity))
	}
	return fmt.Sprintf("Yet the working set (%s tokens %s) is within the %s-token KV cache the server states: something else (other traffic, fragmentation, the server's eviction) took the space.", fmtTokens(wa), e.at(e.a), fmtTokens(e.capacity))
}

// recomputeSentence says what each follow-up prefilled on either side.
func (e *evidence) recomputeSentence(verb string) string {
	if e.a.Load == nil || e.a.Load.FollowUpUncachedTokens == nil {
		return ""
	}
	s := fmt.Sprintf("Each follow-up then %s ~%s of its ~%s prompt tokens", verb, fmtTokens(*e.a.Load.FollowUpUncachedTokens), fmtTokens(e.a.Load.FollowUpPromptTokens))
	if e.b != nil && e.b.Load != nil && e.b.Load.FollowUpUncachedTokens != nil {
		s += fmt.Sprintf(" (~%s %s)", fmtTokens(*e.b.Load.FollowUpUncachedTokens), e.at(e.b))
	}
	return s + ","
}

func (e *evidence) kvSentences() string {
	parts := []string{e.hitSentence(), e.workingSetSentence()}
	if rc := e.recomputeSentence("prefilled"); rc != "" {
		parts = append(parts, rc+" and "+lowerFirst(e.ttftSentence()))
	} else {
		parts = append(parts, e.ttftSentence())
	}
	if oa, ok := e.offloadHit(e.a); ok {
		s := fmt.Sprintf("The offload tier found %s of the tokens the GPU cache missed %s", fmtPct(oa), e.at(e.a))
		if ob, ok := e.offloadHit(e.b); ok {
			s += fmt.Sprintf(" (%s %s)", fmtPct(ob), e.at(e.b))
		}
		parts = append(parts, s+": it no longer holds the working set either.")
	}
	if u, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax }); ok && u < 0.9 {
		parts = append(parts, fmt.Sprintf("(kv_cache_usage_max stays at %s %s: it counts the blocks of running requests, not the conversations kept between turns.)", fmtPct(u), e.at(e.a)))
	}
	return joinSentences(parts)
}

// overflowLead says from which point on the working set exceeds the GPU
// KV cache, over every point run.
func (e *evidence) overflowLead() string {
	if e.capacity == 0 {
		return ""
	}
	pts := make([]*results.Point, 0, len(e.r.Points))
	for i := range e.r.Points {
		pts = append(pts, &e.r.Points[i])
	}
	slices.SortFunc(pts, func(x, y *results.Point) int { return sessionsOf(x) - sessionsOf(y) })
	for _, p := range pts {
		if w, ok := workingSet(p); ok && w > e.capacity {
			return fmt.Sprintf("From %s on, the working set (%s tokens there) exceeds the %s-token GPU KV cache the server states.", pointName(p), fmtTokens(w), fmtTokens(e.capacity))
		}
	}
	return ""
}

func (e *evidence) offloadSentences() string {
	oh, _ := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.OffloadHitRate })
	s := fmt.Sprintf("The GPU prefix-cache hit rate (prefix_cache_hit_rate) fell to %s %s", fmtPct(mustGPUHit(e.a)), e.at(e.a))
	if hb, ok := gpuHit(e.b); ok {
		s = fmt.Sprintf("The GPU prefix-cache hit rate (prefix_cache_hit_rate) fell from %s %s to %s %s", fmtPct(hb), e.at(e.b), fmtPct(mustGPUHit(e.a)), e.at(e.a))
	}
	s += fmt.Sprintf(", but the offload tier found %s of the tokens the GPU cache missed and loaded them", fmtPct(oh))
	if ha, ok := clientHit(e.a); ok {
		s += fmt.Sprintf(", so follow-ups still found %s of their prompt cached (cached_tokens_ratio)", fmtPct(ha))
	}
	return s + ". " + e.ttftSentence()
}

func mustGPUHit(p *results.Point) float64 { h, _ := gpuHit(p); return h }

func (e *evidence) offloadHit(p *results.Point) (float64, bool) {
	return serverFigure(p, func(s *results.ServerSummary) *float64 { return s.OffloadHitRate })
}

// timesCapacity writes tokens as a multiple of the stated capacity,
// rounded up: "1.2" for 2.13M over 1.90M, so the multiple never reads
// smaller than the tokens it stands for.
func (e *evidence) timesCapacity(tokens float64) string {
	return trimFloat(math.Ceil(tokens/e.capacity*10)/10, 1)
}

func (e *evidence) kvMove() string {
	wa, ok := workingSet(e.a)
	target := pointName(e.a)
	if _, tier := e.offloadHit(e.a); tier && ok {
		return fmt.Sprintf("A GPU KV cache and offload tier holding at least %s tokens together (the GPU's is %s), or faster loads from the tier, would admit %s if nothing else runs out first.",
			fmtTokens(wa), fmtTokens(e.capacity), target)
	}
	if !ok || e.capacity == 0 {
		return fmt.Sprintf("More KV cache, or an offload tier for what does not fit, would admit %s if nothing else runs out first.", target)
	}
	return fmt.Sprintf("A KV cache of at least %s tokens (%s× the %s stated), or an offload tier holding the rest, would admit %s if nothing else runs out first.",
		fmtTokens(wa), e.timesCapacity(wa), fmtTokens(e.capacity), target)
}

// offloadMove is what would move a limit set by loading from an offload
// tier that holds the working set: a GPU cache that holds it, or faster loads.
func (e *evidence) offloadMove() string {
	wa, ok := workingSet(e.a)
	if !ok || e.capacity == 0 {
		return fmt.Sprintf("More GPU KV cache, so that follow-ups hit it instead of loading from the tier, or faster loads from the tier, would admit %s.", pointName(e.a))
	}
	return fmt.Sprintf("A GPU KV cache of at least %s tokens (%s× the %s stated), so that follow-ups hit it instead of loading from the tier, or faster loads from the tier, would admit %s.",
		fmtTokens(wa), e.timesCapacity(wa), fmtTokens(e.capacity), pointName(e.a))
}

func (e *evidence) preemptionSentences() string {
	pa, _ := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.Preemptions })
	s := fmt.Sprintf("It preempted %s request%s %s", fmtCount(pa), plural(int(pa)), e.at(e.a))
	if pb, ok := serverFigure(e.b, func(s *results.ServerSummary) *float64 { return s.Preemptions }); ok {
		s += fmt.Sprintf(" (%s %s)", fmtCount(pb), e.at(e.b))
	}
	return s + ", recomputing what it dropped. " + e.ttftSentence()
}

func (e *evidence) queueSentences() string {
	var parts []string
	if w, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean }); ok {
		s := fmt.Sprintf("On average %s requests waited %s", fmtCount(w), e.at(e.a))
		if m, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMax }); ok {
			s += fmt.Sprintf(" (up to %s)", fmtCount(m))
		}
		if wb, ok := serverFigure(e.b, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean }); ok {
			s += fmt.Sprintf(", against %s %s", fmtCount(wb), e.at(e.b))
		}
		parts = append(parts, s+".")
	}
	if q, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.QueueShare }); ok {
		parts = append(parts, fmt.Sprintf("The server's queue time is %s of the mean TTFT %s.", fmtPct(q), e.at(e.a)))
	}
	if h, ok := clientHit(e.a); ok {
		parts = append(parts, fmt.Sprintf("The cache kept serving %s of follow-up prompt tokens (cached_tokens_ratio).", fmtPct(h)))
	}
	parts = append(parts, e.ttftSentence())
	return joinSentences(parts)
}

func (e *evidence) failureSentences() string {
	m := e.a.Metrics
	kinds := make([]string, 0, len(e.a.Errors))
	for k, n := range e.a.Errors {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	s := fmt.Sprintf("%d of %d requests failed %s (%s)", m.Errors, m.Requests, e.at(e.a), strings.Join(kinds, ", "))
	if math.IsInf(ttftP95(e.a), 1) {
		s += "; failed turns count as ∞ in ttft_p95, so it is ∞ there"
	}
	parts := []string{s + "."}
	if e.cacheLost() {
		parts = append(parts, e.hitSentence())
	}
	return joinSentences(parts)
}

func (e *evidence) computeSentences() string {
	var parts []string
	if h, ok := clientHit(e.a); ok {
		parts = append(parts, fmt.Sprintf("The cache served %s of follow-up prompt tokens (cached_tokens_ratio) and", fmtPct(h)))
	}
	w, _ := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsWaitingMean })
	s := fmt.Sprintf("%s requests waited on average", fmtCount(w))
	if r, ok := serverFigure(e.a, func(s *results.ServerSummary) *float64 { return s.RequestsRunningMax }); ok {
		s += fmt.Sprintf(" while up to %s ran at once", fmtCount(r))
	}
	parts = append(parts, s+" "+e.at(e.a)+".", e.ttftSentence())
	return joinSentences(parts)
}

// overCapacityUncached: the point's working set exceeds the stated KV
// capacity and its follow-ups found less than half their prompt cached.
func (e *evidence) overCapacityUncached() bool {
	w, ok := workingSet(e.a)
	h, okh := clientHit(e.a)
	if !okh {
		h, okh = gpuHit(e.a)
	}
	return ok && e.capacity > 0 && w > e.capacity && okh && h < hitHigh
}

// failedSLOs names the conditions the point failed: "ttft_p95 <= 2s fails".
func (e *evidence) failedSLOs() string {
	var out []string
	for _, o := range e.a.SLOs {
		if o.Outcome.Passed() {
			continue
		}
		cond := o.Name
		for _, s := range e.r.SLOs {
			if s.Name == o.Name {
				cond = s.Condition
			}
		}
		out = append(out, cond)
	}
	if len(out) == 0 {
		return "it failed"
	}
	return strings.Join(out, " and ") + " fails"
}

func (e *evidence) perRequestSentence() string {
	s := e.ttftSentence()
	if e.a.Load != nil && e.a.Load.FollowUpPromptTokens > 0 {
		s += fmt.Sprintf(" A follow-up's prompt is ~%s tokens", fmtTokens(e.a.Load.FollowUpPromptTokens))
		if h, ok := clientHit(e.a); ok {
			s += fmt.Sprintf(", %s of it served from cache", fmtPct(h))
		}
		s += "."
	}
	return s
}

// whatToEnable says which data would let mrqa tell the cause.
func (e *evidence) whatToEnable() string {
	var out []string
	if (e.a.Server == nil) && (e.b == nil || e.b.Server == nil) {
		out = append(out, "The target's /metrics was not read: add a metrics block (vLLM and SGLang serve /metrics on their API port) so the KV cache, queue and preemptions can be read.")
	}
	if _, ok := clientHit(e.a); !ok {
		out = append(out, "The server's usage reported no cached tokens (vLLM: --enable-prompt-tokens-details), so the cache's share of each prompt is unknown.")
	}
	if len(out) == 0 {
		out = append(out, "Between the two points the measured cache share, queue and preemptions did not change enough to name one of them.")
	}
	return strings.Join(out, " ")
}

// caveats are said whatever the cause: a client that may have been the
// bottleneck above the knee.
func (e *evidence) caveats() string {
	if e.clientLimited() && e.a.Client != nil {
		return fmt.Sprintf("Note: the client may have limited %s (%s), so its timings are not the server's alone.", pointName(e.a), e.a.Client.Why)
	}
	return ""
}

// joinSentences joins the non-empty parts with spaces.
func joinSentences(parts []string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func lowerFirst(s string) string {
	if len(s) < 2 || strings.ToUpper(s[1:2]) == s[1:2] {
		return s // empty, or an acronym such as TTFT
	}
	return strings.ToLower(s[:1]) + s[1:]
}

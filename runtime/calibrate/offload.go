package calibrate

import (
	"fmt"
	"slices"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

// Offload is an offload tier (LMCache's CPU tier, the simulator's) as the
// probe found it: what showed it and, where the KV ladder could measure
// it, the simulator's tier capacity and per-token load cost fitted to it.
type Offload struct {
	Seen string `json:"seen"` // what showed the tier
	// Tokens is the simulator's offload_tokens that holds what the ladder
	// held beyond the GPU's capacity; 0: not fitted (Why says why).
	Tokens  int    `json:"tokens,omitempty"`
	Bracket [2]int `json:"bracket,omitzero"` // Tokens from the ladder's bracket
	// LoadUSPerToken is the time a resend took, beyond the fitted cached
	// follow-up, per token it found cached, on rungs past the GPU's
	// capacity: the median over LoadResends resends; 0: not fitted.
	LoadUSPerToken float64 `json:"load_us_per_token,omitempty"`
	LoadResends    int     `json:"load_resends,omitempty"`
	Why            string  `json:"why,omitempty"`
}

// notFitted is how an offload tier that was seen but not measured is said.
const notFitted = "offload tier seen, not fitted: "

// clearlyMore is how much more than the GPU's stated capacity the ladder
// must hold (a fraction of it) to show a tier by itself.
const clearlyMore = 0.10

// fallbackOffload is the profile whose load figures stand for a tier's
// when the base profile has none and the probe could not measure them.
const fallbackOffload = profile.SeedLMCache

// findOffload judges the ladder (kv) against what /metrics stated, its
// offloadHits being the tier's hits during the ladder: a tier shows by
// those hits or by the ladder holding clearly more than the GPU's stated
// capacity, where /metrics has no offload counters. It returns nil when
// none shows; counters that never counted a hit are noted (the simulator
// exports them with no tier).
func findOffload(kv, stated KV, session int, notes []string) (*Offload, []string) {
	more := stated.Tokens > 0 && float64(kv.Tokens) > float64(stated.Tokens)*(1+clearlyMore)
	served := stated.offloadHits > 0
	if !served && (!more || stated.OffloadCounters) {
		if stated.OffloadCounters {
			notes = append(notes, "/metrics has offload tier counters, but they counted no hit during the KV ladder: no offload tier is modelled")
		}
		return nil, notes
	}
	o := &Offload{Seen: fmt.Sprintf("/metrics' offload tier counters: it served %.0f tokens during the KV ladder", stated.offloadHits)}
	if !served {
		o.Seen = fmt.Sprintf("the KV ladder held %d tokens where /metrics states a GPU capacity of %d", kv.Tokens, stated.Tokens)
	}
	switch {
	case stated.Tokens == 0:
		o.Why = notFitted + "/metrics states no GPU capacity (vllm:cache_config_info) to tell the GPU's share of what the ladder held from the tier's"
	case kv.Tokens == 0:
		o.Why = notFitted + "the KV ladder's capacity was " + kv.Why
	case !more:
		o.Why = notFitted + fmt.Sprintf("the KV ladder held %d tokens, not clearly more than the GPU's %d: the tier held too little for %d-token sessions, or stored nothing they reused",
			kv.Tokens, stated.Tokens, session)
	default:
		o.Tokens = tierTokens(kv.Tokens, stated.Tokens)
		o.Bracket = [2]int{o.Tokens, tierTokens(kv.Bracket[1], stated.Tokens)}
	}
	return o, notes
}

// tierTokens is the simulator's offload_tokens under which the ladder
// holds total tokens beside a GPU cache of gpu tokens: twice the excess.
// The simulator's tier takes what the GPU evicts and keeps what it loads
// back; sessions resent in the order they were sent each evict from the
// GPU, into the tier, the session due next but one, so by the time the
// last of the sessions the tier held is resent, the tier has also taken
// as many tokens again. docs/simulator.md ("Calibrating") says what this
// means for a server whose tier stores differently.
func tierTokens(total, gpu int) int {
	return 2 * max(total-gpu, 0)
}

// tierAfterProbe acts, after the cold probes, on the offload counters
// /metrics had: where they looked tokens up there is a tier, and the KV
// ladder is added to the plan when it is to run only to look for one
// (forTier), or the tier is said to be unmeasured when the ladder is off;
// where they looked up nothing there is none, and no ladder runs for it.
func (p *prober) tierAfterProbe(cal *Calibration, forTier bool, ladder *LadderPlan, now KV) {
	looked := tierLooked(cal.KV, now)
	switch {
	case forTier && looked:
		cal.Plan.addLadder(ladder)
		p.ladderForTier = true
		fmt.Fprintf(p.opts.Progress, "  offload tier: its counters looked up %.0f tokens during the cold probes: the KV ladder runs\n",
			now.offloadRequested-cal.KV.offloadRequested)
	case forTier:
		p.notes = append(p.notes, "/metrics has offload tier counters, but the tier looked up no token during the cold probes: no offload tier is modelled, /metrics' capacity is kept and no KV ladder runs")
	case looked && cal.Plan.Ladder == nil:
		cal.Offload = &Offload{Seen: "/metrics' offload tier counters looked tokens up during the cold probes", Why: notFitted + "the KV ladder, which measures it, was off"}
	}
}

// tierLooked says whether the tier looked anything up since before (the
// cold probes miss the GPU's cache, so a tier looks them up); true where
// /metrics counts no lookups, only hits, which a ladder must then show.
func tierLooked(before, now KV) bool {
	return !now.offloadLookups || now.offloadRequested > before.offloadRequested
}

// fitLoad fits the tier's load cost from the ladder's rungs that held at
// least a session more than the GPU's capacity: there every resend's
// session had been evicted from the GPU by the resends before it (they
// come back in the order they were sent), so the tier served it. A
// resend's time beyond the fit's cached follow-up, per cached token, is
// its load cost; the median over the resends is kept. An extra time per
// resend within twice the TTFT fit's rms residual is too small to tell.
func (o *Offload) fitLoad(rungs []Rung, gpu, session int, fit Fit, chunk int) {
	var perToken, extra []float64
	for _, r := range rungs {
		if !r.Held || r.Tokens < gpu+session {
			continue
		}
		for _, h := range r.hits {
			x := (h.ttft - fit.TTFT(h.prompt, h.cached, chunk)).Seconds()
			extra, perToken = append(extra, x), append(perToken, x/float64(max(h.cached, 1)))
		}
	}
	if len(perToken) == 0 {
		o.Why = notFitted + fmt.Sprintf("its load cost: no rung that held reached a session (%d tokens) past the GPU's %d", session, gpu)
		return
	}
	noise := 2 * fit.rms("ttft") / 1e3
	if m := median(extra); m <= noise {
		o.Why = notFitted + fmt.Sprintf("its load cost: %d resends it served took %.3g ms more than cached follow-ups (median), within twice the TTFT fit's rms residual (%.3g ms)",
			len(extra), m*1e3, noise*1e3)
		return
	}
	o.LoadUSPerToken, o.LoadResends = roundSig(median(perToken)*1e6, 4), len(perToken)
}

// rms is a fit's rms residual in ms.
func (f Fit) rms(name string) float64 {
	for _, q := range f.Quality {
		if q.Fit == name {
			return q.RMSMS
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// params are the profile fields the tier sets: its capacity and, since a
// load costs kv_bytes_per_token / offload_load_gbps per token and only that
// ratio is measured, the base's kv_bytes_per_token (the fallback
// profile's, where the base has none) with the bandwidth that gives the
// fitted cost. A cost not fitted keeps the base's figures, or the
// fallback's. The note says which.
func (o *Offload) params(base engine.Config) (map[string]float64, string) {
	if o.Tokens == 0 {
		return nil, ""
	}
	out := map[string]float64{"offload_tokens": float64(o.Tokens)}
	kvb, gbps, from := base.KVBytesPerToken, base.OffloadLoadBytesPerS/1e9, "the base profile's"
	if kvb <= 0 || gbps <= 0 {
		fb, _ := profile.Config(fallbackOffload)
		kvb, gbps, from = fb.KVBytesPerToken, fb.OffloadLoadBytesPerS/1e9, fallbackOffload+"'s"
		out["kv_bytes_per_token"] = kvb
	}
	if o.LoadUSPerToken > 0 {
		gbps = kvb / (o.LoadUSPerToken / 1e6) / 1e9
		out["offload_load_gbps"] = roundSig(gbps, 4)
		return out, fmt.Sprintf("offload tier: %d tokens, loads at %.4g µs per token: offload_load_gbps %.4g with %s kv_bytes_per_token %.0f (only their ratio is measured)",
			o.Tokens, o.LoadUSPerToken, gbps, from, kvb)
	}
	out["offload_load_gbps"] = gbps
	return out, fmt.Sprintf("offload tier: %d tokens; its load cost keeps %s kv_bytes_per_token %.0f and offload_load_gbps %.4g (%s)",
		o.Tokens, from, kvb, gbps, o.Why)
}

package calibrate

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

// defaultRequestLimit bounds each probe request when neither the options
// nor the target's timeouts do.
const defaultRequestLimit = 2 * time.Minute

// resetLimit bounds each POST /reset_prefix_cache.
const resetLimit = 10 * time.Second

// Plan is what the probe will send, and how long it may take.
type Plan struct {
	Lengths      []int `json:"lengths"`
	Repeats      int   `json:"repeats"`
	Batches      []int `json:"batches"`
	DecodeTokens int   `json:"decode_tokens"`
	Requests     int   `json:"requests"`
	// Rounds are the probe's sequential steps: one request each, or one
	// batch of concurrent streams.
	Rounds int `json:"rounds"`
	// Limit bounds each round's requests and resetLimit each reset before a
	// cold or decode round; Bound adds them up.
	Limit time.Duration `json:"-"`
	Bound time.Duration `json:"-"`
	// Ladder is the KV ladder's plan, nil when it does not run.
	Ladder *LadderPlan `json:"kv_ladder,omitempty"`
	// Expected is the probe's duration if the server costs what the base
	// profile says: a guess until measured.
	Expected time.Duration `json:"-"`
}

// NewPlan lays out the probe: lengths beyond half of maxModelLen (when
// known) are left out, and each request is bounded by the request limit.
func NewPlan(o Options, maxModelLen int, base engine.Config) Plan {
	o = withDefaults(o)
	lengths := o.Lengths
	if lengths == nil {
		lengths = DefaultLengths
	}
	var kept []int
	for _, n := range lengths {
		if maxModelLen <= 0 || n+o.DecodeTokens+followUpWords*2 <= maxModelLen/2 {
			kept = append(kept, n)
		}
	}
	p := Plan{Lengths: kept, Repeats: o.Repeats, Batches: o.Batches, DecodeTokens: o.DecodeTokens, Limit: o.RequestLimit}
	if p.Limit <= 0 {
		p.Limit = defaultRequestLimit
	}
	p.Rounds = 2*len(kept)*o.Repeats + len(o.Batches)
	p.Requests = 2 * len(kept) * o.Repeats
	for _, b := range o.Batches {
		p.Requests += b
	}
	resets := len(kept)*o.Repeats + len(o.Batches)
	p.Bound = time.Duration(p.Rounds)*p.Limit + time.Duration(resets)*resetLimit
	if o.KVLadder == LadderAlways {
		p.addLadder(ladderFor(o, maxModelLen))
	}
	p.Expected = p.expected(base)
	return p
}

// addLadder adds the KV ladder's worst case to the plan: one round per
// request, a reset per rung.
func (p *Plan) addLadder(lp *LadderPlan) {
	p.Ladder = lp
	p.Rounds += lp.Requests
	p.Requests += lp.Requests
	p.Bound += time.Duration(lp.Requests)*p.Limit + time.Duration(lp.MaxRungs)*resetLimit
}

// ladderFor is the KV ladder's plan: sessions of o.LadderSession tokens
// (DefaultLadderSession), cut as the cold lengths are to half the context,
// up to o.LadderMax tokens (DefaultLadderMax).
func ladderFor(o Options, maxModelLen int) *LadderPlan {
	session, most := o.LadderSession, o.LadderMax
	if session <= 0 {
		session = DefaultLadderSession
	}
	if maxModelLen > 0 {
		session = min(session, maxModelLen/2-ladderAnswerTokens-followUpWords*2)
	}
	if most <= 0 {
		most = DefaultLadderMax
	}
	lp := newLadderPlan(max(session, 1), most)
	return &lp
}

// expected is the probe's duration on a server with base's costs.
func (p Plan) expected(c engine.Config) time.Duration {
	gen := float64(p.DecodeTokens - 1)
	decode := func(batch, ctx float64) float64 {
		return gen * (c.StepFixed.Seconds() + batch*c.DecodeSeq + c.DecodeContext*batch*ctx)
	}
	cold := func(x float64) float64 {
		steps := math.Ceil(x / float64(max(c.MaxBatchedTokens, 1)))
		return c.FrontendToken*x + steps*c.StepFixed.Seconds() + x*c.PrefillToken + c.PrefillAttention*x*x/2
	}
	var sec float64
	for _, n := range p.Lengths {
		x := float64(n)
		cached := c.FrontendToken*x + c.StepFixed.Seconds() + followUpWords*(c.PrefillToken+c.PrefillAttention*x)
		sec += float64(p.Repeats) * (cold(x) + cached + 2*decode(1, x))
	}
	for _, b := range p.Batches {
		sec += decode(float64(b), decodePromptWords)
	}
	if p.Ladder != nil {
		sec += p.Ladder.expected(c, cold)
	}
	return time.Duration(sec * 1e9)
}

// expected is the ladder's duration on a server with c's costs and KV
// capacity: the cold openings of the doubling up to the first total over
// the capacity, then the bisection's, each about the capacity (the
// resends, cached, cost little beside them).
func (lp LadderPlan) expected(c engine.Config, cold func(x float64) float64) float64 {
	rung := func(total int) float64 {
		n := sessionsFor(total, lp.SessionTokens)
		return float64(n) * cold(float64(min(total, lp.SessionTokens)))
	}
	var sec float64
	for _, t := range lp.doubling() {
		sec += rung(t)
		if t > c.KVCacheTokens {
			return sec + math.Log2(ladderSplit)*rung(c.KVCacheTokens)
		}
	}
	return sec
}

// Write prints the plan and its bounds.
func (p Plan) Write(w io.Writer) {
	fmt.Fprintf(w, "calibrate: %d requests in %d rounds, one round at a time:\n", p.Requests, p.Rounds)
	fmt.Fprintf(w, "  cold prefill: prompts of about %v tokens, %d× each, the prefix cache reset before each (or a fresh prefix)\n", p.Lengths, p.Repeats)
	fmt.Fprintf(w, "  cached follow-up: after each cold prompt, the same conversation plus a short question\n")
	fmt.Fprintf(w, "  decode: %v concurrent streams of %d tokens\n", p.Batches, p.DecodeTokens)
	if p.Ladder == nil {
		fmt.Fprintf(w, "  KV capacity: vllm:cache_config_info on /metrics\n")
	} else {
		fmt.Fprintf(w, "  KV capacity: a ladder of %d-token sessions, each sent then resent after the others, the total doubled from one session up to at most %d tokens until the resends miss the cache, then the bracket halved to 1/%d\n",
			p.Ladder.SessionTokens, p.Ladder.MaxTokens, ladderSplit)
	}
	fmt.Fprintf(w, "  takes about %s if the server costs what the base profile says; at most %s (%d rounds × %s per request, and %s per reset)\n",
		p.Expected.Round(time.Second/10), p.Bound, p.Rounds, p.Limit, resetLimit)
}

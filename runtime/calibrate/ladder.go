package calibrate

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai"
)

// KV ladder modes (Options.KVLadder).
const (
	LadderAuto   = "auto"   // when /metrics states no capacity
	LadderAlways = "always" // also when it does, to check it
	LadderOff    = "off"
)

// Ladder defaults: the length of each session and the largest total the
// ladder tries.
const (
	DefaultLadderSession = 4096
	DefaultLadderMax     = 262144
)

// ladderAnswerTokens is what each ladder session's opening streams, and
// ladderSplit the bracket's width, as a fraction of its lower end, at
// which bisection stops.
const (
	ladderAnswerTokens = 8
	ladderSplit        = 16
)

// LadderPlan is what the KV ladder may send.
type LadderPlan struct {
	SessionTokens int `json:"session_tokens"`
	MaxTokens     int `json:"max_tokens"`
	// MaxRungs and Requests are the worst case: every doubling up to
	// MaxTokens, then the bisection.
	MaxRungs int `json:"max_rungs"`
	Requests int `json:"max_requests"`
}

// newLadderPlan lays out the ladder: doubling from one session to the
// maximum, then halving the bracket until it is 1/ladderSplit of its
// lower end (at most log2(ladderSplit) rungs, each at most the maximum).
func newLadderPlan(session, maxTokens int) LadderPlan {
	lp := LadderPlan{SessionTokens: session, MaxTokens: max(maxTokens, session)}
	for _, total := range lp.doubling() {
		lp.MaxRungs++
		lp.Requests += 2 * sessionsFor(total, session)
	}
	bisect := int(math.Log2(ladderSplit))
	lp.MaxRungs += bisect
	lp.Requests += bisect * 2 * sessionsFor(lp.MaxTokens, session)
	return lp
}

// doubling is the totals of the ladder's first phase: one session, then
// twice as many tokens each rung, the last cut to the maximum.
func (lp LadderPlan) doubling() []int {
	var out []int
	for t := lp.SessionTokens; ; t *= 2 {
		if t >= lp.MaxTokens {
			return append(out, lp.MaxTokens)
		}
		out = append(out, t)
	}
}

// sessionsFor is how many sessions make up total: whole sessions and a
// shorter last one.
func sessionsFor(total, session int) int { return (total + session - 1) / session }

// Rung is one step of the ladder as measured.
type Rung struct {
	Sessions int  `json:"sessions"`
	Tokens   int  `json:"tokens"` // prompt + answer tokens of the openings, as the server counted them
	Resent   int  `json:"resent"` // resends sent: all, or up to the first that missed
	Hits     int  `json:"hits"`   // resends that found their session cached
	Held     bool `json:"held"`   // every resend hit
	// hits are the resends that hit, as timed: what an offload tier's load
	// cost is fitted from (offload.go).
	hits []resend
}

// resend is one ladder resend that found its session cached.
type resend struct {
	prompt, cached int
	ttft           time.Duration
}

// ladder measures the KV capacity: sessions sent once, then each resent
// with a few new tokens after all of them; the largest total whose
// resends all hit the cache is the capacity, bracketed by the smallest
// that did not. ttft predicts a request's time to first token from its
// prompt and cached tokens, to judge a hit when the server does not
// report cached tokens.
func (p *prober) ladder(ctx context.Context, lp LadderPlan, ttft func(prompt, cached int) time.Duration) (KV, error) {
	kv := KV{Source: fmt.Sprintf("ladder of %d-token sessions", lp.SessionTokens)}
	try := func(total int) (bool, error) {
		r, err := p.rung(ctx, total, lp.SessionTokens, ttft)
		if err != nil {
			return false, err
		}
		kv.Rungs = append(kv.Rungs, r)
		verdict := "every resend cached"
		if !r.Held {
			verdict = fmt.Sprintf("resend %d missed the cache", r.Resent)
		}
		fmt.Fprintf(p.opts.Progress, "  kv ladder %7d tokens in %3d sessions: %s\n", r.Tokens, r.Sessions, verdict)
		return r.Held, nil
	}
	loT, hiT := 0, 0 // the largest total that held, the smallest that did not (requested)
	for _, total := range lp.doubling() {
		held, err := try(total)
		if err != nil {
			return kv, err
		}
		if !held {
			hiT = total
			break
		}
		loT = total
	}
	for loT > 0 && hiT > 0 && hiT-loT > loT/ladderSplit {
		mid := (loT + hiT) / 2
		held, err := try(mid)
		if err != nil {
			return kv, err
		}
		if held {
			loT = mid
		} else {
			hiT = mid
		}
	}
	return judgeLadder(kv, lp), nil
}

// judgeLadder turns the rungs into the capacity or the reason there is none.
func judgeLadder(kv KV, lp LadderPlan) KV {
	var lo, hi *Rung
	for i, r := range kv.Rungs {
		switch {
		case r.Held && (lo == nil || r.Tokens > lo.Tokens):
			lo = &kv.Rungs[i]
		case !r.Held && (hi == nil || r.Tokens < hi.Tokens):
			hi = &kv.Rungs[i]
		}
	}
	switch {
	case hi == nil:
		kv.Why = fmt.Sprintf("not identified (more than %d tokens): every rung up to the ladder's maximum stayed cached", lo.Tokens)
	case lo == nil:
		kv.Why = fmt.Sprintf("not identified (less than %d tokens): a single %d-token session was not cached when resent (a cache smaller than one session, or no prefix cache)", hi.Tokens, lp.SessionTokens)
	case lo.Tokens >= hi.Tokens:
		kv.Why = fmt.Sprintf("not identified: the ladder did not collapse in order (%d tokens stayed cached, %d did not)", lo.Tokens, hi.Tokens)
	default:
		kv.Tokens = lo.Tokens
		kv.Bracket = [2]int{lo.Tokens, hi.Tokens}
	}
	return kv
}

// rung sends sessions adding up to about total tokens (the last one
// shorter), then resends each in the same order with its answer and a
// question, until one misses the cache: the rung has failed then, and the
// rest would each cost a cold prefill for nothing.
func (p *prober) rung(ctx context.Context, total, session int, ttft func(prompt, cached int) time.Duration) (Rung, error) {
	if err := p.resetCache(ctx); err != nil {
		return Rung{}, err
	}
	conn := p.client.NewConn()
	defer conn.Close()
	var opens []openai.Request
	var firsts []openai.Result
	r := Rung{}
	for left := total; left > 0; left -= session {
		req := openai.Request{ID: p.id("ladder"), MaxTokens: ladderAnswerTokens,
			Messages: []openai.Message{{Role: "user", Parts: []*openai.Text{openai.NewText(p.text(min(left, session)))}}}}
		res := conn.Do(ctx, req)
		if res.ErrKind != "" {
			return r, fmt.Errorf("calibrate: kv ladder opening: %s: %s", res.ErrKind, res.ErrMessage)
		}
		opens, firsts = append(opens, req), append(firsts, res)
		r.Tokens += res.PromptTokens + res.CompletionTokens
	}
	r.Sessions = len(opens)
	for i, req := range opens {
		res := conn.Do(ctx, p.followUp(req, firsts[i], i))
		if res.ErrKind != "" {
			return r, fmt.Errorf("calibrate: kv ladder resend: %s: %s", res.ErrKind, res.ErrMessage)
		}
		r.Resent++
		if !cacheHit(res, firsts[i].PromptTokens, ttft) {
			break
		}
		r.Hits++
		r.hits = append(r.hits, resend{prompt: res.PromptTokens, cached: cachedOf(res, firsts[i].PromptTokens), ttft: res.TTFT})
	}
	r.Held = r.Hits == r.Sessions
	return r, ctx.Err()
}

// cacheHit says whether a resend found its previous prompt (prev tokens)
// cached: by the cached tokens the server reports (at least 90 % of prev),
// else by its time to first token, nearer the cached prediction than the
// cold one (below their geometric mean).
func cacheHit(res openai.Result, prev int, ttft func(prompt, cached int) time.Duration) bool {
	if res.CachedReported {
		return res.CachedTokens*10 >= prev*9
	}
	cold, warm := ttft(res.PromptTokens, 0), ttft(res.PromptTokens, prev)
	return res.TTFT.Seconds() < math.Sqrt(cold.Seconds()*max(warm.Seconds(), 1e-6))
}

// cachedOf is the tokens a resend that hit found cached: what the server
// reports, else its whole previous prompt.
func cachedOf(res openai.Result, prev int) int {
	if res.CachedReported {
		return res.CachedTokens
	}
	return prev
}

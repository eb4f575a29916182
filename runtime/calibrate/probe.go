package calibrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/mrqa-dev/mrqa/runtime/openai"
)

// followUpWords is the length of the question a cached follow-up adds, and
// decodePromptWords the prompt of a decode probe's streams.
const (
	followUpWords     = 24
	decodePromptWords = 64
)

// words are common English words, one token each in the usual BPE
// encodings when written with a leading space.
var words = strings.Fields(`the of and to in is was for that with on as by at from his her
it be are this which an or had not but have were their one all been has more when there who
they would can time will two first new other some could these may then only its over into
after most also made many before must through back years where much your way well down
should because each just those people how too little state good very make world still own
see men work long get here between both life being under never day same another know while
last might great old year off come since against go came right used take three`)

// prober sends the probe's requests and keeps what they measured.
type prober struct {
	client    *openai.Client
	opts      Options
	plan      Plan
	blockSize int
	runID     int64
	reset     bool // the target takes POST /reset_prefix_cache
	// ladderForTier: the ladder runs only to look for an offload tier,
	// /metrics stating the GPU's capacity.
	ladderForTier bool
	seq           int // prompts made
	ids           int // requests made
	notes         []string
	failures      int
}

// run sends the cold/cached pairs, then the decode batches. Of a pair's
// repeats only the fastest of each kind is fitted: a busy client or server
// only ever adds time, so the fastest repeat is the least disturbed.
func (p *prober) run(ctx context.Context) ([]Obs, error) {
	type key struct {
		probe string
		n     int
	}
	fastest := map[key]int{} // index into obs
	var obs []Obs
	sent := 0
	for r := range p.plan.Repeats {
		for _, n := range p.plan.Lengths {
			if err := p.resetCache(ctx); err != nil {
				return nil, err
			}
			got, err := p.pair(ctx, n, r)
			if err != nil {
				return nil, err
			}
			for _, o := range got {
				sent++
				k := key{o.Probe, n}
				if i, ok := fastest[k]; !ok {
					fastest[k] = len(obs)
					obs = append(obs, o)
				} else if o.TTFT < obs[i].TTFT {
					obs[i] = o
				}
			}
		}
	}
	if slower := sent - len(obs); slower > 0 {
		p.notes = append(p.notes, fmt.Sprintf("of each cold and cached probe's %d repeats the fastest was fitted (%d slower ones left out)", p.plan.Repeats, slower))
	}
	for _, b := range p.plan.Batches {
		if err := p.resetCache(ctx); err != nil {
			return nil, err
		}
		obs = append(obs, p.batch(ctx, b)...)
		fmt.Fprintf(p.opts.Progress, "  decode ×%d done\n", b)
	}
	if p.failures > 0 {
		p.notes = append(p.notes, fmt.Sprintf("%d probe requests failed and were left out of the fit", p.failures))
	}
	return obs, ctx.Err()
}

func (p *prober) resetCache(ctx context.Context) error {
	if !p.reset {
		return ctx.Err()
	}
	rctx, cancel := context.WithTimeout(ctx, resetLimit)
	defer cancel()
	if err := p.client.ResetPrefixCache(rctx); err != nil && ctx.Err() == nil {
		p.reset = false
		p.notes = append(p.notes, "POST /reset_prefix_cache stopped working ("+err.Error()+"); later cold probes rely on their distinct prefixes")
	}
	return ctx.Err()
}

// pair sends a cold prompt of about n tokens, then the same conversation
// with its answer and a short question: the cached follow-up.
func (p *prober) pair(ctx context.Context, n, repeat int) ([]Obs, error) {
	conn := p.client.NewConn()
	defer conn.Close()
	prompt := p.text(n)
	cold := openai.Request{ID: p.id("cold"), MaxTokens: p.plan.DecodeTokens,
		Messages: []openai.Message{{Role: "user", Parts: []*openai.Text{openai.NewText(prompt)}}}}
	res := conn.Do(ctx, cold)
	var out []Obs
	if o, ok := p.obs(ProbeCold, res, 0); ok {
		out = append(out, o)
		fmt.Fprintf(p.opts.Progress, "  cold %6d tokens: ttft %s\n", o.PromptTokens, o.TTFT.Round(10_000))
	} else {
		return out, ctx.Err()
	}
	res2 := conn.Do(ctx, p.followUp(cold, res, repeat))
	if o, ok := p.obs(ProbeCached, res2, res.PromptTokens); ok {
		out = append(out, o)
		fmt.Fprintf(p.opts.Progress, "  cached %4d of %6d tokens: ttft %s\n", o.CachedTokens, o.PromptTokens, o.TTFT.Round(10_000))
	}
	return out, ctx.Err()
}

// followUp is req's conversation continued: its answer and a question of
// followUpWords words drawn from seed.
func (p *prober) followUp(req openai.Request, res openai.Result, seed int) openai.Request {
	follow := req
	follow.ID = p.id("cached")
	follow.Messages = append(slices.Clip(req.Messages),
		openai.Message{Role: "assistant", Parts: []*openai.Text{openai.NewText(res.Content)}},
		openai.Message{Role: "user", Parts: []*openai.Text{openai.NewText("One more question:" + p.wordsOf(followUpWords, seed))}})
	return follow
}

// batch runs b streams at once, each on its own connection.
func (p *prober) batch(ctx context.Context, b int) []Obs {
	reqs := make([]openai.Request, b)
	for i := range reqs {
		reqs[i] = openai.Request{ID: p.id("decode"), MaxTokens: p.plan.DecodeTokens,
			Messages: []openai.Message{{Role: "user", Parts: []*openai.Text{openai.NewText(p.text(decodePromptWords))}}}}
	}
	results := make([]openai.Result, b)
	var wg sync.WaitGroup
	for i := range reqs {
		conn := p.client.NewConn()
		wg.Go(func() {
			defer conn.Close()
			results[i] = conn.Do(ctx, reqs[i])
		})
	}
	wg.Wait()
	var out []Obs
	for _, r := range results {
		if o, ok := p.obs(ProbeDecode, r, 0); ok {
			out = append(out, o)
		}
	}
	return out
}

// obs turns a result into an observation; prev is the cached probe's
// previous prompt, assumed cached (to a whole block) when the server does
// not say what it hit.
func (p *prober) obs(probe string, r openai.Result, prev int) (Obs, bool) {
	if r.ErrKind != "" || r.TTFT <= 0 {
		p.failures++
		return Obs{}, false
	}
	o := Obs{Probe: probe, PromptTokens: r.PromptTokens, CachedTokens: r.CachedTokens, CompletionTokens: r.CompletionTokens,
		Start: r.Start, TTFT: r.TTFT, End: r.End}
	if probe == ProbeCached && !r.CachedReported {
		o.CachedTokens = prev - prev%max(p.blockSize, 1)
		p.noteOnce("the server does not report cached tokens (usage.prompt_tokens_details): cached follow-ups are assumed to hit the whole previous prompt")
	}
	if probe == ProbeCold && r.CachedReported && r.CachedTokens > 0 {
		p.noteOnce("a cold probe hit the prefix cache: the server's cache was not empty and its prefixes matched")
	}
	return o, true
}

func (p *prober) noteOnce(s string) {
	for _, n := range p.notes {
		if n == s {
			return
		}
	}
	p.notes = append(p.notes, s)
}

// text is a prompt of about n tokens that shares no prefix with any other
// prompt of this run or any earlier one.
func (p *prober) text(n int) string {
	p.seq++
	return fmt.Sprintf("Calibration probe %x-%d.", p.runID, p.seq) + p.wordsOf(n, p.seq)
}

// wordsOf is n words drawn from a seed.
func (p *prober) wordsOf(n, seed int) string {
	rng := rand.New(rand.NewPCG(uint64(p.runID), uint64(seed)))
	var b strings.Builder
	b.Grow(n * 6)
	for range n {
		b.WriteByte(' ')
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

func (p *prober) id(kind string) string {
	p.ids++
	return fmt.Sprintf("mrqa-calibrate-%x-%s-%d", p.runID, kind, p.ids)
}

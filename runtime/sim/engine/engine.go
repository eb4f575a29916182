package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Request is one generation request as the engine sees it: token counts and
// the block hashes that give its prefix identity. The driver fills the first
// four fields; the engine fills the rest as it runs the request.
type Request struct {
	ID           string
	PromptTokens int
	MaxTokens    int // exactly this many tokens are generated (as with ignore_eos)
	// Hashes are the chained hashes of the full blocks of the prompt followed
	// by the answer: Hashes[i] identifies tokens [i×B, (i+1)×B). Blocks with
	// no hash listed are computed but never cached.
	Hashes []uint64
	// Tag is the driver's own data; the engine never looks at it.
	Tag any

	Arrival    time.Duration // when Submit was called
	Ready      time.Duration // when the front end handed it to the scheduler
	Scheduled  time.Duration // start of the first step that computed any of its tokens
	FirstToken time.Duration // end of the step that produced the first token
	Finished   time.Duration // end of the step that produced the last token
	Generated  int
	// CachedTokens is the prompt prefix found at first admission, in the GPU
	// cache or the offload tier; LoadedTokens is the part loaded from the tier.
	CachedTokens int
	LoadedTokens int
	Preempted    int
	Done         bool
	Aborted      bool

	computed int     // tokens whose KV is in blocks
	blocks   []int32 // GPU blocks held, in token order
	admitted bool
	running  bool
}

// Known is the number of tokens the request has so far: prompt plus those
// generated.
func (r *Request) Known() int { return r.PromptTokens + r.Generated }

// ErrTooBig marks a request that could never fit the KV cache.
var ErrTooBig = errors.New("request larger than the KV cache")

// ContextError is the rejection of a request longer than max_model_len.
type ContextError struct {
	Prompt, Completion, Limit int
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
		e.Limit, e.Prompt+e.Completion, e.Prompt, e.Completion)
}

// Stats are the engine's gauges and counters, named after vLLM's metrics.
type Stats struct {
	Running, Waiting int
	KVUsage          float64 // fraction of GPU blocks held by requests
	// KVBlocks and BlockSize are the GPU KV cache's size, as vLLM's
	// cache_config_info states it.
	KVBlocks, BlockSize int
	// Prefix cache, in tokens, counted once per request at first admission.
	PrefixQueries, PrefixHits uint64
	// Offload tier: tokens looked up there, tokens loaded, blocks stored.
	OffloadQueries, OffloadHits uint64
	OffloadBlocks               int
	Preemptions                 uint64
	PromptTokens                uint64
	GenerationTokens            uint64
	Steps                       uint64
	Busy                        time.Duration // sum of step durations
}

type work struct {
	r      *Request
	n      int
	start  int
	decode bool
}

// Engine is the scheduler with its KV cache. It is not safe for concurrent
// use: the driver serialises calls.
type Engine struct {
	cfg      Config
	cache    *Cache
	arriving []*Request // in the front end, in Ready order
	frontend time.Duration
	waiting  []*Request
	running  []*Request
	batch    []work
	progress []*Request
	stats    Stats
}

// New makes an engine; cfg gets its defaults and is validated.
func New(cfg Config) (*Engine, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tier := 0
	if cfg.OffloadTokens > 0 {
		tier = max(1, cfg.OffloadTokens/cfg.BlockSize)
	}
	return &Engine{cfg: cfg, cache: NewCache(cfg.KVCacheTokens/cfg.BlockSize, tier)}, nil
}

// Config returns the engine's configuration with defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Cache exposes the KV cache for inspection.
func (e *Engine) Cache() *Cache { return e.cache }

// Submit queues r at time now. It fails with a *ContextError when the prompt
// and answer exceed max_model_len.
func (e *Engine) Submit(r *Request, now time.Duration) error {
	if r.PromptTokens < 1 || r.MaxTokens < 1 {
		return fmt.Errorf("request %s: prompt %d and max_tokens %d must both be at least 1", r.ID, r.PromptTokens, r.MaxTokens)
	}
	if r.PromptTokens+r.MaxTokens > e.cfg.MaxModelLen {
		return &ContextError{Prompt: r.PromptTokens, Completion: r.MaxTokens, Limit: e.cfg.MaxModelLen}
	}
	if need := (r.PromptTokens + r.MaxTokens + e.cfg.BlockSize - 2) / e.cfg.BlockSize; need > e.cache.Blocks() {
		return fmt.Errorf("request %s: %d prompt + %d answer tokens need %d KV blocks, the cache has %d: %w",
			r.ID, r.PromptTokens, r.MaxTokens, need, e.cache.Blocks(), ErrTooBig)
	}
	r.Arrival = now
	// The front end (tokenization, template, block hashing) handles one
	// request at a time, in arrival order.
	cost := time.Duration(math.Round(e.cfg.FrontendToken * float64(r.PromptTokens) * 1e9))
	if cost == 0 {
		r.Ready = now
		e.waiting = append(e.waiting, r)
		return nil
	}
	e.frontend = max(e.frontend, now) + cost
	r.Ready = e.frontend
	e.arriving = append(e.arriving, r)
	return nil
}

// Abort drops r wherever it is, freeing its blocks.
func (e *Engine) Abort(r *Request) {
	if r.Done || r.Aborted {
		return
	}
	r.Aborted = true
	if i := slices.Index(e.waiting, r); i >= 0 {
		e.waiting = slices.Delete(e.waiting, i, i+1)
	}
	if i := slices.Index(e.arriving, r); i >= 0 {
		e.arriving = slices.Delete(e.arriving, i, i+1)
	}
	if i := slices.Index(e.running, r); i >= 0 {
		e.running = slices.Delete(e.running, i, i+1)
	}
	e.cache.Release(r.blocks)
	r.blocks = r.blocks[:0]
	r.running = false
}

// Idle reports whether nothing is queued or running.
func (e *Engine) Idle() bool {
	return len(e.waiting) == 0 && len(e.running) == 0 && len(e.arriving) == 0
}

// ResetPrefixCache empties the prefix cache and the offload tier.
func (e *Engine) ResetPrefixCache() { e.cache.Reset() }

// Stats returns the current gauges and counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Running, s.Waiting = len(e.running), len(e.waiting)+len(e.arriving)
	s.KVUsage = float64(e.cache.Used()) / float64(e.cache.Blocks())
	s.KVBlocks, s.BlockSize = e.cache.Blocks(), e.cfg.BlockSize
	if t := e.cache.Tier(); t != nil {
		s.OffloadBlocks = t.Len()
	}
	return s
}

// grow allocates blocks until r can hold tokens tokens.
func (e *Engine) grow(r *Request, tokens int) bool {
	need := (tokens + e.cfg.BlockSize - 1) / e.cfg.BlockSize
	for len(r.blocks) < need {
		b, ok := e.cache.Allocate()
		if !ok {
			return false
		}
		r.blocks = append(r.blocks, b)
	}
	return true
}

// preempt returns the most recently admitted running request to the front
// of the queue with its blocks released; it recomputes them when readmitted.
func (e *Engine) preempt() *Request {
	v := e.running[len(e.running)-1]
	e.running = e.running[:len(e.running)-1]
	e.cache.Release(v.blocks)
	v.blocks = v.blocks[:0]
	v.computed = 0
	v.running = false
	v.Preempted++
	e.stats.Preemptions++
	e.waiting = slices.Insert(e.waiting, 0, v)
	return v
}

// match finds how many leading blocks of r are in the GPU cache (gpu), how
// many of those are unreferenced (idle), and how many of the following
// blocks the offload tier holds (tier). At least one token is always left to
// compute, as in vLLM.
func (e *Engine) match(r *Request) (gpu, idle, tier int) {
	limit := min(len(r.Hashes), (r.Known()-1)/e.cfg.BlockSize)
	for gpu < limit {
		b, ok := e.cache.Lookup(r.Hashes[gpu])
		if !ok {
			break
		}
		if e.cache.blocks[b].ref == 0 {
			idle++
		}
		gpu++
	}
	if t := e.cache.Tier(); t != nil {
		for gpu+tier < limit && t.Has(r.Hashes[gpu+tier]) {
			tier++
		}
	}
	return gpu, idle, tier
}

// Step runs one scheduler step starting at now: it picks the batch, charges
// its cost, applies its effects, and returns the step's duration and the
// requests that produced a token (their FirstToken/Finished are now+d). The
// returned slice is reused by the next call. An idle engine returns 0, nil;
// one whose only requests are still in the front end returns the wait until
// the first is ready, and nil.
func (e *Engine) Step(now time.Duration) (time.Duration, []*Request) {
	if e.Idle() {
		return 0, nil
	}
	n := 0
	for n < len(e.arriving) && e.arriving[n].Ready <= now {
		n++
	}
	e.waiting = append(e.waiting, e.arriving[:n]...)
	e.arriving = e.arriving[n:]
	if len(e.waiting) == 0 && len(e.running) == 0 {
		return e.arriving[0].Ready - now, nil
	}
	B := e.cfg.BlockSize
	budget := e.cfg.MaxBatchedTokens
	e.batch = e.batch[:0]
	e.progress = e.progress[:0]
	loaded := 0
	preempted := false

	// Running requests first, in admission order; when one cannot get
	// blocks, the most recently admitted is preempted until it can.
	for i := 0; i < len(e.running) && budget > 0; i++ {
		r := e.running[i]
		need := r.Known() - r.computed
		n := min(need, budget)
		ok := true
		for !e.grow(r, r.computed+n) {
			preempted = true
			if e.preempt() == r {
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		budget -= n
		e.batch = append(e.batch, work{r: r, n: n, start: r.computed, decode: r.Generated > 0 && need == 1})
	}

	// Then waiting requests in FCFS order, unless this step preempted.
	for !preempted && len(e.waiting) > 0 && len(e.running) < e.cfg.MaxNumSeqs && budget > 0 {
		r := e.waiting[0]
		gpu, idle, tier := e.match(r)
		start := (gpu + tier) * B
		n := min(r.Known()-start, budget)
		needBlocks := (start+n+B-1)/B - gpu
		if needBlocks > e.cache.Free()-idle {
			break
		}
		for _, h := range r.Hashes[:gpu] {
			b, _ := e.cache.Lookup(h)
			e.cache.Acquire(b)
			r.blocks = append(r.blocks, b)
		}
		for _, h := range r.Hashes[gpu : gpu+tier] {
			b, _ := e.cache.Allocate()
			e.cache.SetHash(b, h)
			r.blocks = append(r.blocks, b)
		}
		e.grow(r, start+n)
		r.computed = start
		loaded += tier * B
		if !r.admitted {
			r.admitted = true
			r.Scheduled = now
			r.CachedTokens = start
			r.LoadedTokens = tier * B
			e.stats.PrefixQueries += uint64(r.PromptTokens)
			e.stats.PrefixHits += uint64(gpu * B)
			if e.cache.Tier() != nil {
				e.stats.OffloadQueries += uint64(r.PromptTokens - gpu*B)
				e.stats.OffloadHits += uint64(tier * B)
			}
			e.stats.PromptTokens += uint64(r.PromptTokens)
		}
		e.waiting = e.waiting[1:]
		e.running = append(e.running, r)
		r.running = true
		budget -= n
		e.batch = append(e.batch, work{r: r, n: n, start: start})
	}
	if len(e.waiting) == 0 {
		e.waiting = nil // let the backing array go
	}

	d := e.cost(loaded)
	end := now + d
	e.stats.Steps++
	e.stats.Busy += d
	for _, w := range e.batch {
		r := w.r
		before := r.computed / B
		r.computed += w.n
		for i := before; i < r.computed/B && i < len(r.Hashes); i++ {
			e.cache.SetHash(r.blocks[i], r.Hashes[i])
		}
		if r.computed < r.Known() {
			continue
		}
		r.Generated++
		e.stats.GenerationTokens++
		if r.Generated == 1 {
			r.FirstToken = end
		}
		if r.Generated == r.MaxTokens {
			r.Done = true
			r.Finished = end
			e.cache.Release(r.blocks)
			r.blocks = nil
			r.running = false
		}
		e.progress = append(e.progress, r)
	}
	e.running = slices.DeleteFunc(e.running, func(r *Request) bool { return r.Done })
	return d, e.progress
}

// cost is the step-time formula of docs/simulator.md applied to the batch.
func (e *Engine) cost(loaded int) time.Duration {
	c := &e.cfg
	s := c.StepFixed.Seconds()
	for _, w := range e.batch {
		if w.decode {
			s += c.DecodeSeq + c.DecodeContext*float64(w.start)
			continue
		}
		n, a := float64(w.n), float64(w.start)
		s += n*c.PrefillToken + c.PrefillAttention*(n*a+n*(n-1)/2)
	}
	if loaded > 0 {
		s += float64(loaded) * c.KVBytesPerToken / c.OffloadLoadBytesPerS
	}
	return time.Duration(math.Round(s * 1e9))
}

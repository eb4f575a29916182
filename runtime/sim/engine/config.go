// Package engine is the simulator's model of an LLM inference server: a
// continuous-batching scheduler like vLLM's, a paged KV cache with prefix
// caching by chained block hashes, LRU eviction and preemption, an optional
// LMCache-like offload tier, and a cost model that turns each scheduler step
// into a duration. It has no clock of its own: a driver calls Step with the
// current time and then lets that much time pass, on the wall clock (the HTTP
// server) or on a simulated one (the virtual-clock runner).
package engine

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config is everything a simulated server is: model, cache, scheduler limits,
// costs, and the faults its HTTP front end injects. Zero values are invalid
// where a default would hide a mistake; Defaults fills the rest.
type Config struct {
	// Model is the name /v1/models lists and responses echo.
	Model string
	// Tokenizer names the encoding prompts are counted with (cl100k_base,
	// o200k_base); the virtual clock ignores it.
	Tokenizer string
	// MaxModelLen bounds prompt + max_tokens; beyond it a request gets 400.
	MaxModelLen int

	// KVCacheTokens is the GPU KV cache capacity in tokens; BlockSize tokens
	// make one block.
	KVCacheTokens int
	BlockSize     int
	// MaxNumSeqs bounds the requests running at once; MaxBatchedTokens is the
	// per-step token budget shared by decodes and prefill chunks.
	MaxNumSeqs       int
	MaxBatchedTokens int

	// FrontendToken is the front end's time per prompt token (tokenizing,
	// templating, hashing), spent one request at a time before the
	// scheduler sees the request; seconds.
	FrontendToken float64

	// Cost model (docs/simulator.md): a step costs
	//   StepFixed
	//   + Σ prefill tokens  (PrefillToken + PrefillAttention × position)
	//   + Σ decoding seqs   (DecodeSeq + DecodeContext × context length)
	//   + loaded tokens × KVBytesPerToken / OffloadLoadBytesPerS.
	// Per-token coefficients are in seconds.
	StepFixed        time.Duration
	PrefillToken     float64 // s per prompt token computed
	PrefillAttention float64 // s per prompt token per token of context before it
	DecodeSeq        float64 // s per decoding sequence
	DecodeContext    float64 // s per token of context a decoding sequence reads

	// Offload tier (LMCache-like); OffloadTokens 0 disables it.
	OffloadTokens        int
	OffloadLoadBytesPerS float64
	KVBytesPerToken      float64

	// TokensPerEvent is how many generated tokens the server sends per SSE
	// event (default 1).
	TokensPerEvent int

	Faults Faults
}

// Faults configures the HTTP front end's fault injection. Each kind strikes
// a request when its Every-th request comes (1-based request count), or
// with probability Rate drawn deterministically from the request count, so a
// rerun strikes the same requests. The engine itself ignores faults.
type Faults struct {
	HTTP500, HTTP429, Reset, Cut, Stall, Malformed, StreamError Fault
	// RetryAfter is sent with 429 (whole seconds, rounded up).
	RetryAfter time.Duration
	// AfterTokens is how many tokens a cut, stall, malformed event or
	// in-stream error lets through first.
	AfterTokens int
	// StallFor is how long a stall holds the stream.
	StallFor time.Duration
	// MinPromptTokens limits every fault to requests whose prompt has at
	// least this many tokens (0: all), e.g. to fail only the openings that
	// carry a document.
	MinPromptTokens int
}

// Fault is one fault kind's trigger; zero never strikes.
type Fault struct {
	Rate  float64
	Every int
}

// Strikes reports whether the fault hits request number n (1-based). salt
// separates kinds so that two rate-based kinds do not strike the same
// requests.
func (f Fault) Strikes(n uint64, salt uint64) bool {
	if f.Every > 0 && n%uint64(f.Every) == 0 {
		return true
	}
	if f.Rate > 0 {
		u := float64(Mix(salt, n)>>11) / (1 << 53)
		return u < f.Rate
	}
	return false
}

// Fault kind names, as in the fault_<kind>_rate / fault_<kind>_every params.
const (
	FaultHTTP500     = "http_500"
	FaultHTTP429     = "http_429"
	FaultReset       = "reset"
	FaultCut         = "cut"
	FaultStall       = "stall"
	FaultMalformed   = "malformed"
	FaultStreamError = "stream_error"
)

// Any reports whether some fault kind is on.
func (f *Faults) Any() bool {
	for _, k := range f.Kinds() {
		if k.Fault.Rate > 0 || k.Fault.Every > 0 {
			return true
		}
	}
	return false
}

// NamedFault is one fault kind with its name and a pointer to its trigger.
type NamedFault struct {
	Name  string
	Fault *Fault
}

// Kinds lists the fault kinds in the order the server checks them.
func (f *Faults) Kinds() []NamedFault {
	return []NamedFault{
		{FaultHTTP500, &f.HTTP500}, {FaultHTTP429, &f.HTTP429}, {FaultReset, &f.Reset},
		{FaultCut, &f.Cut}, {FaultStall, &f.Stall}, {FaultMalformed, &f.Malformed},
		{FaultStreamError, &f.StreamError},
	}
}

// Defaults fills the fields whose zero value means "the usual".
func (c *Config) Defaults() {
	if c.Model == "" {
		c.Model = "sim"
	}
	if c.Tokenizer == "" {
		c.Tokenizer = "cl100k_base"
	}
	if c.BlockSize == 0 {
		c.BlockSize = 16
	}
	if c.MaxNumSeqs == 0 {
		c.MaxNumSeqs = 256
	}
	if c.MaxBatchedTokens == 0 {
		c.MaxBatchedTokens = 8192
	}
	if c.TokensPerEvent == 0 {
		c.TokensPerEvent = 1
	}
	if c.Faults.RetryAfter == 0 {
		c.Faults.RetryAfter = time.Second
	}
	if c.Faults.AfterTokens == 0 {
		c.Faults.AfterTokens = 1
	}
	if c.Faults.StallFor == 0 {
		c.Faults.StallFor = 5 * time.Second
	}
}

// Validate reports every field that cannot work.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.BlockSize < 1 {
		bad("block_size %d must be at least 1", c.BlockSize)
	}
	if c.KVCacheTokens < c.BlockSize || c.BlockSize < 1 {
		bad("kv_cache_tokens %d must hold at least one block of %d", c.KVCacheTokens, c.BlockSize)
	}
	if c.MaxModelLen < 2 {
		bad("max_model_len %d must be at least 2", c.MaxModelLen)
	}
	if c.MaxNumSeqs < 1 {
		bad("max_num_seqs %d must be at least 1", c.MaxNumSeqs)
	}
	if c.MaxBatchedTokens < 1 {
		bad("max_batched_tokens %d must be at least 1", c.MaxBatchedTokens)
	}
	if c.TokensPerEvent < 1 {
		bad("tokens_per_event %d must be at least 1", c.TokensPerEvent)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"step_fixed", c.StepFixed.Seconds()}, {"frontend_token_us", c.FrontendToken}, {"prefill_token_us", c.PrefillToken},
		{"prefill_attention_ns", c.PrefillAttention}, {"decode_seq_us", c.DecodeSeq},
		{"decode_context_ns", c.DecodeContext},
	} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			bad("%s must be a finite number ≥ 0, not %v", f.name, f.v)
		}
	}
	if c.OffloadTokens < 0 {
		bad("offload_tokens %d must be ≥ 0", c.OffloadTokens)
	}
	if c.OffloadTokens > 0 && (c.OffloadLoadBytesPerS <= 0 || c.KVBytesPerToken <= 0) {
		bad("an offload tier needs offload_load_gbps > 0 and kv_bytes_per_token > 0")
	}
	for _, k := range c.Faults.Kinds() {
		if k.Fault.Rate < 0 || k.Fault.Rate > 1 || math.IsNaN(k.Fault.Rate) {
			bad("fault_%s_rate %v must be in [0, 1]", k.Name, k.Fault.Rate)
		}
		if k.Fault.Every < 0 {
			bad("fault_%s_every %d must be ≥ 0", k.Name, k.Fault.Every)
		}
	}
	if c.Faults.AfterTokens < 0 {
		bad("fault_after_tokens %d must be ≥ 0", c.Faults.AfterTokens)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("simulator config: %w", err)
	}
	return nil
}

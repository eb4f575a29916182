// Package profile is the embedded simulator's configuration: named
// profiles, the schema of the fields a scenario's simulator block may
// override, and Build to turn a spec into an engine configuration. It
// imports no server, so the scenario language can check a simulator block
// without linking the simulator's HTTP front end.
package profile

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Profile names.
const (
	Quickstart  = "quickstart"
	SeedVLLM    = "seed-vllm"
	SeedLMCache = "seed-lmcache"
)

// Default is used when a simulator block names none.
const Default = Quickstart

// Names lists the profile names, sorted.
func Names() []string {
	return []string{Quickstart, SeedLMCache, SeedVLLM}
}

// Config returns the named profile's configuration (docs/simulator.md
// explains every value).
func Config(name string) (engine.Config, error) {
	switch name {
	case Quickstart:
		return quickstart(), nil
	case SeedVLLM:
		return seedVLLM(), nil
	case SeedLMCache:
		c := seedVLLM()
		c.OffloadTokens = 3_700_000              // ≈ 200 GB of CPU memory at 56 KiB/token
		c.OffloadLoadBytesPerS = 22e9            // LMCache CPU tier, effective
		c.KVBytesPerToken = 28 * 2 * 4 * 128 * 2 // Qwen2.5-7B: layers × (K,V) × kv heads × dims × bf16
		return c, nil
	}
	return engine.Config{}, fmt.Errorf("unknown simulator profile %q (have %s)", name, strings.Join(Names(), ", "))
}

// Describe is a profile's one-line description: its KV cache capacity (and
// offload tier) as configured, what it models, and the clock it suits.
func Describe(name string) (string, error) {
	cfg, err := Config(name)
	if err != nil {
		return "", err
	}
	s := "KV cache " + groupDigits(cfg.KVCacheTokens) + " tokens"
	if cfg.OffloadTokens > 0 {
		s += " + " + groupDigits(cfg.OffloadTokens) + "-token offload tier"
	}
	return s + "; " + purpose(name), nil
}

// purpose says what a profile models and the clock it suits.
func purpose(name string) string {
	switch name {
	case Quickstart:
		return "thrashes above about 4 sessions of 2k-token documents; real clock (the quickstart sweep: about 40 s)"
	case SeedVLLM:
		return "vLLM with Qwen2.5-7B-Instruct-1M: 12 of 16 sessions of 131k-token novels fit; virtual clock (the seed table: an hour on the real one)"
	case SeedLMCache:
		return "seed-vllm with LMCache's CPU tier: all 16 sessions fit; virtual clock (the seed table: an hour on the real one)"
	}
	return ""
}

// groupDigits writes n with a comma between groups of three digits.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// quickstart is small enough to sweep a 3×3 grid of ~2k-token documents on
// the real clock in seconds, with a KV cache that holds about five sessions
// so larger points thrash and recompute.
func quickstart() engine.Config {
	return engine.Config{
		Model:            "mrqa-sim-quickstart",
		Tokenizer:        "cl100k_base",
		MaxModelLen:      32768,
		KVCacheTokens:    10240,
		FrontendToken:    5e-6,
		BlockSize:        16,
		MaxNumSeqs:       64,
		MaxBatchedTokens: 512,
		StepFixed:        2 * time.Millisecond,
		PrefillToken:     150e-6,
		PrefillAttention: 0,
		DecodeSeq:        0.5e-3,
		DecodeContext:    0,
		TokensPerEvent:   1,
	}
}

// seedVLLM reproduces the source benchmark's vLLM row: a 7B model with 1M
// context on one Hopper-class GPU. docs/simulator.md ("Profiles") says how
// its figures were chosen.
func seedVLLM() engine.Config {
	return engine.Config{
		Model:            "Qwen/Qwen2.5-7B-Instruct-1M",
		Tokenizer:        "cl100k_base",
		MaxModelLen:      1_010_000,
		KVCacheTokens:    1_900_000,
		FrontendToken:    2e-6,
		BlockSize:        16,
		MaxNumSeqs:       256,
		MaxBatchedTokens: 8192,
		StepFixed:        15 * time.Millisecond,
		PrefillToken:     25e-6,
		PrefillAttention: 1.2e-9,
		DecodeSeq:        0.1e-3,
		DecodeContext:    12e-9,
		TokensPerEvent:   1,
	}
}

// Param is one field a scenario's simulator block may set besides profile
// and clock.
type Param struct {
	Name string
	Kind string // "number" | "string" | "bool" | "duration"
	Doc  string
}

// Param kinds.
const (
	KindNumber   = "number"
	KindString   = "string"
	KindBool     = "bool"
	KindDuration = "duration"
)

type field struct {
	Param
	integer bool
	set     func(c *engine.Config, v any)
}

func num(name, doc string, integer bool, set func(c *engine.Config, v float64)) field {
	return field{Param{name, KindNumber, doc}, integer, func(c *engine.Config, v any) { set(c, v.(float64)) }}
}

func dur(name, doc string, set func(c *engine.Config, v time.Duration)) field {
	return field{Param{name, KindDuration, doc}, false, func(c *engine.Config, v any) { set(c, v.(time.Duration)) }}
}

func str(name, doc string, set func(c *engine.Config, v string)) field {
	return field{Param{name, KindString, doc}, false, func(c *engine.Config, v any) { set(c, v.(string)) }}
}

// fields is the schema with its setters, in documentation order.
func fields() []field {
	fs := []field{
		str("model", "model name served and echoed", func(c *engine.Config, v string) { c.Model = v }),
		str("tokenizer", "encoding prompts are counted with: cl100k_base | o200k_base", func(c *engine.Config, v string) { c.Tokenizer = v }),
		num("max_model_len", "longest prompt + max_tokens accepted; longer gets vLLM's 400", true, func(c *engine.Config, v float64) { c.MaxModelLen = int(v) }),
		num("kv_cache_tokens", "GPU KV cache capacity in tokens", true, func(c *engine.Config, v float64) { c.KVCacheTokens = int(v) }),
		num("block_size", "tokens per KV block (prefix-cache granularity)", true, func(c *engine.Config, v float64) { c.BlockSize = int(v) }),
		num("max_num_seqs", "most requests running at once", true, func(c *engine.Config, v float64) { c.MaxNumSeqs = int(v) }),
		num("max_batched_tokens", "tokens per step (decodes plus prefill chunks)", true, func(c *engine.Config, v float64) { c.MaxBatchedTokens = int(v) }),
		num("frontend_token_us", "microseconds per prompt token in the front end (tokenize, template, hash), one request at a time", false, func(c *engine.Config, v float64) { c.FrontendToken = v / 1e6 }),
		dur("step_fixed", "fixed cost of every step", func(c *engine.Config, v time.Duration) { c.StepFixed = v }),
		num("prefill_token_us", "microseconds per prompt token computed", false, func(c *engine.Config, v float64) { c.PrefillToken = v / 1e6 }),
		num("prefill_attention_ns", "nanoseconds per prompt token per token of context before it", false, func(c *engine.Config, v float64) { c.PrefillAttention = v / 1e9 }),
		num("decode_seq_us", "microseconds per decoding sequence per step", false, func(c *engine.Config, v float64) { c.DecodeSeq = v / 1e6 }),
		num("decode_context_ns", "nanoseconds per token of context a decoding sequence reads", false, func(c *engine.Config, v float64) { c.DecodeContext = v / 1e9 }),
		num("offload_tokens", "offload tier capacity in tokens; 0 disables it", true, func(c *engine.Config, v float64) { c.OffloadTokens = int(v) }),
		num("offload_load_gbps", "offload tier load bandwidth, GB/s (1e9 bytes/s)", false, func(c *engine.Config, v float64) { c.OffloadLoadBytesPerS = v * 1e9 }),
		num("kv_bytes_per_token", "bytes of KV per token (sets load time from the offload tier)", false, func(c *engine.Config, v float64) { c.KVBytesPerToken = v }),
		num("tokens_per_event", "generated tokens per SSE event", true, func(c *engine.Config, v float64) { c.TokensPerEvent = int(v) }),
		dur("fault_retry_after", "Retry-After sent with a 429 fault", func(c *engine.Config, v time.Duration) { c.Faults.RetryAfter = v }),
		num("fault_after_tokens", "tokens sent before a cut, stall, malformed event or in-stream error", true, func(c *engine.Config, v float64) { c.Faults.AfterTokens = int(v) }),
		dur("fault_stall", "how long a stall fault holds the stream", func(c *engine.Config, v time.Duration) { c.Faults.StallFor = v }),
		num("fault_min_prompt_tokens", "faults strike only requests whose prompt has at least this many tokens (e.g. only openings that carry a document); 0 for all", true, func(c *engine.Config, v float64) { c.Faults.MinPromptTokens = int(v) }),
	}
	var probe engine.Faults
	for i, k := range probe.Kinds() {
		i := i
		fs = append(fs,
			num("fault_"+k.Name+"_rate", "fraction of requests hit by the "+k.Name+" fault (deterministic draw)", false,
				func(c *engine.Config, v float64) { c.Faults.Kinds()[i].Fault.Rate = v }),
			num("fault_"+k.Name+"_every", "every Nth request is hit by the "+k.Name+" fault", true,
				func(c *engine.Config, v float64) { c.Faults.Kinds()[i].Fault.Every = int(v) }))
	}
	return fs
}

// Schema lists the fields a scenario's simulator block may set besides
// profile and clock.
func Schema() []Param {
	fs := fields()
	out := make([]Param, len(fs))
	for i, f := range fs {
		out[i] = f.Param
	}
	return out
}

// Build is the configuration a simulator spec describes: its profile
// (Default when empty) with its params applied. Values are float64,
// string, bool or time.Duration as Schema says.
func Build(s *spec.Simulator) (engine.Config, error) {
	name := Default
	var params map[string]any
	if s != nil {
		if s.Profile != "" {
			name = s.Profile
		}
		params = s.Params
	}
	if s != nil && s.Clock != "" && s.Clock != spec.ClockReal && s.Clock != spec.ClockVirtual {
		return engine.Config{}, fmt.Errorf("simulator clock %q: want real or virtual", s.Clock)
	}
	cfg, err := Config(name)
	if err != nil {
		return engine.Config{}, err
	}
	byName := map[string]field{}
	for _, f := range fields() {
		byName[f.Name] = f
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		v := params[k]
		f, ok := byName[k]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown simulator field %q", k))
			continue
		}
		if err := check(f, v); err != nil {
			errs = append(errs, fmt.Errorf("simulator field %q: %w", k, err))
			continue
		}
		f.set(&cfg, v)
	}
	if err := errors.Join(errs...); err != nil {
		return engine.Config{}, err
	}
	cfg.Defaults()
	if cfg.Tokenizer != "cl100k_base" && cfg.Tokenizer != "o200k_base" {
		return engine.Config{}, fmt.Errorf("simulator tokenizer %q: want cl100k_base or o200k_base", cfg.Tokenizer)
	}
	if err := cfg.Validate(); err != nil {
		return engine.Config{}, fmt.Errorf("profile %s: %w", name, err)
	}
	return cfg, nil
}

func check(f field, v any) error {
	switch f.Kind {
	case KindNumber:
		x, ok := v.(float64)
		if !ok {
			return fmt.Errorf("want a number, got %T", v)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return fmt.Errorf("want a finite number ≥ 0, got %v", x)
		}
		if f.integer && (x != math.Trunc(x) || x > math.MaxInt32*1024) {
			return fmt.Errorf("want a whole number, got %v", x)
		}
	case KindDuration:
		if _, ok := v.(time.Duration); !ok {
			return fmt.Errorf("want a duration, got %T", v)
		}
	case KindString:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
	case KindBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want a bool, got %T", v)
		}
	}
	return nil
}

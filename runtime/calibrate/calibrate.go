// Package calibrate fits the embedded simulator's cost model to a real
// server: a short, bounded probe (cold prefills at several prompt lengths,
// cached follow-ups, concurrent decodes, the KV capacity the server states
// on /metrics or a ladder of sessions finds by timing), a least-squares
// fit, and a profile file that a simulator block loads with profile_file. docs/simulator.md ("Calibrating") explains
// what it sends and how to read the fit.
package calibrate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// DefaultBase is the profile whose values stand for what the probe cannot
// identify, unless Options.Base names another.
const DefaultBase = profile.SeedVLLM

// Options configure the probe.
type Options struct {
	Base         string        // profile for unidentified fields; "" is DefaultBase
	Lengths      []int         // cold prompt lengths in tokens (approximate); nil: DefaultLengths up to half the context
	Repeats      int           // times each length is probed; 0: 2
	Batches      []int         // concurrent streams of the decode probes; nil: 1, 4, 16
	DecodeTokens int           // tokens each request streams; 0: 32
	RequestLimit time.Duration // bound on each request; 0: 2 minutes
	// KVLadder says when the KV ladder measures the capacity: LadderAuto
	// ("" too) when /metrics states none, LadderAlways, LadderOff.
	KVLadder      string
	LadderSession int       // tokens per ladder session; 0: DefaultLadderSession
	LadderMax     int       // largest total the ladder tries; 0: DefaultLadderMax
	Progress      io.Writer // the plan and each probe's line; nil: none
	Tokenizers    *tokenizer.Cache
}

// DefaultLengths are the cold prompt lengths probed when Options names none,
// cut to half the model's context.
var DefaultLengths = []int{1024, 4096, 8192, 16384, 32768}

// Calibration is what a profile file records of how its params were
// obtained (the file's "calibration" object).
type Calibration struct {
	// Source says what was measured: "probe of URL" or "runs DIR, …"; a
	// run on the profile names it as what its predictions are calibrated from.
	Source           string  `json:"source"`
	Target           string  `json:"target"` // base URL without credentials
	Model            string  `json:"model"`
	Started          string  `json:"started"` // RFC 3339
	Seconds          float64 `json:"seconds"`
	Base             string  `json:"base"`
	Plan             *Plan   `json:"probe,omitempty"`    // nil when fitted from runs
	Runs             *Runs   `json:"runs,omitempty"`     // nil when probed
	ResetPrefixCache bool    `json:"reset_prefix_cache"` // the target accepted POST /reset_prefix_cache
	KV               KV      `json:"kv_capacity"`
	// Offload is the offload tier, when one showed; nil when none did.
	Offload *Offload `json:"offload_tier,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	Fit
}

// Result is a finished calibration.
type Result struct {
	File        profile.File
	Calibration Calibration
}

// Run probes the scenario's target and fits the cost model. A simulator
// target on the real clock is started for the probe; the virtual clock has
// nothing to measure.
func Run(ctx context.Context, sc *spec.Scenario, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	baseCfg, err := profile.Config(opts.Base)
	if err != nil {
		return nil, fmt.Errorf("calibrate: base: %w", err)
	}
	baseURL, stop, err := serve(ctx, sc.Target)
	if err != nil {
		return nil, err
	}
	defer stop()
	client, err := newClient(sc, baseURL, opts)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	info, err := client.Preflight(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibrate: preflight: %w", err)
	}
	started := time.Now()
	kv := scrapeKV(ctx, sc.Target, baseURL)
	// auto runs the ladder where /metrics states no capacity, or has an
	// offload tier's counters that look tokens up during the cold probes:
	// only the ladder can measure the tier (offload.go).
	forTier := opts.KVLadder == LadderAuto && kv.Tokens > 0 && kv.OffloadCounters
	if opts.KVLadder == LadderAuto {
		opts.KVLadder = LadderOff
		if kv.Tokens == 0 {
			opts.KVLadder = LadderAlways
		}
	}
	plan := NewPlan(opts, info.MaxModelLen, baseCfg)
	if len(plan.Lengths) == 0 {
		return nil, fmt.Errorf("calibrate: no prompt length fits half the model's %d-token context: name shorter -lengths", info.MaxModelLen)
	}
	plan.Write(opts.Progress)
	tierLadder := ladderFor(opts, info.MaxModelLen)
	if forTier {
		fmt.Fprintf(opts.Progress, "  offload tier: /metrics has its counters; if they look tokens up during the cold probes, a KV ladder of %d-token sessions up to %d tokens measures it (at most %d more requests, %s more)\n",
			tierLadder.SessionTokens, tierLadder.MaxTokens, tierLadder.Requests, time.Duration(tierLadder.Requests)*plan.Limit+time.Duration(tierLadder.MaxRungs)*resetLimit)
	}
	cal := Calibration{Source: "probe of " + redactURL(baseURL), Target: redactURL(baseURL), Model: info.Model,
		Started: started.UTC().Format(time.RFC3339), Base: opts.Base, Plan: &plan, KV: kv}
	p := &prober{client: client, opts: opts, plan: plan, blockSize: baseCfg.BlockSize, runID: started.UnixNano()}
	cal.ResetPrefixCache = client.ResetPrefixCache(ctx) == nil
	p.reset = cal.ResetPrefixCache
	obs, err := p.run(ctx)
	if err == nil {
		cal.Fit, err = FitObs(obs, baseCfg)
	}
	rescrape := func() KV { return scrapeKV(ctx, sc.Target, baseURL) }
	if err == nil && kv.OffloadCounters {
		p.tierAfterProbe(&cal, forTier, tierLadder, rescrape())
	}
	if err == nil && plan.Ladder != nil {
		err = p.measureKV(ctx, &cal, baseCfg.MaxBatchedTokens, rescrape)
	}
	cal.Notes = append(cal.Notes, p.notes...)
	if err != nil {
		return nil, err
	}
	cal.Seconds = time.Since(started).Seconds()
	return finish(cal, info, baseCfg)
}

// measureKV runs the KV ladder, judging hits by the fitted TTFT where the
// server reports no cached tokens, and keeps its capacity when it found
// one; what /metrics stated is kept beside it, and a disagreement of more
// than 10 % is noted. Where an offload tier shows (offload.go) and /metrics
// states the GPU's capacity, that is kept as the GPU's and the ladder's
// excess is the tier's; rescrape reads /metrics again, for the tokens the
// tier served during the ladder.
func (p *prober) measureKV(ctx context.Context, cal *Calibration, chunk int, rescrape func() KV) error {
	ttft := func(prompt, cached int) time.Duration { return cal.Fit.TTFT(prompt, cached, chunk) }
	lp, stated := *cal.Plan.Ladder, cal.KV
	kv, err := p.ladder(ctx, lp, ttft)
	if err != nil {
		return err
	}
	if kv.OffloadCounters = stated.OffloadCounters; stated.OffloadCounters {
		stated.offloadHits = rescrape().offloadHits - stated.offloadHits
	}
	cal.Offload, p.notes = findOffload(kv, stated, lp.SessionTokens, p.notes)
	if cal.Offload != nil && stated.Tokens > 0 {
		if cal.Offload.Tokens > 0 {
			cal.Offload.fitLoad(kv.Rungs, stated.Tokens, lp.SessionTokens, cal.Fit, chunk)
		}
		cal.KV = keepStated(kv, stated)
		return nil
	}
	if stated.Tokens > 0 {
		kv.Metrics = stated.Tokens
		if p.ladderForTier {
			p.notes = append(p.notes, "the KV ladder ran to look for an offload tier and found none; /metrics' capacity is kept")
			kv = keepStated(kv, stated)
		} else if kv.Tokens == 0 {
			p.notes = append(p.notes, "KV ladder: "+kv.Why+"; /metrics' capacity is kept")
			kv.Tokens, kv.Source = stated.Tokens, stated.Source
		} else if d := float64(kv.Tokens)/float64(stated.Tokens) - 1; math.Abs(d) > 0.10 {
			p.notes = append(p.notes, fmt.Sprintf("the KV ladder held %d tokens of %d-token sessions where /metrics states %d: the measured capacity is kept", kv.Tokens, cal.Plan.Ladder.SessionTokens, stated.Tokens))
		}
	}
	cal.KV = kv
	return nil
}

// keepStated is the ladder's result with /metrics' capacity kept: its
// rungs stay, its bracket (no longer the capacity's) goes.
func keepStated(kv, stated KV) KV {
	kv.Metrics, kv.Tokens, kv.Source, kv.Why, kv.Bracket = stated.Tokens, stated.Tokens, stated.Source, "", [2]int{}
	return kv
}

// Check refuses options that could only waste the probe: it runs before
// anything is sent. Zero values take their defaults.
func (o Options) Check() error {
	switch {
	case o.Repeats < 0:
		return fmt.Errorf("repeats %d: want at least 1", o.Repeats)
	case o.DecodeTokens != 0 && o.DecodeTokens < minDecodeTokens:
		return fmt.Errorf("decode tokens %d: the decode fit needs streams of at least %d tokens", o.DecodeTokens, minDecodeTokens)
	case o.RequestLimit < 0:
		return fmt.Errorf("request limit %s: want a positive duration", o.RequestLimit)
	case o.LadderMax > 0 && o.LadderSession > 0 && o.LadderMax < o.LadderSession:
		return fmt.Errorf("KV ladder maximum %d is below one session of %d tokens", o.LadderMax, o.LadderSession)
	}
	return nil
}

func withDefaults(o Options) Options {
	if o.Base == "" {
		o.Base = DefaultBase
	}
	if o.Repeats <= 0 {
		o.Repeats = 2
	}
	if o.Batches == nil {
		o.Batches = []int{1, 4, 16}
	}
	if o.DecodeTokens <= 0 {
		o.DecodeTokens = 32
	}
	if o.KVLadder == "" {
		o.KVLadder = LadderAuto
	}
	if o.Tokenizers == nil {
		o.Tokenizers = tokenizer.NewCache()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// serve returns the target's base URL, starting the embedded simulator
// when the target is one.
func serve(ctx context.Context, t *spec.Target) (string, func(), error) {
	if t.Simulator == nil {
		return t.BaseURL, func() {}, nil
	}
	if t.Simulator.Clock == spec.ClockVirtual {
		return "", nil, fmt.Errorf("calibrate: target %q runs on the virtual clock, which has no server to measure; use clock = \"real\" or a base_url", t.Name)
	}
	srv, err := sim.Start(ctx, t.Simulator, "")
	if err != nil {
		return "", nil, fmt.Errorf("calibrate: start simulator: %w", err)
	}
	return srv.BaseURL(), func() { _ = srv.Close() }, nil
}

// newClient is the HTTP client for the target, as exec builds it; the
// corpus's tokenizer counts tokens when the server sends no usage.
func newClient(sc *spec.Scenario, baseURL string, opts Options) (*openai.Client, error) {
	t := sc.Target
	tlsCfg, err := tlsconf.Load(t.TLS)
	if err != nil {
		return nil, err
	}
	cfg := openai.Config{
		BaseURL: baseURL, Model: t.Model, API: t.API, APIKey: t.APIKey, Headers: t.Headers, ExtraBody: t.ExtraBody,
		ConnectTimeout: t.Timeouts.Connect, FirstTokenTimeout: t.Timeouts.FirstToken, IdleTimeout: t.Timeouts.Idle,
		TotalTimeout: requestLimit(opts.RequestLimit, t.Timeouts.Total), TLS: tlsCfg,
	}
	if sc.Script != nil {
		cfg.CompletionsTemplate = sc.Script.CompletionsTemplate
	}
	if sc.Corpus != nil && sc.Corpus.Tokenizer != "server" {
		if tok, err := opts.Tokenizers.Load(sc.Corpus.Tokenizer, tokenizer.Options{BaseDir: sc.Corpus.BaseDir}); err == nil {
			cfg.Counter = tok
		}
	}
	return openai.New(cfg)
}

// requestLimit is the shorter of the probe's limit and the target's.
func requestLimit(probe, target time.Duration) time.Duration {
	if probe <= 0 {
		probe = defaultRequestLimit
	}
	if target > 0 && target < probe {
		return target
	}
	return probe
}

func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		p.User = nil
		return p.String()
	}
	return "(unparsable)"
}

// finish turns the fit into the profile file: every identified field, the
// KV capacity the server stated, its model and context.
func finish(cal Calibration, info openai.PreflightInfo, base engine.Config) (*Result, error) {
	params := map[string]any{"model": info.Model}
	if info.MaxModelLen > 0 {
		params["max_model_len"] = float64(info.MaxModelLen)
	}
	if cal.KV.Tokens > 0 {
		params["kv_cache_tokens"] = float64(cal.KV.Tokens)
	}
	if cal.Offload != nil {
		tier, note := cal.Offload.params(base)
		for k, v := range tier {
			params[k] = v
		}
		if note == "" {
			note = cal.Offload.Why
		}
		cal.Notes = append(cal.Notes, note)
	}
	for _, p := range cal.Params {
		if !p.Identified {
			continue
		}
		if p.Name == "step_fixed" {
			params[p.Name] = profile.FileParam(time.Duration(p.Value * 1e9).Round(time.Microsecond))
			continue
		}
		params[p.Name] = roundSig(p.Value, 4)
	}
	raw, err := json.Marshal(cal)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	f := profile.File{Format: profile.FileFormat, Base: cal.Base, Params: params, Calibration: raw}
	if _, err := profile.Decode(mustJSON(f)); err != nil {
		return nil, fmt.Errorf("calibrate: the fitted profile does not build: %w", err)
	}
	return &Result{File: f, Calibration: cal}, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Encode is the profile file's text: indented JSON with a final newline.
func (r *Result) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(r.File, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	return append(b, '\n'), nil
}

package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/internal/redirect"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// TokenizerOptions fills what a corpus with tokenizer = "server" needs from
// the target it is used against, when o names no server yet: the root of
// the target's base_url (without /v1), its model and credentials. Other
// fields of o are kept. A target without base_url (the simulator) adds
// nothing.
func TokenizerOptions(o tokenizer.Options, t *spec.Target) (tokenizer.Options, error) {
	if o.ServerURL != "" || t == nil || t.BaseURL == "" {
		return o, nil
	}
	return serverTokenizer(o, t, t.BaseURL)
}

// serverTokenizer points o at the server at baseURL with t's credentials
// and tls settings.
func serverTokenizer(o tokenizer.Options, t *spec.Target, baseURL string) (tokenizer.Options, error) {
	cfg, err := tlsconf.Load(t.TLS)
	if err != nil {
		return o, err
	}
	o.ServerURL = strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1")
	o.Model = t.Model
	o.Header = targetHeader(t)
	o.HTTPClient = &http.Client{Timeout: 60 * time.Second, CheckRedirect: redirect.SameHost, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg}}
	return o, nil
}

// targetHeader is the authentication the target's requests carry: api_key
// as a bearer token, then the headers (which may replace it).
func targetHeader(t *spec.Target) http.Header {
	h := http.Header{}
	if t.APIKey != "" {
		h.Set("Authorization", "Bearer "+t.APIKey)
	}
	for k, v := range t.Headers {
		h.Set(k, v)
	}
	return h
}

// target is a started target: an executor plus what sits around it.
type target struct {
	exec    Executor
	client  *openai.Client // nil on the virtual clock
	scraper *promscrape.Scraper
	model   string
	baseURL string // where requests went, once started
	usage   bool
	fresh   bool // every point starts on an empty cache (virtual clock)
	// maxModelLen is the target's context length in tokens and kvTokens
	// its KV cache; 0 when unknown.
	maxModelLen, kvTokens int
	notes                 []string // what preflight learned, for the terminal
	closers               []func()
}

func (t *target) close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
}

// downAfterPoint returns ErrTargetDown, wrapped with what was seen, when
// the target answers nothing now (GET /v1/models gets no HTTP answer
// within probeTimeout), nil when it answers anything or runs in-process. A
// point every request of which failed measured nothing but a target that
// had gone down when it does not answer after the point: a replica that
// died during a sweep's last point, before down_after requests failed.
func (t *target) downAfterPoint(ctx context.Context) error {
	if t.client == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, status, err := t.client.Models(pctx)
	if err == nil || status != 0 || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("%w: every request of the point failed, and after it the target answered nothing (%v)", ErrTargetDown, err)
}

// probeTimeout bounds downAfterPoint's request.
const probeTimeout = 10 * time.Second

func (t *target) reset(ctx context.Context) error {
	if t.client == nil {
		return nil
	}
	return t.client.ResetPrefixCache(ctx)
}

// startTarget starts what the scenario's target needs: the virtual clock
// in-process, or an HTTP client (and the embedded simulator when the
// target is one) that must pass preflight, and the /metrics scraper.
func startTarget(ctx context.Context, sc *spec.Scenario, opts Options, prog *progress) (*target, error) {
	ts := sc.Target
	if ts.Simulator != nil && ts.Simulator.Clock == spec.ClockVirtual {
		ex, err := newVirtualExecutor(sc, opts.Tokenizers)
		if err != nil {
			return nil, err
		}
		return &target{exec: ex, fresh: true, model: ex.cfg.Model, scraper: ex.scraper, usage: true,
			maxModelLen: ex.cfg.MaxModelLen, kvTokens: ex.cfg.KVCacheTokens}, nil
	}
	t := &target{usage: true, baseURL: ts.BaseURL}
	metricsURL := ""
	if ts.Metrics != nil {
		metricsURL = ts.Metrics.URL
	}
	if ts.Simulator != nil {
		if err := t.startSimulator(ctx, ts.Simulator, prog); err != nil {
			return nil, err
		}
		metricsURL = strings.TrimSuffix(t.baseURL, "/v1") + "/metrics"
	}
	client, err := t.preflight(ctx, sc, opts)
	if err != nil {
		// Nothing is measured against a target that cannot serve one
		// request: the sweep stops before its first point and writes
		// nothing that could read like a measurement.
		t.close()
		return nil, err
	}
	if metricsURL != "" {
		if err := t.startScraper(ctx, ts, metricsURL); err != nil {
			t.close()
			return nil, err
		}
	}
	runID := make([]byte, 4)
	_, _ = rand.Read(runID)
	down := ts.DownAfter
	if down == 0 {
		down = spec.DefaultDownAfter
	}
	t.exec = &HTTPExecutor{Client: client, Script: sc.Script, RunID: "mrqa-" + hex.EncodeToString(runID), DownAfter: down}
	return t, nil
}

// startSimulator serves the embedded simulator on 127.0.0.1 in real time.
func (t *target) startSimulator(ctx context.Context, s *spec.Simulator, prog *progress) error {
	srv, err := sim.Start(ctx, s, "")
	if err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	t.closers = append(t.closers, func() { srv.Close() })
	if cfg, err := profile.Build(s); err == nil {
		t.kvTokens = cfg.KVCacheTokens
	}
	t.baseURL = srv.BaseURL()
	prog.line("simulator %q listening on %s", s.Profile, t.baseURL)
	return nil
}

// preflight builds the HTTP client and checks that the target can serve
// the run; what it learns (model, usage, context length, notes) goes in t.
func (t *target) preflight(ctx context.Context, sc *spec.Scenario, opts Options) (*openai.Client, error) {
	ts := sc.Target
	var counter interface{ Count(string) int }
	topts, _ := serverTokenizer(tokenizer.Options{BaseDir: sc.Corpus.BaseDir}, ts, t.baseURL) // a bad tls block fails just below
	if tok, err := opts.Tokenizers.Load(sc.Corpus.Tokenizer, topts); err == nil {
		counter = tok
	}
	tlsCfg, err := tlsconf.Load(ts.TLS)
	if err != nil {
		return nil, err
	}
	client, err := openai.New(openai.Config{
		BaseURL:             t.baseURL,
		Model:               ts.Model,
		API:                 ts.API,
		APIKey:              ts.APIKey,
		Headers:             ts.Headers,
		ExtraBody:           ts.ExtraBody,
		ConnectTimeout:      ts.Timeouts.Connect,
		FirstTokenTimeout:   ts.Timeouts.FirstToken,
		IdleTimeout:         ts.Timeouts.Idle,
		TotalTimeout:        ts.Timeouts.Total,
		CompletionsTemplate: sc.Script.CompletionsTemplate,
		Counter:             counter,
		TLS:                 tlsCfg,
	})
	if err != nil {
		return nil, err
	}
	info, err := client.Preflight(ctx)
	if err != nil {
		return nil, err
	}
	t.client, t.model, t.usage = client, info.Model, info.StreamOptions && info.Usage
	t.notes, t.maxModelLen = info.Notes, info.MaxModelLen
	return client, nil
}

// startScraper scrapes url in the background until the target closes.
func (t *target) startScraper(ctx context.Context, ts *spec.Target, url string) error {
	interval := time.Second
	var include []string
	if ts.Metrics != nil {
		if ts.Metrics.Interval > 0 {
			interval = ts.Metrics.Interval
		}
		include = ts.Metrics.Include
	}
	access, err := promscrape.AccessOf(ts.Metrics)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.scraper = promscrape.Start(sctx, url, interval, include, access)
	t.closers = append(t.closers, func() { t.scraper.Stop(); cancel() })
	return nil
}

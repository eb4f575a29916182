// Package server serves the simulator's engine over HTTP in real time, as an
// OpenAI-compatible server shaped like vLLM's: /v1/chat/completions,
// /v1/completions, /v1/models, /metrics with vLLM's metric names, and
// POST /reset_prefix_cache. The engine loop sleeps each step's duration on
// the wall clock, so queueing, prefill and interference are effects a client
// measures. Answers are deterministic and exactly max_tokens long; usage is
// exact for the configured tokenizer; faults are injected on request.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

// DefaultMaxTokens is the answer length when a request names none (vLLM
// would use the whole remaining context, which a simulator has no use for).
const DefaultMaxTokens = 512

// tokenCacheLimit bounds the tokens the prompt-tokenization cache holds
// (about 64 MB of token ids plus the texts).
const tokenCacheLimit = 8 << 20

// maxCatchUp is how far behind its planned timeline the engine loop may
// fall and still catch up.
const maxCatchUp = 50 * time.Millisecond

// lagRing is how many recent step-timing errors are kept for StepLags.
const lagRing = 1 << 16

// Server is a running simulated inference server.
type Server struct {
	cfg    engine.Config
	tok    *tokenizer
	origin time.Time

	mu         sync.Mutex // guards eng, ttft, queue, lastSubmit
	eng        *engine.Engine
	lastSubmit time.Time
	ttft       histogram
	queue      histogram
	wake       chan struct{}

	requests atomic.Uint64
	bodies   sync.Pool // *bytes.Buffer for request bodies

	lagMu sync.Mutex
	lags  []time.Duration
	lagAt int

	ln       net.Listener
	http     *http.Server
	done     chan struct{}
	loopDone chan struct{}
	closeMu  sync.Once
}

// Start builds the engine and tokenizer for cfg, listens on addr ("" means
// 127.0.0.1:0, a free port) and serves until Close.
func Start(cfg engine.Config, addr string) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	go s.loop()
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

func newServer(cfg engine.Config) (*Server, error) {
	eng, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	cfg = eng.Config()
	tok, err := newTokenizer(cfg.Tokenizer, tokenCacheLimit)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return &Server{
		cfg: cfg, tok: tok, origin: time.Now(), eng: eng,
		ttft:  newHistogram(ttftBuckets),
		queue: newHistogram(queueBuckets),
		wake:  make(chan struct{}, 1), done: make(chan struct{}), loopDone: make(chan struct{}),
		bodies: sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}, nil
}

// Addr is the listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// BaseURL is the OpenAI-compatible root, http://127.0.0.1:PORT/v1.
func (s *Server) BaseURL() string { return "http://" + s.Addr() + "/v1" }

// Config is the configuration served, defaults applied.
func (s *Server) Config() engine.Config { return s.cfg }

// Close stops accepting, cuts open streams and stops the engine loop.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if e := s.http.Shutdown(ctx); e != nil {
			err = s.http.Close()
		}
		<-s.loopDone
	})
	if err != nil {
		return fmt.Errorf("simulator: close: %w", err)
	}
	return nil
}

// Done is closed when Close begins.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stats returns the engine's gauges and counters.
func (s *Server) Stats() engine.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Stats()
}

// StepLags returns the recent steps' timing errors: how late the loop woke
// after each step's planned end (at most the last 65,536).
func (s *Server) StepLags() []time.Duration {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	return append([]time.Duration(nil), s.lags...)
}

// job is one request in flight: the engine's view plus what the engine loop
// has published to the handler.
type job struct {
	req    engine.Request
	notify chan struct{}

	mu     sync.Mutex
	gen    int
	cached int
	done   bool
}

func (j *job) publish(gen, cached int, done bool) {
	j.mu.Lock()
	j.gen, j.cached, j.done = gen, cached, done
	j.mu.Unlock()
	select {
	case j.notify <- struct{}{}:
	default:
	}
}

func (j *job) snapshot() (gen, cached int, done bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.gen, j.cached, j.done
}

type delivery struct {
	j      *job
	gen    int
	cached int
	done   bool
}

// loop runs engine steps back to back while there is work: plan a step,
// sleep its duration, then hand out the tokens it produced.
func (s *Server) loop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var out []delivery
	var next time.Time // the previous step's planned end
	for {
		s.mu.Lock()
		for s.eng.Idle() {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.done:
				return
			}
			s.mu.Lock()
			next = time.Time{}
		}
		// Steps follow each other on the planned timeline, so a late wake-up
		// delays one delivery instead of shifting every later step; after a
		// long stall (the process starved of CPU) the timeline restarts.
		start := time.Now()
		if !next.IsZero() && start.Sub(next) < maxCatchUp {
			start = next
		}
		if start.Before(s.lastSubmit) {
			start = s.lastSubmit // never schedule a request before it arrived
		}
		d, prog := s.eng.Step(start.Sub(s.origin))
		out = out[:0]
		for _, r := range prog {
			out = append(out, delivery{j: r.Tag.(*job), gen: r.Generated, cached: r.CachedTokens, done: r.Done})
			if r.Generated == 1 {
				s.ttft.observe((r.FirstToken - r.Arrival).Seconds())
				s.queue.observe((r.Scheduled - r.Arrival).Seconds())
			}
		}
		s.mu.Unlock()
		target := start.Add(d)
		next = target
		if wait := time.Until(target); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.done:
				timer.Stop()
				return
			}
		}
		s.recordLag(time.Since(target))
		for _, o := range out {
			o.j.publish(o.gen, o.cached, o.done)
		}
	}
}

func (s *Server) recordLag(d time.Duration) {
	s.lagMu.Lock()
	if len(s.lags) < lagRing {
		s.lags = append(s.lags, d)
	} else {
		s.lags[s.lagAt] = d
		s.lagAt = (s.lagAt + 1) % lagRing
	}
	s.lagMu.Unlock()
}

// Handler is the HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/completions", s.completions)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("POST /reset_prefix_cache", s.reset)
	mux.HandleFunc("POST /tokenize", s.tokenize)
	mux.HandleFunc("POST /detokenize", s.detokenize)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return mux
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []map[string]any{{
			"id": s.cfg.Model, "object": "model", "created": s.origin.Unix(), "owned_by": "vllm",
			"root": s.cfg.Model, "parent": nil, "max_model_len": s.cfg.MaxModelLen,
		}},
	})
}

func (s *Server) reset(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.eng.ResetPrefixCache()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// apiError writes vLLM's (OpenAI's) error object.
func apiError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": code,
	}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds a request body; a 1M-token prompt is about 4 MB of text.
// Buffers up to maxPooledBody are reused across requests.
const (
	maxBody       = 64 << 20
	maxPooledBody = 8 << 20
)

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	req, err := s.readRequest(w, r, true)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	h := hasher{block: s.cfg.BlockSize}
	n := s.tok.chat(req.messages, &h)
	req.release()
	s.serve(w, r, true, req, n, &h)
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	req, err := s.readRequest(w, r, false)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	h := hasher{block: s.cfg.BlockSize}
	ids := s.tok.encode(req.prompt)
	req.release()
	h.add(ids)
	s.serve(w, r, false, req, len(ids), &h)
}

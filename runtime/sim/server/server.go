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
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
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

// request is what the handlers read from a body.
type request struct {
	model        string
	maxTokens    *int
	stream       bool
	includeUsage bool
	messages     []message
	prompt       any // string | rawText
	release      func()
}

// readRequest parses a chat (chat true) or completions body. Long texts
// in the request point into the body: call req.release once they have been
// tokenized.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, chat bool) (req *request, err error) {
	body := s.bodies.Get().(*bytes.Buffer)
	release := func() {
		if body.Cap() <= maxPooledBody {
			body.Reset()
			s.bodies.Put(body)
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	body.Reset()
	if r.ContentLength > 0 && r.ContentLength <= maxBody {
		body.Grow(int(r.ContentLength) + 1) // one allocation, no regrowth copies
	}
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	v, err := parseJSON(body.Bytes())
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	req = &request{release: release}
	if req.model, err = optString(m, "model"); err != nil {
		return nil, err
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		x, ok := m[k]
		if !ok || x == nil {
			continue
		}
		f, isNum := x.(float64)
		if !isNum || f != float64(int(f)) {
			return nil, fmt.Errorf("%s must be an integer", k)
		}
		n := int(f)
		req.maxTokens = &n // max_completion_tokens, when both, as it comes second
	}
	if x, ok := m["stream"]; ok && x != nil {
		if req.stream, ok = x.(bool); !ok {
			return nil, errors.New("stream must be a boolean")
		}
	}
	if so, ok := m["stream_options"].(map[string]any); ok {
		req.includeUsage, _ = so["include_usage"].(bool)
	}
	if !chat {
		switch p := m["prompt"].(type) {
		case rawText:
			req.prompt = p
		case string:
			if p == "" {
				return nil, errors.New("prompt must not be empty")
			}
			req.prompt = p
		default:
			return nil, errors.New("prompt must be a string")
		}
		return req, nil
	}
	msgs, ok := m["messages"].([]any)
	if !ok || len(msgs) == 0 {
		return nil, errors.New("messages must be a non-empty array")
	}
	for i, x := range msgs {
		mm, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("messages[%d] must be an object", i)
		}
		role, _ := mm["role"].(string)
		if role == "" {
			return nil, fmt.Errorf("messages[%d].role must be a non-empty string", i)
		}
		text, err := textOf(mm["content"])
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		req.messages = append(req.messages, message{role: role, content: text})
	}
	return req, nil
}

func optString(m map[string]any, k string) (string, error) {
	switch x := m[k].(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case rawText:
		return x.String(), nil
	}
	return "", fmt.Errorf("%s must be a string", k)
}

// textOf reads a message content: a string (or rawText), null, or an array
// of parts whose text parts are joined.
func textOf(x any) (any, error) {
	switch c := x.(type) {
	case nil:
		return "", nil
	case string, rawText:
		return c, nil
	case []any:
		var texts []any
		for _, part := range c {
			pm, ok := part.(map[string]any)
			if !ok {
				return nil, errors.New("content parts must be objects")
			}
			if pm["type"] != "text" {
				continue
			}
			switch t := pm["text"].(type) {
			case string, rawText:
				texts = append(texts, t)
			default:
				return nil, errors.New("a text part's text must be a string")
			}
		}
		if len(texts) == 1 {
			return texts[0], nil // keeps a long text raw, so cached
		}
		var b strings.Builder
		for _, t := range texts {
			b.WriteString(fmt.Sprint(t))
		}
		return b.String(), nil
	}
	return nil, errors.New("content must be a string or an array of text parts")
}

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

// faultSalt separates the deterministic draws of the fault kinds.
func faultSalt(kind int) uint64 { return engine.Mix(0x5eed, uint64(kind)) }

// serve runs one request through the engine and writes its response.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, chat bool, req *request, prompt int, h *hasher) {
	if req.model != "" && req.model != s.cfg.Model {
		apiError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.model))
		return
	}
	maxTokens := DefaultMaxTokens
	if req.maxTokens != nil {
		maxTokens = *req.maxTokens
	}
	if maxTokens < 1 {
		apiError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("max_tokens must be at least 1, got %d.", maxTokens))
		return
	}
	if prompt+maxTokens > s.cfg.MaxModelLen {
		e := &engine.ContextError{Prompt: prompt, Completion: maxTokens, Limit: s.cfg.MaxModelLen}
		apiError(w, http.StatusBadRequest, "BadRequestError", e.Error())
		return
	}

	n := s.requests.Add(1)
	f := &s.cfg.Faults
	strikes := map[string]bool{}
	for i, k := range f.Kinds() {
		strikes[k.Name] = prompt >= f.MinPromptTokens && k.Fault.Strikes(n, faultSalt(i))
	}
	switch {
	case strikes[engine.FaultHTTP500]:
		apiError(w, http.StatusInternalServerError, "InternalServerError", "simulated server error")
		return
	case strikes[engine.FaultHTTP429]:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		apiError(w, http.StatusTooManyRequests, "RateLimitError", "simulated rate limit")
		return
	case strikes[engine.FaultReset]:
		resetConn(w)
		return
	}

	// The answer: deterministic in the prompt, exactly maxTokens tokens.
	seed := engine.Mix(h.state(), uint64(prompt))
	answer := make([]int, maxTokens)
	for i := range answer {
		answer[i] = s.tok.answer[engine.Mix(seed, uint64(i))%uint64(len(s.tok.answer))]
	}
	h.add(answer)

	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = "sim-" + strconv.FormatUint(n, 10)
	}
	j := &job{notify: make(chan struct{}, 1)}
	j.req = engine.Request{ID: id, PromptTokens: prompt, MaxTokens: maxTokens, Hashes: h.hashes, Tag: j}
	s.mu.Lock()
	s.lastSubmit = time.Now()
	err := s.eng.Submit(&j.req, s.lastSubmit.Sub(s.origin))
	s.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	defer func() {
		s.mu.Lock()
		s.eng.Abort(&j.req) // no-op once done
		s.mu.Unlock()
	}()

	out := newChunker(chat, id, s.cfg.Model, s.origin.Unix())
	if !req.stream {
		s.whole(w, r, j, out, answer, prompt)
		return
	}
	s.stream(w, r, j, out, answer, prompt, req.includeUsage, strikes)
}

// resetConn closes the client's connection with a TCP reset before any
// byte of the response.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// whole waits for the full answer and writes one JSON response.
func (s *Server) whole(w http.ResponseWriter, r *http.Request, j *job, out *chunker, answer []int, prompt int) {
	for {
		select {
		case <-j.notify:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
		if _, cached, done := j.snapshot(); done {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out.whole(s.tok.textOf(answer), prompt, len(answer), cached))
			return
		}
	}
}

// stream writes the answer as server-sent events, as vLLM does: at the
// first token a role chunk and the token; then TokensPerEvent tokens per
// event, the last with finish_reason "length"; a usage chunk when asked;
// then [DONE].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, j *job, out *chunker, answer []int, prompt int, usage bool, strikes map[string]bool) {
	f := &s.cfg.Faults
	after := min(f.AfterTokens, len(answer)-1)
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	if strikes[engine.FaultCut] && after == 0 {
		panic(http.ErrAbortHandler)
	}
	sent := 0
	per := s.cfg.TokensPerEvent
	var buf []byte
	for {
		select {
		case <-j.notify:
		case <-r.Context().Done():
			return
		case <-s.done:
			panic(http.ErrAbortHandler)
		}
		gen, cached, done := j.snapshot()
		buf = buf[:0]
		for sent < gen {
			k := min(per, gen-sent)
			if k < per && !done {
				break
			}
			// Faults strike at the event boundary that passes `after`.
			if sent < after && sent+k > after {
				k = after - sent
			}
			if sent == 0 && out.chat {
				buf = out.role(buf)
			}
			last := sent+k == len(answer)
			buf = out.token(buf, s.tok.textOf(answer[sent:sent+k]), last)
			sent += k
			if sent == after {
				switch {
				case strikes[engine.FaultCut]:
					_, _ = w.Write(buf)
					if fl != nil {
						fl.Flush()
					}
					panic(http.ErrAbortHandler)
				case strikes[engine.FaultStreamError]:
					buf = out.streamError(buf)
					buf = append(buf, "data: [DONE]\n\n"...)
					_, _ = w.Write(buf)
					return
				case strikes[engine.FaultMalformed]:
					buf = append(buf, "data: {\"id\":\"broken\",\"choices\":[{\"delta\":{\"content\":\n\n"...)
				case strikes[engine.FaultStall]:
					_, _ = w.Write(buf)
					if fl != nil {
						fl.Flush()
					}
					buf = buf[:0]
					t := time.NewTimer(f.StallFor)
					select {
					case <-t.C:
					case <-r.Context().Done():
						t.Stop()
						return
					case <-s.done:
						t.Stop()
						panic(http.ErrAbortHandler)
					}
				}
			}
		}
		if done && sent == gen {
			if usage {
				buf = out.usage(buf, prompt, len(answer), cached)
			}
			buf = append(buf, "data: [DONE]\n\n"...)
		}
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if done && sent == gen {
			return
		}
	}
}

// textOf is the text of answer tokens.
func (t *tokenizer) textOf(ids []int) string {
	if len(ids) == 1 {
		return t.text[ids[0]]
	}
	var b []byte
	for _, id := range ids {
		b = append(b, t.text[id]...)
	}
	return string(b)
}

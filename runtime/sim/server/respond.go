package server

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

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

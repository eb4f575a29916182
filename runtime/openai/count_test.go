package openai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// watchedCounter counts with a real tokenizer, says when counting began and
// keeps what the counting returned.
type watchedCounter struct {
	tok     tokenizer.Tokenizer
	once    sync.Once
	started chan struct{}
	mu      sync.Mutex
	errs    []error
}

func (w *watchedCounter) Count(s string) int { return w.tok.Count(s) }

func (w *watchedCounter) CountErr(ctx context.Context, s string) (int, error) {
	w.once.Do(func() { close(w.started) })
	n, err := tokenizer.CountErr(ctx, w.tok, s)
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
	return n, err
}

// Counting a long answer client-side stops when the request's context ends:
// an 8 MiB answer without split points takes the BPE seconds; cancelled once
// counting began, Do returns canceled at once and the count itself was cut
// short, not finished.
func TestClientCountingStopsWhenCancelled(t *testing.T) {
	tok, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	answer := strings.Repeat("a", 8<<20)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); strings.Contains(string(body), "hello") {
			sse(w, contentEv("Hi there"), finishEv, "data: [DONE]")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"`+answer+`"}}]}`+"\n\n")
		_, _ = io.WriteString(w, finishEv+"\n\ndata: [DONE]\n\n") // no usage: the client counts
	})
	wc := &watchedCounter{tok: tok, started: make(chan struct{})}
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", Counter: wc})
	cn := c.NewConn()
	defer cn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-wc.started
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	t0 := time.Now()
	res := cn.Do(ctx, Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
	took := time.Since(t0)
	if res.ErrKind != metrics.ErrCanceled || !strings.Contains(res.ErrMessage, "counting tokens") {
		t.Fatalf("kind %q (%s), want %s while counting", res.ErrKind, res.ErrMessage, metrics.ErrCanceled)
	}
	wc.mu.Lock()
	errs := wc.errs
	wc.mu.Unlock()
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("counting returned %v, want one call cut short by context.Canceled", errs)
	}
	if took > 5*time.Second {
		t.Errorf("took %v to stop", took)
	}
	// Uncancelled, the same counter counts the prompt and the answer.
	res = cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("hello world")}}}})
	if res.ErrKind != "" || !res.ClientCounted || res.PromptTokens != 2 || res.CompletionTokens != 2 {
		t.Errorf("uncancelled: kind %q (%s), client counted %v, tokens %d + %d, want 2 + 2",
			res.ErrKind, res.ErrMessage, res.ClientCounted, res.PromptTokens, res.CompletionTokens)
	}
}

package corpus

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// watchedTokenizer counts the calls that carry a context and says when the
// first one began.
type watchedTokenizer struct {
	tokenizer.Tokenizer
	calls   atomic.Int32
	once    sync.Once
	started chan struct{}
}

func (w *watchedTokenizer) begin() {
	w.calls.Add(1)
	w.once.Do(func() { close(w.started) })
}

func (w *watchedTokenizer) EncodeErr(ctx context.Context, s string) ([]int, error) {
	w.begin()
	return tokenizer.EncodeErr(ctx, w.Tokenizer, s)
}

func (w *watchedTokenizer) DecodeErr(ctx context.Context, ids []int) (string, error) {
	return tokenizer.DecodeErr(ctx, w.Tokenizer, ids)
}

func (w *watchedTokenizer) CountErr(ctx context.Context, s string) (int, error) {
	w.begin()
	return tokenizer.CountErr(ctx, w.Tokenizer, s)
}

// Cancelling stops slicing mid-document: documents of 2 MiB without a split
// point take the BPE most of a second each, sixteen of them many seconds;
// cancelled during the first, the call returns context.Canceled having
// started at most one more and finished none.
func TestSlicingStopsWhenCancelled(t *testing.T) {
	base, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const docs = 16
	var raws []rawDoc
	for i := range docs {
		raws = append(raws, rawDoc{id: strconv.Itoa(i), text: strings.Repeat(string(rune('a'+i)), 2<<20)})
	}
	for _, tc := range []struct {
		name string
		c    *spec.Corpus
	}{
		{"count whole documents", &spec.Corpus{Name: "runs"}},
		{"cut to a token count", &spec.Corpus{Name: "runs", Tokens: 400_000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := &watchedTokenizer{Tokenizer: base, started: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-tok.started
				time.Sleep(50 * time.Millisecond) // well inside the first document
				cancel()
			}()
			var progress bytes.Buffer
			t0 := time.Now()
			_, _, err := finish(ctx, tc.c, tok, raws, Options{Workers: 1, Progress: &progress})
			took := time.Since(t0)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if n := tok.calls.Load(); n > 2 {
				t.Errorf("%d tokenizer calls, want the first document's and at most one more", n)
			}
			if done := strings.Count(progress.String(), " tokens ("); done > 0 {
				t.Errorf("%d of %d documents finished after the cancel:\n%s", done, docs, progress.String())
			}
			if took > 5*time.Second {
				t.Errorf("took %v to stop", took)
			}
		})
	}
}

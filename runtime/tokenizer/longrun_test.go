package tokenizer

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// longRuns are texts the pre-tokenizers cannot split, so the merge gets one
// piece of any length: the BPE's worst case.
func longRuns(n int) map[string]string {
	var two, letters, mixed strings.Builder
	seed := uint64(n)
	for i := range n {
		seed = seed*6364136223846793005 + 1442695040888963407
		two.WriteByte("ab"[seed>>63])
		letters.WriteByte(byte('a' + (seed>>33)%26))
		if i%3 == 0 {
			mixed.WriteString("é")
		} else {
			mixed.WriteByte(byte('A' + (seed>>40)%26))
		}
	}
	return map[string]string{
		"one letter":  strings.Repeat("a", n),
		"two letters": two.String(),
		"letters":     letters.String(),
		"accents":     mixed.String(),
		"underscores": strings.Repeat("_", n),
		"CJK":         strings.Repeat("东京", n/6),
	}
}

func loadRanks(t testing.TB, file string) map[string]int {
	t.Helper()
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe(file)
	if err != nil {
		t.Fatal(err)
	}
	return ranks
}

// The heap merge makes exactly the scan's merges, on pieces long enough to
// need it, for both built-in vocabularies.
func TestMergeLongMatchesMergeShort(t *testing.T) {
	for _, file := range []string{"cl100k_base.tiktoken", "o200k_base.tiktoken"} {
		f, err := newFastBPE(file, loadRanks(t, file), nil, splitter(cl100kPattern), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{longPiece, 1000, 3001} {
			for name, text := range longRuns(n) {
				st := &stopper{budget: checkEvery}
				short := f.mergeShort(text, nil, st)
				long := f.mergeLong(text, nil, st)
				if !reflect.DeepEqual(short, long) {
					t.Errorf("%s, %s, %d bytes: heap merge %v, scan %v", file, name, len(text), long, short)
				}
			}
		}
	}
}

// On long runs the fast tokenizer still gives tiktoken-go's ids; sizes stay
// where tiktoken-go's own quadratic merge is quick.
func TestLongRunsMatchTiktoken(t *testing.T) {
	for _, p := range pairs(t) {
		sizes := []int{300, 4000}
		if raceEnabled {
			sizes = sizes[:1]
		}
		for _, n := range sizes {
			for name, text := range longRuns(n) {
				if !checkSame(t, p, text) {
					t.Fatalf("%s: %s of %d bytes differs", p.name, name, n)
				}
			}
		}
	}
}

// A run of n bytes costs O(n log n) work units (bytes split off, merges,
// heap steps), not the n² of scanning: counted, not timed.
func TestLongRunWorkIsNLogN(t *testing.T) {
	for _, file := range []string{"cl100k_base.tiktoken", "o200k_base.tiktoken"} {
		f, err := newFastBPE(file, loadRanks(t, file), nil, splitter(o200kPattern), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.work = new(atomic.Int64)
		sizes := []int{32 << 10, 1 << 20}
		if raceEnabled {
			sizes = []int{32 << 10, 256 << 10}
		}
		for _, n := range sizes {
			for _, name := range []string{"one letter", "two letters", "underscores"} {
				text := longRuns(n)[name]
				f.work.Store(0)
				ids := f.Encode(text)
				limit := int64(n) * int64(4*bits.Len(uint(n))+8)
				if w := f.work.Load(); w > limit || len(ids) == 0 {
					t.Fatalf("%s, %s, %d bytes: %d work units (limit %d), %d ids", file, name, n, w, limit, len(ids))
				}
				t.Logf("%s, %s, %d bytes: %d work units (%.1f per byte)", file, name, n, f.work.Load(), float64(f.work.Load())/float64(n))
			}
		}
	}
}

// Cancelling stops even one piece of megabytes within a moment: the call
// returns the context's error after a fraction of the work.
func TestEncodeErrStopsWhenCancelled(t *testing.T) {
	f, err := newFastBPE("cl100k", loadRanks(t, "cl100k_base.tiktoken"), nil, splitter(cl100kPattern), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.work = new(atomic.Int64)
	size := 8 << 20
	if raceEnabled {
		size = 2 << 20 // still seconds of work under the race detector
	}
	text := strings.Repeat("a", size)
	for _, call := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"EncodeErr", func(ctx context.Context) error { _, err := f.EncodeErr(ctx, text); return err }},
		{"CountErr", func(ctx context.Context) error { _, err := f.CountErr(ctx, text); return err }},
		{"package CountErr", func(ctx context.Context) error { _, err := CountErr(ctx, f, text); return err }},
	} {
		t.Run(call.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.work.Store(0)
			go func() { // cancel once the encoder is under way
				for f.work.Load() == 0 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			t0 := time.Now()
			err := call.run(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			// A full encode of 8 MiB is some 300 M work units; stopping
			// comes at the first look at the context after the cancel.
			if w := f.work.Load(); w > 100<<20 {
				t.Errorf("%d work units done before stopping, want far fewer than a full encode", w)
			}
			if took := time.Since(t0); took > 5*time.Second {
				t.Errorf("took %v to stop", took)
			}
		})
	}
	// A context that never ends changes nothing.
	if _, err := f.EncodeErr(context.Background(), "hello"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkEncodeLongRun is the BPE's worst case: text without any split
// point (one letter repeated), which the pre-tokenizer hands to the merge as
// a single piece.
func BenchmarkEncodeLongRun(b *testing.B) {
	tok, err := Load(CL100KBase, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{4 << 10, 32 << 10, 256 << 10, 8 << 20} {
		text := strings.Repeat("a", n)
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				tok.Encode(text)
			}
		})
	}
}

package corpus

import (
	"context"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// BenchmarkLoadNovels128k is `mrqa prepare` on a filled cache: clean and
// slice the shared novels to 131072 tokens with cl100k_base.
func BenchmarkLoadNovels128k(b *testing.B) {
	books, real := testBooks(b)
	if !real {
		b.Skip("shared novels not present")
	}
	cache := b.TempDir()
	var ids []int
	for _, bk := range books {
		if _, err := (bookCache{dir: cache}).write(bk.id, bk.raw); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, bk.id)
	}
	toks := tokenizer.NewCache()
	if _, err := toks.Load(tokenizer.CL100KBase, tokenizer.Options{}); err != nil {
		b.Fatal(err)
	}
	c := &spec.Corpus{Name: "novels", Source: spec.Source{Kind: spec.SourceGutenberg, IDs: ids, CacheDir: cache, StripBoilerplate: true},
		Tokenizer: tokenizer.CL100KBase, Tokens: 131072}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			for b.Loop() {
				docs, _, err := Load(context.Background(), c, Options{Tokenizers: toks, Offline: true, Workers: workers})
				if err != nil || len(docs) < len(books)-1 {
					b.Fatal(err, len(docs))
				}
			}
		})
	}
}

// BenchmarkSlice1MB cuts a 1 MB cleaned novel to 131072 tokens (encode a
// prefix, cut, re-encode to verify) with each tokenizer.
func BenchmarkSlice1MB(b *testing.B) {
	books, _ := testBooks(b)
	var text string
	for _, bk := range books {
		body, _, err := cleanGutenberg(bk.id, bk.raw, true)
		if err == nil && len(body) >= 1<<20 {
			text = body[:runeStart(body, 1<<20)]
			break
		}
	}
	if text == "" {
		b.Skip("no book of 1 MB")
	}
	toks := tokenizer.NewCache()
	for _, name := range shippedTokenizers(b) {
		tok, err := toks.Load(name, tokenizer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		label := filepath.Base(name)
		if strings.HasSuffix(name, "models/tokenizer.json") {
			label = filepath.Base(filepath.Dir(filepath.Dir(name))) // tokenizer-qwen3
		}
		b.Run(label, func(b *testing.B) {
			const n = 131072
			for b.Loop() {
				if _, _, err := slice(context.Background(), tok, text, n, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
		b.Run(label+"/whole", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				n = tok.Count(text)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

package tokenizer

import (
	"fmt"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Split patterns of OpenAI's encodings (the pre-tokenizer regexes).
const (
	cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	o200kPattern  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// tiktokenEncoding describes one built-in encoding.
type tiktokenEncoding struct {
	file    string // asset name in tiktoken-go-loader
	pattern string
	special map[string]int
}

// encodings is a read-only table of the built-in encodings.
var encodings = map[string]tiktokenEncoding{
	CL100KBase: {
		file:    "cl100k_base.tiktoken",
		pattern: cl100kPattern,
		special: map[string]int{
			"<|endoftext|>":   100257,
			"<|fim_prefix|>":  100258,
			"<|fim_middle|>":  100259,
			"<|fim_suffix|>":  100260,
			"<|endofprompt|>": 100276,
		},
	},
	O200KBase: {
		file:    "o200k_base.tiktoken",
		pattern: o200kPattern,
		special: map[string]int{
			"<|endoftext|>":   199999,
			"<|endofprompt|>": 200018,
		},
	},
}

// bpe wraps tiktoken-go's core byte-pair encoder. Special-token text in the
// input is encoded as ordinary text unless specials is true (HF tokenizers
// split their added tokens out first, as the Hugging Face library does).
type bpe struct {
	name     string
	tk       *tiktoken.Tiktoken
	specials bool
	// prepare rewrites text before encoding (normalisation, prefix space).
	prepare func(string) string
}

// loadTiktoken builds a built-in encoding from the ranks embedded in
// tiktoken-go-loader. It reads the loader directly instead of setting
// tiktoken-go's global loader, so nothing is downloaded and no global state
// changes.
func loadTiktoken(name string) (Tokenizer, error) {
	enc := encodings[name]
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe(enc.file)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: loading embedded ranks: %w", name, err)
	}
	return newBPE(name, ranks, enc.special, enc.pattern, false, nil)
}

// newBPE builds a byte-level BPE tokenizer: the fast one when the split
// pattern is one with a hand-written pre-tokenizer, tiktoken-go's core
// (regexp2) otherwise.
func newBPE(name string, ranks, special map[string]int, pattern string, specials bool, prepare func(string) string) (Tokenizer, error) {
	if split := splitter(pattern); split != nil {
		return newFastBPE(name, ranks, special, split, specials, prepare)
	}
	return newRegexBPE(name, ranks, special, pattern, specials, prepare)
}

func newRegexBPE(name string, ranks, special map[string]int, pattern string, specials bool, prepare func(string) string) (*bpe, error) {
	core, err := tiktoken.NewCoreBPE(ranks, special, pattern)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", name, err)
	}
	set := make(map[string]any, len(special))
	for k := range special {
		set[k] = true
	}
	// With no special tokens tiktoken-go's special regex is empty and would
	// match everywhere, so such tokenizers always encode ordinarily.
	specials = specials && len(special) > 0
	return &bpe{name: name, tk: tiktoken.NewTiktoken(core, nil, set), specials: specials, prepare: prepare}, nil
}

func (b *bpe) Name() string { return b.name }

func (b *bpe) Encode(s string) []int {
	if b.prepare != nil {
		s = b.prepare(s)
	}
	if s == "" {
		return []int{}
	}
	if b.specials {
		return b.tk.Encode(s, []string{"all"}, nil)
	}
	return b.tk.EncodeOrdinary(s)
}

func (b *bpe) Decode(ids []int) string { return b.tk.Decode(ids) }

func (b *bpe) Count(s string) int { return len(b.Encode(s)) }

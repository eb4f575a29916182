package tokenizer

import (
	"fmt"

	"github.com/dlclark/regexp2"
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

// newBPE builds a byte-level BPE tokenizer. Its pre-tokenizer is a
// hand-written one when the split pattern has one, else the pattern itself
// run by regexp2 (the backtracking engine tiktoken-go uses). Special-token
// text in the input is encoded as ordinary text unless specials is true (HF
// tokenizers split their added tokens out first, as the Hugging Face library
// does); prepare, when set, rewrites text before encoding (normalisation, a
// prefix space).
func newBPE(name string, ranks, special map[string]int, pattern string, specials bool, prepare func(string) string) (Tokenizer, error) {
	split := splitter(pattern)
	if split == nil {
		var err error
		if split, err = regexSplitter(pattern); err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", name, err)
		}
	}
	return newFastBPE(name, ranks, special, split, specials, prepare)
}

// regexSplitter runs a split pattern with regexp2, yielding each match, as
// tiktoken-go does: text between matches is dropped.
func regexSplitter(pattern string) (splitFunc, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("split pattern: %w", err)
	}
	return func(s string, yield func(string) bool) {
		m, _ := re.FindStringMatch(s) // errors are match timeouts, and none is set
		for m != nil && yield(m.String()) {
			m, _ = re.FindNextMatch(m)
		}
	}, nil
}

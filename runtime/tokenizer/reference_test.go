package tokenizer

import (
	"fmt"

	tiktoken "github.com/pkoukk/tiktoken-go"
)

// bpe wraps tiktoken-go's core byte-pair encoder: the reference the fast
// tokenizer is checked against. Special-token text in the input is encoded
// as ordinary text unless specials is true.
type bpe struct {
	name     string
	tk       *tiktoken.Tiktoken
	specials bool
}

func newRegexBPE(name string, ranks, special map[string]int, pattern string, specials bool, _ func(string) string) (*bpe, error) {
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
	return &bpe{name: name, tk: tiktoken.NewTiktoken(core, nil, set), specials: specials}, nil
}

func (b *bpe) Name() string { return b.name }

func (b *bpe) Encode(s string) []int {
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

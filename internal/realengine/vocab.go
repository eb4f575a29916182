package realengine

import (
	"fmt"
	"strings"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Token ids of the special tokens the model file declares: cl100k_base's
// own, plus ChatML's two markers at the ids OpenAI's chat encodings give
// them. Every id in between that names no token is a placeholder.
const (
	EndOfText   = 100257
	FIMPrefix   = 100258
	FIMMiddle   = 100259
	FIMSuffix   = 100260
	IMStart     = 100264
	IMEnd       = 100265
	EndOfPrompt = 100276
	VocabSize   = EndOfPrompt + 1
)

// specialTokens are the control tokens by id.
var specialTokens = map[int]string{
	EndOfText: "<|endoftext|>", FIMPrefix: "<|fim_prefix|>", FIMMiddle: "<|fim_middle|>",
	FIMSuffix: "<|fim_suffix|>", IMStart: "<|im_start|>", IMEnd: "<|im_end|>", EndOfPrompt: "<|endofprompt|>",
}

// llama.cpp token types.
const (
	tokenNormal  = 1
	tokenControl = 3
	tokenUnused  = 5
)

// vocab is the tokenizer part of the model file.
type vocab struct {
	tokens []string // id -> text in GPT-2's byte-to-unicode alphabet
	types  []int32
	merges []string // "left right", highest priority first
}

// cl100kVocab builds cl100k_base as a GPT-2-style byte-level BPE
// vocabulary from the ranks embedded in tiktoken-go-loader (no network).
func cl100kVocab() (*vocab, error) {
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		return nil, fmt.Errorf("realengine: loading the cl100k_base ranks: %w", err)
	}
	byID := make([][]byte, VocabSize)
	for tok, id := range ranks {
		if id < 0 || id >= EndOfText {
			return nil, fmt.Errorf("realengine: cl100k_base rank %d out of range", id)
		}
		byID[id] = []byte(tok)
	}
	alpha := newByteAlphabet()
	v := &vocab{tokens: make([]string, VocabSize), types: make([]int32, VocabSize)}
	for id := range VocabSize {
		v.tokens[id], v.types[id] = tokenEntry(id, byID[id], alpha)
	}
	if v.merges, err = recoverMerges(byID[:EndOfText], ranks, alpha); err != nil {
		return nil, err
	}
	return v, nil
}

// tokenEntry is one id's text and type: a rank's bytes in GPT-2's
// alphabet, a special token, or a placeholder for an unused id.
func tokenEntry(id int, bytes []byte, alpha *byteAlphabet) (string, int32) {
	if s, ok := specialTokens[id]; ok {
		return s, tokenControl
	}
	if bytes == nil {
		return fmt.Sprintf("<|unused_%d|>", id), tokenUnused
	}
	return alpha.text(bytes), tokenNormal
}

// byteAlphabet is GPT-2's byte-to-unicode map, which byte-level BPE
// vocabularies are written in: printable Latin-1 bytes stand for
// themselves, the others (controls, space, soft hyphen) for U+0100
// onwards, in byte order.
type byteAlphabet [256]rune

func newByteAlphabet() *byteAlphabet {
	var a byteAlphabet
	next := rune(256)
	for c := range 256 {
		if ('!' <= c && c <= '~') || (0xa1 <= c && c <= 0xac) || 0xae <= c {
			a[c] = rune(c)
		} else {
			a[c] = next
			next++
		}
	}
	return &a
}

func (a *byteAlphabet) text(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(a[c])
	}
	return s.String()
}

// recoverMerges derives the merge list from the ranks: a token of rank r
// is what byte-pair encoding its own bytes with the merges of rank < r
// leaves in exactly two parts, and those two parts are its merge. In rank
// order, the list gives llama.cpp's merge priorities the same order as
// tiktoken's ranks.
func recoverMerges(byID [][]byte, ranks map[string]int, alpha *byteAlphabet) ([]string, error) {
	merges := make([]string, 0, len(byID)-256)
	for r, tok := range byID {
		if len(tok) < 2 {
			continue
		}
		parts := bpe(tok, ranks, r)
		if len(parts) != 2 {
			return nil, fmt.Errorf("realengine: token %d (%q) splits into %d parts, not 2", r, tok, len(parts))
		}
		merges = append(merges, alpha.text(parts[0])+" "+alpha.text(parts[1]))
	}
	return merges, nil
}

// bpe splits b into bytes, then repeatedly joins the adjacent pair whose
// join has the lowest rank below limit (the leftmost on ties).
func bpe(b []byte, ranks map[string]int, limit int) [][]byte {
	starts := make([]int, len(b)+1) // part i is b[starts[i]:starts[i+1]]
	for i := range starts {
		starts[i] = i
	}
	for len(starts) > 2 {
		best, at := limit, -1
		for i := 0; i+2 < len(starts); i++ {
			if r, ok := ranks[string(b[starts[i]:starts[i+2]])]; ok && r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		starts = append(starts[:at+1], starts[at+2:]...)
	}
	parts := make([][]byte, len(starts)-1)
	for i := range parts {
		parts[i] = b[starts[i]:starts[i+1]]
	}
	return parts
}

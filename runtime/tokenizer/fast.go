package tokenizer

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// fastBPE is a byte-level BPE encoder with a hand-written pre-tokenizer. It
// gives the same ids as tiktoken-go's core for the same ranks and pattern
// (fast_test.go checks this), several times faster, because the split regex
// dominates tiktoken-go's time.
type fastBPE struct {
	name       string
	ranks      map[string]int // token bytes → id (= merge rank)
	dec        []string       // id → token bytes
	special    map[string]int
	specialDec map[int]string
	byLen      []string // special tokens, longest first
	firsts     string   // the first rune of each special token
	split      func(s string, yield func(string))
	prepare    func(string) string
}

func newFastBPE(name string, ranks, special map[string]int, split func(string, func(string)), specials bool, prepare func(string) string) (*fastBPE, error) {
	for b := 0; b < 256; b++ {
		if _, ok := ranks[string([]byte{byte(b)})]; !ok {
			return nil, fmt.Errorf("tokenizer %s: vocabulary lacks the byte 0x%02x", name, b)
		}
	}
	maxID := 0
	for _, id := range ranks {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer %s: negative id %d", name, id)
		}
		maxID = max(maxID, id)
	}
	dec := make([]string, maxID+1)
	for tok, id := range ranks {
		if dec[id] != "" {
			return nil, fmt.Errorf("tokenizer %s: id %d used twice", name, id)
		}
		dec[id] = tok
	}
	f := &fastBPE{name: name, ranks: ranks, dec: dec, split: split, prepare: prepare, specialDec: map[int]string{}}
	for tok, id := range special {
		f.specialDec[id] = tok
	}
	if specials && len(special) > 0 {
		f.special = special
		for tok := range special {
			f.byLen = append(f.byLen, tok)
		}
		sort.Slice(f.byLen, func(i, j int) bool {
			if len(f.byLen[i]) != len(f.byLen[j]) {
				return len(f.byLen[i]) > len(f.byLen[j])
			}
			return f.byLen[i] < f.byLen[j]
		})
		seen := map[rune]bool{}
		var firsts strings.Builder
		for _, tok := range f.byLen {
			r, _ := utf8.DecodeRuneInString(tok)
			if !seen[r] {
				seen[r] = true
				firsts.WriteRune(r)
			}
		}
		f.firsts = firsts.String()
	}
	return f, nil
}

func (f *fastBPE) Name() string { return f.name }

func (f *fastBPE) Encode(s string) []int {
	if f.prepare != nil {
		s = f.prepare(s)
	}
	if !utf8.ValidString(s) {
		// Each invalid byte becomes U+FFFD, as the rune conversion in
		// tiktoken-go does.
		s = string([]rune(s))
	}
	out := make([]int, 0, len(s)/4+8)
	if f.special == nil {
		return f.encodeOrdinary(s, out)
	}
	for len(s) > 0 {
		at, tok := f.nextSpecial(s)
		if at < 0 {
			return f.encodeOrdinary(s, out)
		}
		out = f.encodeOrdinary(s[:at], out)
		out = append(out, f.special[tok])
		s = s[at+len(tok):]
	}
	return out
}

// nextSpecial finds the leftmost special token in s, the longest at that
// place (as Hugging Face's added-token matching does); -1 when none.
func (f *fastBPE) nextSpecial(s string) (int, string) {
	for off := 0; off < len(s); {
		i := strings.IndexAny(s[off:], f.firsts)
		if i < 0 {
			return -1, ""
		}
		off += i
		for _, tok := range f.byLen {
			if strings.HasPrefix(s[off:], tok) {
				return off, tok
			}
		}
		_, n := utf8.DecodeRuneInString(s[off:])
		off += n
	}
	return -1, ""
}

func (f *fastBPE) encodeOrdinary(s string, out []int) []int {
	f.split(s, func(piece string) {
		if id, ok := f.ranks[piece]; ok {
			out = append(out, id)
			return
		}
		out = f.merge(piece, out)
	})
	return out
}

// part is a token being built by merge: where it starts in the piece and
// the rank of merging it with the next part.
type part struct {
	start, rank int
}

// merge applies byte-pair merges to piece: repeatedly join the adjacent
// pair whose joined bytes have the lowest rank (the leftmost on ties) until
// no joined pair is a token, then append the parts' ids.
func (f *fastBPE) merge(piece string, out []int) []int {
	var buf [48]part
	parts := buf[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, part{start: i, rank: math.MaxInt})
	}
	pairRank := func(i int) int {
		if i+2 < len(parts) {
			if r, ok := f.ranks[piece[parts[i].start:parts[i+2].start]]; ok {
				return r
			}
		}
		return math.MaxInt
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = pairRank(i)
	}
	for len(parts) > 2 {
		best, bi := math.MaxInt, -1
		for i := 0; i+1 < len(parts); i++ {
			if parts[i].rank < best {
				best, bi = parts[i].rank, i
			}
		}
		if bi < 0 {
			break
		}
		parts = append(parts[:bi+1], parts[bi+2:]...)
		parts[bi].rank = pairRank(bi)
		if bi > 0 {
			parts[bi-1].rank = pairRank(bi - 1)
		}
	}
	for i := 0; i+1 < len(parts); i++ {
		out = append(out, f.ranks[piece[parts[i].start:parts[i+1].start]])
	}
	return out
}

func (f *fastBPE) Decode(ids []int) string {
	var b strings.Builder
	b.Grow(len(ids) * 4)
	for _, id := range ids {
		if id >= 0 && id < len(f.dec) && f.dec[id] != "" {
			b.WriteString(f.dec[id])
		} else if tok, ok := f.specialDec[id]; ok {
			b.WriteString(tok)
		}
	}
	return b.String()
}

func (f *fastBPE) Count(s string) int { return len(f.Encode(s)) }

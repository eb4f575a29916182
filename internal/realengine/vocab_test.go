package realengine

import (
	"strings"
	"testing"
)

func TestByteAlphabetIsABijection(t *testing.T) {
	a := newByteAlphabet()
	seen := map[rune]bool{}
	for c, r := range a {
		if seen[r] {
			t.Fatalf("byte %#x maps to %q, already taken", c, r)
		}
		seen[r] = true
	}
	for _, c := range []struct {
		b    byte
		want rune
	}{{'a', 'a'}, {' ', 'Ġ'}, {'\n', 'Ċ'}, {0x00, 'Ā'}, {0xad, 'Ń'}, {0xff, 'ÿ'}} {
		if a[c.b] != c.want {
			t.Errorf("byte %#x -> %q, want %q", c.b, a[c.b], c.want)
		}
	}
}

func TestCl100kVocab(t *testing.T) {
	v, err := cl100kVocab()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.tokens) != VocabSize || len(v.types) != VocabSize {
		t.Fatalf("%d tokens, %d types, want %d", len(v.tokens), len(v.types), VocabSize)
	}
	// Every rank above the 256 single bytes is exactly one merge.
	if len(v.merges) != 100_000 {
		t.Errorf("%d merges, want 100000", len(v.merges))
	}
	for i, want := range []string{"Ġ Ġ", "ĠĠ ĠĠ", "i n", "Ġ t"} {
		if v.merges[i] != want {
			t.Errorf("merge %d = %q, want %q", i, v.merges[i], want)
		}
	}
	for i, m := range v.merges {
		l, r, ok := strings.Cut(m, " ")
		if !ok || l == "" || r == "" || strings.Contains(r, " ") {
			t.Fatalf("merge %d %q is not two parts", i, m)
		}
	}
	counts := map[int32]int{}
	for _, ty := range v.types {
		counts[ty]++
	}
	if counts[tokenControl] != len(specialTokens) || counts[tokenNormal] != 100_256 || counts[tokenUnused] != VocabSize-100_256-len(specialTokens) {
		t.Errorf("token types %v", counts)
	}
	for id, want := range map[int]string{IMStart: "<|im_start|>", IMEnd: "<|im_end|>", EndOfText: "<|endoftext|>", 9906: "Hello", 1917: "Ġworld"} {
		if v.tokens[id] != want {
			t.Errorf("token %d = %q, want %q", id, v.tokens[id], want)
		}
	}
}

func TestBPEHonoursTheRankLimit(t *testing.T) {
	ranks := map[string]int{"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{3, []string{"a", "b", "c"}},
		{4, []string{"ab", "c"}},
		{5, []string{"ab", "c"}}, // "ab" (3) is taken before "bc" (4) could be
		{6, []string{"abc"}},
	} {
		var got []string
		for _, p := range bpe([]byte("abc"), ranks, c.limit) {
			got = append(got, string(p))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("limit %d: %q, want %q", c.limit, got, c.want)
		}
	}
}

package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written pre-tokenizers for the split regexes in common use. They give
// exactly the pieces the backtracking regex (regexp2, as tiktoken-go uses it)
// gives, many times faster; fast_test.go checks that tokenizers using them
// give the regex's token ids on a novel, on random and on fuzzed text. Each walks s and calls yield per piece,
// stopping early when yield returns false.

// splitFunc is a pre-tokenizer: it calls yield with each piece of s in order
// until yield returns false.
type splitFunc func(s string, yield func(string) bool)

// splitter returns the hand-written pre-tokenizer for pattern, or nil.
func splitter(pattern string) splitFunc {
	switch pattern {
	case cl100kPattern: // also Llama 3's
		return func(s string, yield func(string) bool) { splitCL100K(s, 3, yield) }
	case qwen2Pattern:
		return func(s string, yield func(string) bool) { splitCL100K(s, 1, yield) }
	case o200kPattern:
		return splitO200K
	case gpt2Pattern:
		return splitGPT2
	}
	return nil
}

// qwen2Pattern is cl100k's pattern with single digits (Qwen2, 2.5, 3).
const qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

func isL(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

func isN(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isS(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// isP is [^\s\p{L}\p{N}]: punctuation, symbols, marks, controls.
func isP(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }

func isNL(r rune) bool { return r == '\r' || r == '\n' }

// at decodes the rune at byte offset i; at the end it returns -1, 0.
func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// run returns the end of the run of runes from i that satisfy f.
func run(s string, i int, f func(rune) bool) int {
	for {
		r, n := at(s, i)
		if n == 0 || !f(r) {
			return i
		}
		i += n
	}
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at i, case-insensitively
// (unicode.ToLower, as regexp2 folds) when fold is set; it returns the end or -1.
func contraction(s string, i int, fold bool) int {
	if i >= len(s) || s[i] != '\'' {
		return -1
	}
	lower := func(j int) (rune, int) {
		r, n := at(s, j)
		if fold && n > 0 {
			r = unicode.ToLower(r)
		}
		return r, n
	}
	r1, n1 := lower(i + 1)
	if n1 == 0 {
		return -1
	}
	r2, n2 := lower(i + 1 + n1)
	// Alternatives in the regex's order.
	switch {
	case r1 == 's', r1 == 't':
		return i + 1 + n1
	case r1 == 'r' && r2 == 'e', r1 == 'v' && r2 == 'e':
		return i + 1 + n1 + n2
	case r1 == 'm':
		return i + 1 + n1
	case r1 == 'l' && r2 == 'l':
		return i + 1 + n1 + n2
	case r1 == 'd':
		return i + 1 + n1
	}
	return -1
}

// spaceRun handles the three whitespace alternatives shared by all patterns,
// \s*[\r\n]+ (when newlines is set), \s+(?!\S) and \s+, at i where s[i] is
// whitespace; it returns the end of the piece.
func spaceRun(s string, i int, newlines bool) int {
	j, lastStart, lastNL := i, i, -1
	for {
		r, n := at(s, j)
		if n == 0 || !isS(r) {
			break
		}
		if isNL(r) {
			lastNL = j + n
		}
		lastStart = j
		j += n
	}
	if newlines && lastNL > 0 {
		return lastNL // \s* backtracks to the last newline of the run
	}
	if j == len(s) || lastStart == i {
		return j // at the end nothing follows; a single rune falls to \s+
	}
	return lastStart // leave the last space to prefix the next word
}

// splitCL100K implements cl100k_base's pattern; maxDigits 1 gives Qwen2's.
func splitCL100K(s string, maxDigits int, yield func(string) bool) {
	for i := 0; i < len(s); {
		e := cl100kPiece(s, i, maxDigits)
		if !yield(s[i:e]) {
			return
		}
		i = e
	}
}

func cl100kPiece(s string, i, maxDigits int) int {
	r, n := at(s, i)
	if e := contraction(s, i, true); e > 0 {
		return e
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isL(r) {
		return run(s, i+n, isL)
	}
	if !isNL(r) && !isN(r) {
		if r2, n2 := at(s, i+n); n2 > 0 && isL(r2) {
			return run(s, i+n+n2, isL)
		}
	}
	// \p{N}{1,maxDigits}
	if isN(r) {
		e := i + n
		for d := 1; d < maxDigits; d++ {
			r2, n2 := at(s, e)
			if n2 == 0 || !isN(r2) {
				break
			}
			e += n2
		}
		return e
	}
	// ?[^\s\p{L}\p{N}]+[\r\n]*
	if e, ok := punctRun(s, i, r, n, isNL); ok {
		return e
	}
	return spaceRun(s, i, true)
}

// punctRun matches " ?[^\s\p{L}\p{N}]+" followed by a run of tail (if tail
// is not nil) at i.
func punctRun(s string, i int, r rune, n int, tail func(rune) bool) (int, bool) {
	j := i
	if r == ' ' {
		r2, n2 := at(s, i+n)
		if n2 == 0 || !isP(r2) {
			return 0, false
		}
		j = i + n
	} else if !isP(r) {
		return 0, false
	}
	e := run(s, j, isP)
	if tail != nil {
		e = run(s, e, tail)
	}
	return e, true
}

// splitGPT2 implements GPT-2's pattern (the ByteLevel pre-tokenizer's regex).
func splitGPT2(s string, yield func(string) bool) {
	for i := 0; i < len(s); {
		e := gpt2Piece(s, i)
		if !yield(s[i:e]) {
			return
		}
		i = e
	}
}

func gpt2Piece(s string, i int) int {
	r, n := at(s, i)
	if e := contraction(s, i, false); e > 0 {
		return e
	}
	for _, f := range []func(rune) bool{isL, isN} {
		if f(r) {
			return run(s, i+n, f)
		}
		if r == ' ' {
			if r2, n2 := at(s, i+n); n2 > 0 && f(r2) {
				return run(s, i+n+n2, f)
			}
		}
	}
	if e, ok := punctRun(s, i, r, n, nil); ok {
		return e
	}
	return spaceRun(s, i, false)
}

// o200k's letter classes: "upper" [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
// "lower" [\p{Ll}\p{Lm}\p{Lo}\p{M}].
func isUpper(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
}

func isLower(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
}

func isNLSlash(r rune) bool { return r == '\r' || r == '\n' || r == '/' }

// splitO200K implements o200k_base's pattern.
func splitO200K(s string, yield func(string) bool) {
	var buf [64]int
	for i := 0; i < len(s); {
		e := o200kPiece(s, i, buf[:0])
		if !yield(s[i:e]) {
			return
		}
		i = e
	}
}

func o200kPiece(s string, i int, offs []int) int {
	r, n := at(s, i)
	// The optional prefix [^\r\n\p{L}\p{N}]? is tried taken, then not.
	starts := []int{i}
	if !isNL(r) && !isL(r) && !isN(r) {
		starts = []int{i + n, i}
	}
	// [U]*[L]+ with backtracking of the upper run, then an optional contraction.
	for _, st := range starts {
		offs = offs[:0]
		j := st
		for {
			offs = append(offs, j)
			r2, n2 := at(s, j)
			if n2 == 0 || !isUpper(r2) {
				break
			}
			j += n2
		}
		for u := len(offs) - 1; u >= 0; u-- {
			if r2, n2 := at(s, offs[u]); n2 > 0 && isLower(r2) {
				return withContraction(s, run(s, offs[u]+n2, isLower))
			}
		}
	}
	// [U]+[L]*, then an optional contraction.
	for _, st := range starts {
		if r2, n2 := at(s, st); n2 > 0 && isUpper(r2) {
			return withContraction(s, run(s, run(s, st+n2, isUpper), isLower))
		}
	}
	if isN(r) {
		e := i + n
		for d := 1; d < 3; d++ {
			r2, n2 := at(s, e)
			if n2 == 0 || !isN(r2) {
				break
			}
			e += n2
		}
		return e
	}
	if e, ok := punctRun(s, i, r, n, isNLSlash); ok {
		return e
	}
	return spaceRun(s, i, true)
}

func withContraction(s string, e int) int {
	if c := contraction(s, e, true); c > 0 {
		return c
	}
	return e
}

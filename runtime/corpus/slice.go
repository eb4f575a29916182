package corpus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// Bucket bounds: buckets = true cuts to the largest power of two from
// 2^MinBucketLog2 to 2^MaxBucketLog2 tokens strictly below the document's
// length, as the source's prepare.py does.
const (
	MinBucketLog2 = 13
	MaxBucketLog2 = 20
)

// tooShortError says a document has fewer tokens than a cut needs; with
// bucket set, no more than the smallest bucket (want), which buckets need
// to exceed.
type tooShortError struct {
	have, want int
	bucket     bool
}

func (e *tooShortError) Error() string {
	if e.bucket {
		return fmt.Sprintf("has %d tokens; buckets = true needs more than %d", e.have, e.want)
	}
	return fmt.Sprintf("has %d tokens, fewer than the %d asked for", e.have, e.want)
}

// bytesPerTokenGuess sizes the first prefix encoded for a cut; English prose
// runs at about 4 to 4.5 bytes per token with the common tokenizers.
const bytesPerTokenGuess = 5

// prefixTokens encodes a prefix of text that yields at least want tokens
// (plus a margin, so the first want ids are those of the whole text), or the
// whole text. whole reports whether ids cover all of text.
func prefixTokens(ctx context.Context, tok tokenizer.Tokenizer, text string, want int) (ids []int, whole bool, err error) {
	const margin = 64
	n := want*bytesPerTokenGuess + 4096
	for {
		if n >= len(text) {
			ids, err := tokenizer.EncodeErr(ctx, tok, text)
			return ids, true, err
		}
		p := text[:runeStart(text, n)]
		ids, err := tokenizer.EncodeErr(ctx, tok, p)
		if err != nil {
			return nil, false, err
		}
		if len(ids) >= want+margin {
			return ids, false, nil
		}
		n += n / 2
	}
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// trimPartialRune drops a trailing incomplete UTF-8 sequence, which a cut in
// the middle of a multi-byte character leaves behind, and trailing U+FFFD:
// a server's detokenizer (vLLM's) turns those bytes into replacement
// characters that are not in the document.
func trimPartialRune(s string) string {
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return strings.TrimRight(s, "\uFFFD")
}

// cutExact returns a prefix of the text behind ids (the first ids of a
// document) that re-encodes to exactly n tokens. It starts from the decode
// of the first n ids cut back to a whole character, and when re-encoding
// that gives a different count (a word split mid-way can tokenize
// differently, a split character is dropped) it moves the cut by the
// difference, then character by character.
func cutExact(ctx context.Context, tok tokenizer.Tokenizer, ids []int, n int) (string, error) {
	if len(ids) < n {
		return "", &tooShortError{have: len(ids), want: n}
	}
	count := func(s string) (int, error) { return tokenizer.CountErr(ctx, tok, s) }
	decode := func(k int) (string, error) {
		s, err := tokenizer.DecodeErr(ctx, tok, ids[:k])
		return trimPartialRune(s), err
	}
	k := n
	tried := map[int]int{}
	for range 8 {
		s, err := decode(k)
		if err != nil {
			return "", err
		}
		c, err := count(s)
		if err != nil {
			return "", err
		}
		if c == n {
			return s, nil
		}
		tried[k] = c
		next := k + n - c
		if next < 1 {
			next = 1
		}
		if next > len(ids) {
			next = len(ids)
		}
		if _, seen := tried[next]; seen {
			break
		}
		k = next
	}
	// Counts jumped over n at token granularity: walk the decoded text one
	// character at a time around the cut. Re-encoding the whole prefix for
	// each character would cost hundreds of full encodes of a long
	// document, so counts are taken from an anchor 64 tokens back: a prefix
	// up to the anchor has a tokens, and the text after it re-encodes to
	// the document's own ids there (checked), so a + count(tail) is the
	// prefix's count. The cut found is checked with a full count.
	full, err := tokenizer.DecodeErr(ctx, tok, ids)
	if err != nil {
		return "", err
	}
	lo, err := decode(max(1, n-64))
	if err != nil {
		return "", err
	}
	from := runeStart(full, min(len(lo), len(full)))
	a, p, useAnchor := 0, 0, false
	for k := max(0, n-64); k > 0 && k > n-72; k-- {
		// The anchor must be the exact text of ids[:k], ending on a
		// character boundary (a server's decode of a cut character is not).
		s, err := tokenizer.DecodeErr(ctx, tok, ids[:k])
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(full, s) || (len(s) < len(full) && !utf8.RuneStart(full[len(s)])) {
			continue
		}
		tail, err := tokenizer.EncodeErr(ctx, tok, full[len(s):])
		if err != nil {
			return "", err
		}
		if slices.Equal(tail, ids[k:]) {
			a, p, useAnchor, from = k, len(s), true, len(s)
		}
		break
	}
	for i := from; i <= len(full); {
		var c int
		if useAnchor {
			c, err = count(full[p:i])
			c += a
		} else {
			c, err = count(full[:i])
		}
		if err != nil {
			return "", err
		}
		if c == n && useAnchor {
			if c, err = count(full[:i]); err != nil {
				return "", err
			}
			if c != n {
				useAnchor = false // the anchor did not hold: count whole prefixes
				continue
			}
		}
		if c == n {
			return full[:i], nil
		}
		if c > n {
			break
		}
		_, size := utf8.DecodeRuneInString(full[i:])
		if size == 0 {
			break
		}
		i += size
	}
	return "", &noExactCutError{n: n}
}

// noExactCutError says no prefix of a document at a character boundary has
// exactly the tokens asked for: the cut falls inside a character that takes
// several tokens (a byte-level BPE splits rare characters into bytes).
type noExactCutError struct{ n int }

func (e *noExactCutError) Error() string {
	return fmt.Sprintf("no prefix of it has exactly %d tokens (token %d ends inside a character that takes several)", e.n, e.n)
}

// bucketFor returns the bucket size of a document with length tokens: the
// largest bucket strictly below length (a document of exactly 2^k tokens
// goes to 2^(k-1)), 0 when it is no longer than the smallest bucket.
func bucketFor(length int) int {
	b := 0
	for e := MinBucketLog2; e <= MaxBucketLog2; e++ {
		if 1<<e < length {
			b = 1 << e
		}
	}
	return b
}

// slice cuts text per the corpus settings and returns the cut text and its
// token count; it stops with ctx's error once ctx ends.
func slice(ctx context.Context, tok tokenizer.Tokenizer, text string, tokens int, buckets bool) (string, int, error) {
	switch {
	case tokens > 0:
		ids, whole, err := prefixTokens(ctx, tok, text, tokens)
		if err != nil {
			return "", 0, err
		}
		if whole && len(ids) == tokens {
			return text, tokens, nil
		}
		if whole && len(ids) < tokens {
			return "", 0, &tooShortError{have: len(ids), want: tokens}
		}
		s, err := cutExact(ctx, tok, ids, tokens)
		return s, tokens, err
	case buckets:
		// Only the largest bucket's worth of text is needed to place a document.
		ids, whole, err := prefixTokens(ctx, tok, text, 1<<MaxBucketLog2)
		if err != nil {
			return "", 0, err
		}
		b := bucketFor(len(ids))
		if !whole {
			b = 1 << MaxBucketLog2
		}
		if b == 0 {
			return "", 0, &tooShortError{have: len(ids), want: 1 << MinBucketLog2, bucket: true}
		}
		s, err := cutExact(ctx, tok, ids, b)
		return s, b, err
	default:
		n, err := tokenizer.CountErr(ctx, tok, text)
		return text, n, err
	}
}

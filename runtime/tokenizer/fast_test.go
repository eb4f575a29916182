package tokenizer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/internal/splitmix"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// pair is the fast tokenizer and tiktoken-go's regex-driven core built from
// the same ranks and pattern; they must agree on every input.
type pair struct {
	name        string
	fast, regex Tokenizer
}

func pairs(t testing.TB) []pair {
	t.Helper()
	cl, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
	if err != nil {
		t.Fatal(err)
	}
	o2, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("o200k_base.tiktoken")
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]int{"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|endofprompt|>": 100276}
	var ps []pair
	for _, c := range []struct {
		name    string
		ranks   map[string]int
		pattern string
	}{
		{"cl100k", cl, cl100kPattern},
		{"qwen2-split", cl, qwen2Pattern},
		{"gpt2-split", cl, gpt2Pattern},
		{"o200k", o2, o200kPattern},
	} {
		// The ordinary path (no special tokens) is the same code either way
		// in the fast tokenizer; one pattern covers it.
		modes := []bool{true}
		if c.name == "cl100k" {
			modes = []bool{false, true}
		}
		for _, specials := range modes {
			sp := special
			if c.name == "o200k" {
				sp = map[string]int{"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
			}
			fast, err := newFastBPE(c.name, c.ranks, sp, splitter(c.pattern), specials, nil)
			if err != nil {
				t.Fatal(err)
			}
			regex, err := newRegexBPE(c.name, c.ranks, sp, c.pattern, specials, nil)
			if err != nil {
				t.Fatal(err)
			}
			name := c.name
			if specials {
				name += "+specials"
			}
			ps = append(ps, pair{name, fast, regex})
		}
	}
	// A pattern without a hand-written pre-tokenizer runs on regexp2.
	split, err := regexSplitter(cl100kPattern)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := newFastBPE("cl100k-regexp2", cl, special, split, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	regex, err := newRegexBPE("cl100k-regexp2", cl, special, cl100kPattern, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(ps, pair{"cl100k-regexp2", fast, regex})
}

// alphabet mixes every character class the split patterns distinguish.
var alphabet = []string{
	"a", "b", "s", "t", "d", "m", "l", "e", "r", "v", "S", "T", "D", "M", "L", "E", "R", "V", "Q", "x",
	"'", "'", "'s", "'T", "'re", "'VE", "'ll", "'D", "'m", "’",
	"0", "1", "7", "½", "²", "٣", "Ⅻ",
	" ", " ", " ", "\t", "\n", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\v", "\f", "\u0085",
	".", ",", "!", "?", "-", "—", "/", "//", "(", ")", "\"", "#", "$", "@", "_", "…", "«",
	"é", "e\u0301", "\u0301", "\u0308", "ß", "Ǆ", "ǅ", "ʰ", "东", "京", "ア", "ﾟ", "ع", "Ω", "ω", "İ", "ſ", "K",
	"🙂", "👍🏽", "\u200d", "\ufeff", "\x00", "\x7f",
	"<|endoftext|>", "<|fim_prefix|>", "<|endofprompt|>", "<|", "|>",
	"Hello", "world", "HTTPServer", "McDonald", "don't", "I'M", "  ", "\n\n", " \n ",
}

// randomText draws n pieces from the alphabet with a splitmix64 stream.
func randomText(seed uint64, n int) string {
	var b strings.Builder
	rng := splitmix.Source{State: seed}
	for range n {
		b.WriteString(alphabet[rng.Next()%uint64(len(alphabet))])
	}
	return b.String()
}

func checkSame(t *testing.T, p pair, s string) bool {
	t.Helper()
	got, want := p.fast.Encode(s), p.regex.Encode(s)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Encode(%q)\n fast  %v\n regex %v", p.name, s, got, want)
		return false
	}
	if utf8.ValidString(s) {
		if d := p.fast.Decode(got); d != p.regex.Decode(want) {
			t.Errorf("%s: Decode differs for %q", p.name, s)
			return false
		}
	}
	return true
}

func TestFastMatchesRegexRandom(t *testing.T) {
	for _, p := range pairs(t) {
		t.Run(p.name, func(t *testing.T) {
			fails := 0
			for i := range 1500 {
				if !checkSame(t, p, randomText(uint64(i)*7919+1, 1+i%40)) {
					if fails++; fails > 5 {
						t.FailNow()
					}
				}
			}
		})
	}
}

func TestFastMatchesRegexNovel(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "gutenberg", "135.txt"))
	if err != nil {
		t.Skip("shared corpus not present")
	}
	// Les Misérables has accents, CRLF, a BOM and plenty of punctuation.
	text := string(data[:120_000])
	text = text[:len(text)-utf8.UTFMax] + "\x80 invalid byte"
	for _, p := range pairs(t) {
		checkSame(t, p, text)
	}
}

func FuzzFastMatchesRegex(f *testing.F) {
	for i := range 20 {
		f.Add(randomText(uint64(i), 30))
	}
	ps := pairs(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range ps {
			checkSame(t, p, s)
		}
	})
}

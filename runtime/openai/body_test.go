package openai

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestNewTextEscapes(t *testing.T) {
	cases := []string{
		"", "plain", "quote \" backslash \\ slash /", "\n\r\t\b\f\x00\x1f\x7f",
		"héllo wörld 日本語 😀", "bad \xff utf8 \xe2\x82", "<script>&</script>", "\u2028\u2029",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		tx := NewText(s)
		if tx.String() != s {
			t.Fatalf("String() = %q, want %q", tx.String(), s)
		}
		var got string
		if err := json.Unmarshal([]byte(`"`+string(tx.esc)+`"`), &got); err != nil {
			t.Fatalf("escaped %q is not a JSON string: %v", s, err)
		}
		want := s
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte by U+FFFD, as NewText does.
			var w string
			m, _ := json.Marshal(s)
			_ = json.Unmarshal(m, &w)
			want = w
		}
		if got != want {
			t.Fatalf("round trip of %q gave %q, want %q", s, got, want)
		}
	}
}

// TestLongTextKeepsOneForm: a document keeps only its escaped form, and
// String and Len still give the text as sent.
func TestLongTextKeepsOneForm(t *testing.T) {
	every := "quote \" backslash \\ \n\r\t\b\f\x00\x1f\x7f héllo 日本語 😀 <&> \u2028 "
	tests := []struct {
		name, text, want string
	}{
		{"prose", bigDocument(), bigDocument()},
		{"every escape", strings.Repeat(every, shortText/len(every)+1), strings.Repeat(every, shortText/len(every)+1)},
		{"just long enough", strings.Repeat("\"", shortText), strings.Repeat("\"", shortText)},
		{"invalid UTF-8", strings.Repeat("bad \xff utf8 \xe2\x82 ", shortText/8), strings.Repeat("bad \ufffd utf8 \ufffd\ufffd ", shortText/8)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx := NewText(tc.text)
			if tx.s != "" {
				t.Errorf("a %d-byte text keeps its original beside the escaped form", len(tc.text))
			}
			if tx.Len() != len(tc.text) {
				t.Errorf("Len() = %d, want %d", tx.Len(), len(tc.text))
			}
			if got := tx.String(); got != tc.want {
				t.Errorf("String() differs from the text as sent (%d vs %d bytes)", len(got), len(tc.want))
			}
		})
	}
}

// readBody reads a built body through bodyReader's Read, as the transport does.
func readBody(t testing.TB, bufs [][]byte, n int64) []byte {
	t.Helper()
	var out bytes.Buffer
	r := &bodyReader{bufs: bufs}
	small := make([]byte, 7) // odd size: exercises reads across buffers
	for {
		k, err := r.Read(small)
		out.Write(small[:k])
		if err == io.EOF {
			break
		}
	}
	if int64(out.Len()) != n {
		t.Fatalf("body is %d bytes, Content-Length %d", out.Len(), n)
	}
	var wt bytes.Buffer
	if _, err := (&bodyReader{bufs: bufs}).WriteTo(&wt); err != nil || !bytes.Equal(wt.Bytes(), out.Bytes()) {
		t.Fatalf("WriteTo differs from Read (%v)", err)
	}
	return out.Bytes()
}

func testConversation() Request {
	doc := NewText("Call me \"Ishmael\".\nSome years ago—never mind how long…")
	return Request{
		ID: "r1",
		Messages: []Message{
			{Role: "system", Parts: []*Text{NewText("You are a critic.")}},
			{Role: "user", Parts: []*Text{NewText("Read and summarize this novel.\n\n"), doc, NewText("")}},
			{Role: "assistant", Parts: []*Text{NewText("A whale story.")}},
			{Role: "user", Parts: []*Text{NewText("Write down the author's feelings.")}},
		},
		MaxTokens:   512,
		Temperature: 0.7,
	}
}

func TestBodyGolden(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		so   bool
	}{
		{"chat", Config{Model: "m/x"}, true},
		{"chat_no_stream_options", Config{Model: "m/x"}, false},
		{"chat_extra_body", Config{Model: "m/x", ExtraBody: map[string]any{"ignore_eos": true, "temperature": 0, "stream_options": map[string]any{"include_usage": true, "continuous_usage_stats": true}}}, true},
		{"chat_no_model", Config{}, true},
		{"completions", Config{Model: "m/x", API: "completions"}, true},
		{"completions_custom", Config{Model: "m/x", API: "completions", CompletionsTemplate: "<s>{{messages}}[{{role}}] {{content}}\n{{end}}[assistant] "}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl *promptTemplate
			if tc.cfg.API == "completions" {
				src := tc.cfg.CompletionsTemplate
				if src == "" {
					src = DefaultCompletionsTemplate
				}
				var err error
				if tmpl, err = parseTemplate(src); err != nil {
					t.Fatal(err)
				}
			}
			plan, err := newBodyPlan(&tc.cfg, tc.cfg.Model, tc.so, tmpl)
			if err != nil {
				t.Fatal(err)
			}
			req := testConversation()
			bufs, n := plan.build(&req)
			body := readBody(t, bufs, n)
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, body, "", "  ")
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "body_"+tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("body differs from %s:\n%s", path, pretty.Bytes())
			}
		})
	}
}

// bigDocument is ~500 KB of prose, about 128k tokens.
func bigDocument() string {
	var b strings.Builder
	line := "It was the best of times, it was the worst of times; \"quoted\" and\ttabbed, naïve café.\r\n"
	for b.Len() < 500<<10 {
		b.WriteString(line)
	}
	return b.String()
}

func tenTurns(doc *Text) Request {
	msgs := []Message{{Role: "user", Parts: []*Text{NewText("Read and summarize this novel.\n\n"), doc}}}
	answer := NewText(strings.Repeat("The author feels deeply about the sea. ", 50)) // ~500 tokens
	for i := range 9 {
		msgs = append(msgs, Message{Role: "assistant", Parts: []*Text{answer}},
			Message{Role: "user", Parts: []*Text{NewText("Question " + string(rune('A'+i)) + ": what does the author feel?")}})
	}
	return Request{ID: "x", Messages: msgs, MaxTokens: 512}
}

// TestChatBodyAllocation pins the budget: a 10-turn body over a
// 128k-token document allocates under 64 KiB per request.
func TestChatBodyAllocation(t *testing.T) {
	doc := NewText(bigDocument())
	plan, err := newBodyPlan(&Config{Model: "m"}, "m", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := tenTurns(doc)
	const runs = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var total int64
	for range runs {
		bufs, n := plan.build(&req)
		r := &bodyReader{bufs: bufs}
		m, _ := r.WriteTo(io.Discard)
		if m != n {
			t.Fatalf("wrote %d of %d bytes", m, n)
		}
		total += n
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("body %d bytes, %d bytes allocated per request", total/runs, per)
	if total/runs < int64(doc.Len()) {
		t.Fatalf("body smaller than the document")
	}
	if per >= 64<<10 {
		t.Fatalf("%d bytes allocated per request, budget 64 KiB", per)
	}
}

func TestEscapedLenExact(t *testing.T) {
	for _, s := range []string{"", "abc", "\"\\\n\r\t\x01\x7f", "é😀", "\xff\xe2\x82", bigDocument()[:4096]} {
		if got, want := escapedLen(s), len(appendEscaped(nil, s)); got != want {
			t.Errorf("escapedLen(%q) = %d, want %d", s, got, want)
		}
	}
}

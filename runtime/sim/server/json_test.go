package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decoded turns rawText values into strings, for comparison with
// encoding/json.
func decoded(v any) any {
	switch x := v.(type) {
	case rawText:
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = decoded(e)
		}
	case []any:
		for i, e := range x {
			x[i] = decoded(e)
		}
	}
	return v
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	long := strings.Repeat(`ab\n\"\u00e9\ud83d\ude00 \ud800x`, 100)
	for _, in := range []string{
		`{}`, `[]`, `""`, `"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u4e2d\ud83d\ude00"`,
		`"\ud83d x"`, `"\ud83d\u0041"`, `"\udc00"`, `"é中😀"`,
		`{"model":"m","max_tokens":512,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi\n\nthere"}]}`,
		` [1, -2.5, 3e10, 0, -0, 1E-3, true, false, null, {"a":[{}]}] `,
		`{"a":1,"a":2}`,
		`"` + long + `"`, `{"` + long + `":["` + long + `"]}`, `"` + strings.Repeat("x", 5000) + `"`,
	} {
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%.80s: encoding/json: %v", in, err)
		}
		got, err := parseJSON([]byte(in))
		if err != nil {
			t.Errorf("%.80s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(decoded(got), want) {
			t.Errorf("%.80s: got %#.80v, want %#.80v", in, got, want)
		}
	}
}

func TestParseJSONKeepsLongStringsRaw(t *testing.T) {
	in := `{"content":"` + strings.Repeat(`x\n`, 600) + `","short":"a\nb"}`
	v, err := parseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	r, ok := m["content"].(rawText)
	if !ok || !r.escaped || string(r.raw) != strings.Repeat(`x\n`, 600) {
		t.Errorf("long string not kept raw: %T", m["content"])
	}
	if m["short"] != "a\nb" {
		t.Errorf("short string %q", m["short"])
	}
}

func TestParseJSONRejects(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `"abc`, "\"a\nb\"", `"\x"`, `"\u12"`,
		`01`, `1.`, `-`, `1e`, `tru`, `nul`, `{} x`, `{'a':1}`, `"` + strings.Repeat("y", 2000) + `\q"`,
	} {
		var v any
		if json.Unmarshal([]byte(in), &v) == nil {
			t.Fatalf("%q: encoding/json accepts it; bad test", in)
		}
		if _, err := parseJSON([]byte(in)); err == nil {
			t.Errorf("%.80q: accepted", in)
		}
	}
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := parseJSON([]byte(deep)); err == nil {
		t.Error("nesting beyond maxDepth accepted")
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add(`{"messages":[{"role":"user","content":"a\u00e9\n"}],"max_tokens":3}`)
	f.Add(`[1,"x",null,{"k":[true]}]`)
	f.Add(`"` + strings.Repeat(`a\n\u00e9\ud83d`, 300) + `"`)
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // encoding/json rewrites invalid UTF-8; this parser keeps bytes
		}
		var want any
		werr := json.Unmarshal([]byte(in), &want)
		got, gerr := parseJSON([]byte(in))
		if (werr == nil) != (gerr == nil) {
			if werr == nil && strings.Count(in, "[")+strings.Count(in, "{") > maxDepth {
				return
			}
			t.Fatalf("%q: encoding/json err %v, parseJSON err %v", in, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(decoded(got), want) {
			t.Fatalf("%q: got %#v, want %#v", in, got, want)
		}
	})
}

func BenchmarkParseJSON128k(b *testing.B) {
	var doc strings.Builder
	for i := 0; doc.Len() < 131072*5; i++ {
		doc.WriteString("whale sea ship ")
		if i%7 == 0 {
			doc.WriteString("\n")
		}
	}
	raw, _ := json.Marshal(map[string]any{"messages": []map[string]any{{"role": "user", "content": doc.String()}}})
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := parseJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

package openai

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzSSE feeds arbitrary bytes to the SSE reader whole, split at cut, and a
// byte at a time: it must never panic, and the three must agree on everything
// but the read each moment fell in.
func FuzzSSE(f *testing.F) {
	f.Add([]byte(sampleStream()), uint16(17))
	f.Add([]byte(roleEv+"\n\n"+contentEv("a")+"\r\n\r\n"+usageEv+"\r\rdata: [DONE]\n\n"), uint16(3))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\"}}\n\n"), uint16(0))
	f.Add([]byte("data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"\\ud83d\\ude00\"}}]}\n\n"), uint16(40))
	f.Add([]byte(": c\r\nevent: x\r\ndata:garbage\r\n\r\n"), uint16(9))
	f.Add([]byte("data: "+strings.Repeat("[", 300)+"\n\n"), uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		s := string(data)
		whole, _ := feed(t, s)
		k := int(cut) % (len(s) + 1)
		split, _ := feed(t, s[:k], s[k:])
		one, _ := feed(t, bytewise(s)...)
		for _, o := range []*outcome{&whole, &split, &one} {
			if o.ttft < 0 || o.ttfc < 0 || o.end < o.ttft || (o.ttfc != 0 && o.ttfc < o.ttft) {
				t.Fatalf("times out of order: %+v", *o)
			}
			if (o.ttft == 0) != (o.chunks == 0) || (o.ttftEvent >= 0) != (o.chunks > 0) {
				t.Fatalf("ttft and chunks disagree: %+v", *o)
			}
			if o.errKind == "" && !o.done && !o.finish {
				t.Fatalf("success without [DONE] or finish: %+v", *o)
			}
			o.ttft, o.ttfc, o.end = 0, 0, 0
		}
		if split != whole || one != whole {
			t.Fatalf("reads change the result:\nwhole %+v\nsplit %+v\none   %+v", whole, split, one)
		}
	})
}

// FuzzDecodeChunk checks the hand-written JSON walker against encoding/json:
// it accepts exactly the valid objects (within its depth bound) and reads the
// same content text.
func FuzzDecodeChunk(f *testing.F) {
	for _, ev := range []string{roleEv, usageEv, finishEv, contentEv(`a\"b\u00e9`), `{"choices":[{"text":"t"}]}`,
		`{"a":[1,-2.5e+3,true,false,null,{"b":"c"}],"choices":null}`, `{"error":{"message":"m"}}`, `{"x":1}x`, `{"x":01}`, `{"x":"\u12"}`} {
		f.Add([]byte(strings.TrimPrefix(ev, "data: ")))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ci chunkInfo
		var content, other []byte
		err := decodeChunk(data, &ci, &content, &other)
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		isObj := len(trimmed) > 0 && trimmed[0] == '{'
		valid := json.Valid(data)
		if err == nil && !(valid && isObj) {
			t.Fatalf("accepted invalid or non-object JSON %q", data)
		}
		if err != nil && valid && isObj && depth(data) < maxDepth {
			t.Fatalf("rejected valid JSON %q: %v", data, err)
		}
		if err != nil {
			return
		}
		// Compare the content channel with encoding/json where the shapes fit.
		var v struct {
			Choices []struct {
				Delta struct {
					Content *string `json:"content"`
				} `json:"delta"`
				Text *string `json:"text"`
			} `json:"choices"`
		}
		if json.Unmarshal(data, &v) != nil || bytes.Contains(data, []byte(`\u`)) {
			return // type mismatches the walker skips; \u escapes of invalid surrogates differ
		}
		var want strings.Builder
		for _, c := range v.Choices {
			if c.Delta.Content != nil {
				want.WriteString(*c.Delta.Content)
			}
			if c.Text != nil {
				want.WriteString(*c.Text)
			}
		}
		if countKey(data) == 0 && string(content) != want.String() {
			t.Fatalf("content %q, encoding/json reads %q from %q", content, want.String(), data)
		}
	})
}

// countKey reports key hazards where encoding/json and the walker rightly
// differ: encoding/json keeps the last value of a repeated key (the walker
// reads every one) and matches keys case-insensitively (the walker, like
// the servers, uses the exact names).
func countKey(data []byte) int {
	lower := bytes.ToLower(data)
	n := 0
	for _, k := range []string{`"content"`, `"text"`, `"delta"`, `"choices"`} {
		exact, folded := bytes.Count(data, []byte(k)), bytes.Count(lower, []byte(k))
		if folded != exact {
			return -1
		}
		n += exact
	}
	if n <= 3 {
		return 0
	}
	return n
}

// depth is the maximum bracket nesting outside strings.
func depth(b []byte) int {
	d, m, in, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case in && esc:
			esc = false
		case in && c == '\\':
			esc = true
		case in && c == '"':
			in = false
		case in:
		case c == '"':
			in = true
		case c == '{' || c == '[':
			d++
			m = max(m, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return m
}

func TestDecodeChunkUnits(t *testing.T) {
	cases := []struct {
		in      string
		ok      bool
		content string
		ci      chunkInfo
	}{
		{in: `{}`, ok: true},
		{in: ` {"choices":[]} `, ok: true},
		{in: `{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}`, ok: true, content: "ab", ci: chunkInfo{gen: true, content: true}},
		{in: `{"choices":[{"delta":{"content":""}}]}`, ok: true},
		{in: `{"choices":[{"delta":{"content":null,"role":"assistant"}}]}`, ok: true},
		{in: `{"choices":[{"delta":{"content":5}}]}`, ok: true},
		{in: `{"usage":{"prompt_tokens":1.0e2,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":null}}}`, ok: true, ci: chunkInfo{usage: true, prompt: 100, completion: 3}},
		{in: `{"choices":[{"finish_reason":"length"}]}`, ok: true, ci: chunkInfo{finish: true}},
		{in: `{"a":1,}`},
		{in: `{"a" 1}`},
		{in: `{"a":tru}`},
		{in: `{"a":-}`},
		{in: `{"a":1.}`},
		{in: `{"a":"\x"}`},
		{in: "{\"a\":\"\x01\"}"},
		{in: `{"a":1} {}`},
		{in: `"str"`},
		{in: ``},
	}
	for _, tc := range cases {
		var ci chunkInfo
		var content, other []byte
		err := decodeChunk([]byte(tc.in), &ci, &content, &other)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		ci.errMsg, tc.ci.errMsg = nil, nil
		if ci.gen != tc.ci.gen || ci.content != tc.ci.content || ci.finish != tc.ci.finish || ci.usage != tc.ci.usage ||
			ci.prompt != tc.ci.prompt || ci.completion != tc.ci.completion || ci.cach != tc.ci.cach || ci.isErr != tc.ci.isErr || string(content) != tc.content {
			t.Errorf("%s: got %+v %q, want %+v %q", tc.in, ci, content, tc.ci, tc.content)
		}
	}
}

package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// vllmStream is a realistic vLLM chat stream of n content events.
func vllmStream(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1764230000,"model":"Qwen/Qwen2.5-7B-Instruct-1M","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	for i := range n {
		b.WriteString(`data: {"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1764230000,"model":"Qwen/Qwen2.5-7B-Instruct-1M","choices":[{"index":0,"delta":{"content":" word`)
		b.WriteByte(byte('a' + i%26))
		b.WriteString(`"},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(`data: {"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1764230000,"model":"Qwen/Qwen2.5-7B-Instruct-1M","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"length","stop_reason":null}]}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1764230000,"model":"Qwen/Qwen2.5-7B-Instruct-1M","choices":[],"usage":{"prompt_tokens":131072,"total_tokens":131584,"completion_tokens":512,"prompt_tokens_details":{"cached_tokens":130000}}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// smallReads hands out at most n bytes per Read, like a socket delivering a
// few events at a time.
type smallReads struct {
	b []byte
	n int
}

func (r *smallReads) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

// BenchmarkSSE measures the reader with delta decoding and timestamps per
// event, in reads of ~2 events.
func BenchmarkSSE(b *testing.B) {
	const events = 512
	stream := vllmStream(events)
	d := newSSEReader()
	start := time.Now()
	clock := func() time.Duration { return time.Since(start) }
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.reset()
		if err := d.readAll(&smallReads{b: stream, n: 512}, clock, nil); err != nil || !d.st.done || d.st.chunks != events {
			b.Fatalf("err %v chunks %d", err, d.st.chunks)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(events+3), "ns/event")
}

// BenchmarkDecodeChunk is the JSON part alone, one typical event.
func BenchmarkDecodeChunk(b *testing.B) {
	ev := []byte(`{"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1764230000,"model":"Qwen/Qwen2.5-7B-Instruct-1M","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}`)
	var ci chunkInfo
	var content, other []byte
	b.ReportAllocs()
	for b.Loop() {
		content = content[:0]
		if err := decodeChunk(ev, &ci, &content, &other); err != nil || !ci.gen {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatBody builds a 10-turn chat body over a ~500 KB document and
// writes it out; B/op is the per-request allocation.
func BenchmarkChatBody(b *testing.B) {
	doc := NewText(bigDocument())
	plan, err := newBodyPlan(&Config{Model: "m"}, "m", true, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := tenTurns(doc)
	b.ReportAllocs()
	for b.Loop() {
		bufs, n := plan.build(&req)
		b.SetBytes(n)
		if _, err := (&bodyReader{bufs: bufs}).WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewText is the once-per-document escaping.
func BenchmarkNewText(b *testing.B) {
	s := bigDocument()
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if NewText(s).Len() != len(s) {
			b.Fatal("length")
		}
	}
}

// BenchmarkDo is a whole request against a local server: a short prompt and
// a 64-event stream over one kept-alive connection. allocs/op is the
// client's and the transport's share (the server runs in the same process,
// so B/op includes its allocations too).
func BenchmarkDo(b *testing.B) {
	stream := vllmStream(64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(stream)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	cn := c.NewConn()
	defer cn.Close()
	req := Request{ID: "bench", Messages: []Message{{Role: "user", Parts: []*Text{NewText("hello")}}}, MaxTokens: 64}
	b.ReportAllocs()
	for b.Loop() {
		if res := cn.Do(context.Background(), req); res.ErrKind != "" || res.Chunks != 64 {
			b.Fatalf("%s: %s", res.ErrKind, res.ErrMessage)
		}
	}
}

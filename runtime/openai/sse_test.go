package openai

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// chunkReader returns its chunks one Read at a time, then io.EOF (or after,
// when set, the error after).
type chunkReader struct {
	chunks [][]byte
	after  error
	reads  int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		if r.after != nil {
			return 0, r.after
		}
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	r.reads++
	return n, nil
}

// outcome is what a test compares: the stream's result with each time
// expressed as the 1-based number of the read that delivered it.
type outcome struct {
	ttftEvent, events, chunks int
	ttft, ttfc, end           time.Duration
	content, other            string
	usage                     bool
	prompt, completion, cache int
	done, finish              bool
	errKind                   string
}

// feed runs the reader over chunks with a clock that counts reads.
func feed(t testing.TB, chunks ...string) (outcome, error) {
	t.Helper()
	cr := &chunkReader{}
	for _, c := range chunks {
		cr.chunks = append(cr.chunks, []byte(c))
	}
	return feedReader(cr)
}

func feedReader(cr *chunkReader) (outcome, error) {
	d := newSSEReader()
	d.reset()
	err := d.readAll(cr, func() time.Duration { return time.Duration(cr.reads) }, nil)
	st := &d.st
	return outcome{
		ttftEvent: st.ttftEvent, events: st.events, chunks: st.chunks,
		ttft: st.ttft, ttfc: st.ttfc, end: st.end,
		content: string(st.content), other: string(st.other),
		usage: st.usage, prompt: st.prompt, completion: st.completion, cache: st.cachedToken,
		done: st.done, finish: st.finish, errKind: st.errKind,
	}, err
}

// bytewise splits s into one-byte reads.
func bytewise(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

const (
	roleEv   = `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`
	usageEv  = `data: {"id":"x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":4}}}`
	finishEv = `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`
)

func contentEv(s string) string {
	return `data: {"id":"x","choices":[{"index":0,"delta":{"content":"` + s + `"},"finish_reason":null}]}`
}

func TestSSECases(t *testing.T) {
	lf := func(evs ...string) string { return strings.Join(evs, "\n\n") + "\n\n" }
	tests := []struct {
		name   string
		chunks []string // one Read each
		want   outcome
	}{
		{
			name:   "basic LF, one event per read",
			chunks: []string{roleEv + "\n\n", contentEv("Hello") + "\n\n", contentEv(" world") + "\n\n", contentEv("!") + "\n\n", finishEv + "\n\n", usageEv + "\n\n", "data: [DONE]\n\n"},
			want: outcome{ttftEvent: 1, events: 6, chunks: 3, ttft: 2, ttfc: 2, end: 4, content: "Hello world!",
				usage: true, prompt: 10, completion: 3, cache: 4, done: true, finish: true},
		},
		{
			name:   "all events in one read",
			chunks: []string{lf(roleEv, contentEv("a"), contentEv("b"), finishEv, usageEv, "data: [DONE]")},
			want: outcome{ttftEvent: 1, events: 5, chunks: 2, ttft: 1, ttfc: 1, end: 1, content: "ab",
				usage: true, prompt: 10, completion: 3, cache: 4, done: true, finish: true},
		},
		{
			name:   "CRLF, comments, data without space",
			chunks: []string{": ping\r\n\r\n", "data:" + strings.TrimPrefix(roleEv, "data: ") + "\r\n\r\n", ": keep-alive\r\n", contentEv("x") + "\r\n\r\n", "data:[DONE]\r\n\r\n"},
			want:   outcome{ttftEvent: 1, events: 2, chunks: 1, ttft: 4, ttfc: 4, end: 4, content: "x", done: true},
		},
		{
			name:   "CR line ends",
			chunks: []string{roleEv + "\r\r", contentEv("y") + "\r\r", "data: [DONE]\r\r"},
			want:   outcome{ttftEvent: 1, events: 2, chunks: 1, ttft: 2, ttfc: 2, end: 2, content: "y", done: true},
		},
		{
			name:   "multi-line data joined with LF",
			chunks: []string{"data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"m\"}}]}\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "m", done: true},
		},
		{
			name:   "event split mid-JSON across reads",
			chunks: []string{contentEv("sp")[:30], contentEv("sp")[30:], "\n", "\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 4, ttfc: 4, end: 4, content: "sp", done: true},
		},
		{
			name:   "stream stays open after DONE: nothing more is read",
			chunks: []string{lf(contentEv("d"), "data: [DONE]") + contentEv("after") + "\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "d", done: true},
		},
		{
			name:   "usage-only chunk does not move the end",
			chunks: []string{contentEv("u") + "\n\n", finishEv + "\n\n", usageEv + "\n\n", "data: [DONE]\n\n"},
			want: outcome{ttftEvent: 0, events: 3, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "u",
				usage: true, prompt: 10, completion: 3, cache: 4, done: true, finish: true},
		},
		{
			name: "reasoning_content first, then content",
			chunks: []string{roleEv + "\n\n", `data: {"choices":[{"delta":{"reasoning_content":"think"}}]}` + "\n\n",
				`data: {"choices":[{"delta":{"reasoning_content":null,"content":"ans"}}]}` + "\n\n", "data: [DONE]\n\n"},
			want: outcome{ttftEvent: 1, events: 3, chunks: 2, ttft: 2, ttfc: 3, end: 3, content: "ans", other: "think", done: true},
		},
		{
			name:   "reasoning field",
			chunks: []string{`data: {"choices":[{"delta":{"reasoning":"r"}}]}` + "\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, end: 1, other: "r", done: true},
		},
		{
			name: "tool_calls delta is a token",
			chunks: []string{roleEv + "\n\n", `data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":""}}]}}]}` + "\n\n",
				`data: {"choices":[{"delta":{"tool_calls":[]}}]}` + "\n\n", "data: [DONE]\n\n"},
			want: outcome{ttftEvent: 1, events: 3, chunks: 1, ttft: 2, end: 2, done: true},
		},
		{
			name:   "error object in a 200 stream",
			chunks: []string{contentEv("e") + "\n\n", `data: {"error":{"object":"error","message":"boom","code":500}}` + "\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "e", errKind: metrics.ErrServer},
		},
		{
			name:   "vLLM ErrorResponse in stream",
			chunks: []string{`data: {"object":"error","message":"old style","type":"BadRequestError","code":400}` + "\n\n"},
			want:   outcome{ttftEvent: -1, events: 1, errKind: metrics.ErrServer},
		},
		{
			name:   "event: error with error data",
			chunks: []string{"event: error\nid: 7\nretry: 10\ndata: {\"error\":\"plain\"}\n\n"},
			want:   outcome{ttftEvent: -1, events: 1, errKind: metrics.ErrServer},
		},
		{
			name:   "error null is no error",
			chunks: []string{`data: {"error":null,"choices":[{"delta":{"content":"n"}}]}` + "\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "n", done: true},
		},
		{
			name:   "garbage",
			chunks: []string{"data: hello world\n\n"},
			want:   outcome{ttftEvent: -1, events: 1, errKind: metrics.ErrMalformed},
		},
		{
			name:   "truncated JSON then blank line",
			chunks: []string{contentEv("a") + "\n\n", `data: {"choices":[{"delta":{"cont` + "\n\n"},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "a", errKind: metrics.ErrMalformed},
		},
		{
			name:   "top-level array",
			chunks: []string{"data: [1,2]\n\n"},
			want:   outcome{ttftEvent: -1, events: 1, errKind: metrics.ErrMalformed},
		},
		{
			name:   "EOF after tokens without DONE or finish",
			chunks: []string{contentEv("c") + "\n\n", contentEv("d") + "\n\n"},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 2, ttft: 1, ttfc: 1, end: 2, content: "cd", errKind: metrics.ErrStreamCut},
		},
		{
			name:   "EOF mid-event",
			chunks: []string{contentEv("c") + "\n\n", `data: {"choices":[{"delta":{"content":"d`},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "c", errKind: metrics.ErrStreamCut},
		},
		{
			name:   "EOF after finish without DONE is a success",
			chunks: []string{contentEv("f") + "\n\n", finishEv + "\n\n"},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "f", finish: true},
		},
		{
			name:   "last event without its blank line",
			chunks: []string{contentEv("g") + "\n\n", finishEv},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "g", finish: true},
		},
		{
			name:   "no events at all",
			chunks: []string{": only a comment\n\n"},
			want:   outcome{ttftEvent: -1, errKind: metrics.ErrStreamCut},
		},
		{
			name:   "completions text",
			chunks: []string{`data: {"choices":[{"index":0,"text":"Hi","finish_reason":null}]}` + "\n\n", `data: {"choices":[{"index":0,"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":1}}` + "\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 2, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "Hi", usage: true, prompt: 5, completion: 1, done: true, finish: true},
		},
		{
			name:   "escapes and surrogate pairs",
			chunks: []string{contentEv(`\u00e9\n\"\\\/\ud83d\ude00\t`) + "\n\n", "data: [DONE]\n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 1, ttfc: 1, end: 1, content: "é\n\"\\/😀\t", done: true},
		},
		{
			name: "usage on every chunk: the last one counts",
			chunks: []string{`data: {"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":7,"completion_tokens":1}}` + "\n\n",
				`data: {"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":7,"completion_tokens":2,"prompt_tokens_details":null}}` + "\n\n", "data: [DONE]\n\n"},
			want: outcome{ttftEvent: 0, events: 2, chunks: 2, ttft: 1, ttfc: 1, end: 2, content: "ab", usage: true, prompt: 7, completion: 2, done: true},
		},
		{
			name:   "empty data events and DONE with spaces",
			chunks: []string{"data:\n\n", "data: \n\n", contentEv("z") + "\n\n", "data:  [DONE]  \n\n"},
			want:   outcome{ttftEvent: 0, events: 1, chunks: 1, ttft: 3, ttfc: 3, end: 3, content: "z", done: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &chunkReader{}
			if tc.want.done || tc.want.errKind == metrics.ErrServer || tc.want.errKind == metrics.ErrMalformed {
				// These streams end before their source does: reading on is a bug.
				cr.after = errors.New("read after the end of the stream")
			}
			for _, c := range tc.chunks {
				cr.chunks = append(cr.chunks, []byte(c))
			}
			got, err := feedReader(cr)
			if err != nil && tc.want.done {
				t.Fatalf("read error: %v", err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			// The same bytes one at a time give the same stream, times aside.
			one, _ := feed(t, bytewise(strings.Join(tc.chunks, ""))...)
			one.ttft, one.ttfc, one.end = 0, 0, 0
			w := tc.want
			w.ttft, w.ttfc, w.end = 0, 0, 0
			if one != w {
				t.Errorf("byte-wise reads: got %+v\nwant %+v", one, w)
			}
		})
	}
}

// sampleStream is a stream with every feature of the format; its first
// token's event ends at the blank line marked by ttftMark.
func sampleStream() string {
	return ": hello\r\n\r\n" +
		"event: message\r\n" + roleEv + "\r\n\r\n" +
		`data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}` + "\r\n\r\n" + // first token
		": ping\n\n" +
		"data: {\"choices\":[{\"delta\":\n" + `data: {"content":"Hel"}}]}` + "\n\n" +
		"data:" + strings.TrimPrefix(contentEv("lo"), "data:") + "\r\r" +
		finishEv + "\n\n" + usageEv + "\n\n" + "data: [DONE]\n\n"
}

const ttftMark = `"hm"}}]}` + "\r\n"

func TestSSEEverySplit(t *testing.T) {
	sample := sampleStream()
	want, err := feed(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	if want.ttftEvent != 1 || want.chunks != 3 || want.content != "Hello" || want.other != "hm" || want.completion != 3 || want.errKind != "" || !want.done {
		t.Fatalf("whole stream: %+v", want)
	}
	// The first token's event is dispatched by the CR of its blank line.
	p := strings.Index(sample, ttftMark) + len(ttftMark)
	for k := 0; k <= len(sample); k++ {
		got, err := feed(t, sample[:k], sample[k:])
		if err != nil {
			t.Fatalf("split %d: %v", k, err)
		}
		wantTTFT := time.Duration(1)
		if k <= p && k > 0 {
			wantTTFT = 2
		}
		if got.ttft != wantTTFT {
			t.Errorf("split %d: ttft read %d, want %d", k, got.ttft, wantTTFT)
		}
		got.ttft, got.ttfc, got.end = want.ttft, want.ttfc, want.end
		if got != want {
			t.Errorf("split %d: got %+v\nwant %+v", k, got, want)
		}
	}
	// One byte per read: the first token is stamped by the read of that CR.
	got, _ := feed(t, bytewise(sample)...)
	if got.ttft != time.Duration(p+1) {
		t.Errorf("byte-wise: ttft read %d, want %d", got.ttft, p+1)
	}
	if got.ttftEvent != want.ttftEvent || got.chunks != want.chunks || got.completion != want.completion || got.errKind != want.errKind {
		t.Errorf("byte-wise: got %+v\nwant %+v", got, want)
	}
}

func TestSSELongLine(t *testing.T) {
	big := strings.Repeat("x", 3*readBufSize)
	got, err := feed(t, contentEv(big)+"\n\n", "data: [DONE]\n\n")
	if err != nil || got.errKind != "" || got.content != big {
		t.Fatalf("long event: err %v kind %q len %d", err, got.errKind, len(got.content))
	}
}

func TestSSEReadError(t *testing.T) {
	cr := &chunkReader{chunks: [][]byte{[]byte(contentEv("a") + "\n\n")}, after: io.ErrUnexpectedEOF}
	got, err := feedReader(cr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if got.chunks != 1 || got.errKind != "" {
		t.Fatalf("got %+v", got)
	}
}

package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// testServer is an httptest server that counts connections and remembers
// the last request body and headers.
type testServer struct {
	*httptest.Server
	conns atomic.Int32
	mu    sync.Mutex
	body  map[string]any
	hdr   http.Header
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var v map[string]any
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			_ = json.Unmarshal(b, &v)
			ts.mu.Lock()
			ts.body, ts.hdr = v, r.Header.Clone()
			ts.mu.Unlock()
		}
		h(w, r)
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) last() (map[string]any, http.Header) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.body, ts.hdr
}

// sse writes events, flushing after each; "" sleeps briefly instead.
func sse(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for _, ev := range events {
		if ev == "" {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		_, _ = io.WriteString(w, ev+"\n\n")
		f.Flush()
	}
}

func models(w http.ResponseWriter, ids ...string) {
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%q,"object":"model"}`, id)
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, b.String())
}

func goodStream(w http.ResponseWriter) {
	sse(w, roleEv, "", contentEv("Hello"), "", contentEv(" there"), "", contentEv("!"), finishEv, usageEv, "data: [DONE]")
}

// closedAddr is a 127.0.0.1 address nothing listens on: a port the test
// opened and closed again, so a connection to it is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func mustClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDoRoundTrip(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			models(w, "m")
		case "/v1/chat/completions":
			goodStream(w)
		default:
			http.NotFound(w, r)
		}
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1/", Model: "m", APIKey: "sk-test", Headers: map[string]string{"x-team": "kv"},
		ExtraBody: map[string]any{"ignore_eos": true}})
	cn := c.NewConn()
	defer cn.Close()
	ctx := context.Background()
	if err := cn.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	doc := NewText("the \"novel\"\n")
	req := Request{ID: "req-1", MaxTokens: 3, Messages: []Message{{Role: "user", Parts: []*Text{NewText("Read: "), doc, NewText(" end")}}}}
	var results []Result
	for i := range 2 {
		req.ID = fmt.Sprintf("req-%d", i)
		res := cn.Do(ctx, req)
		if res.ErrKind != "" {
			t.Fatalf("request %d: %s: %s", i, res.ErrKind, res.ErrMessage)
		}
		results = append(results, res)
	}
	if n := ts.conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (warm + 2 requests on one keep-alive connection)", n)
	}
	res := results[1]
	if res.Connect != 0 {
		t.Errorf("Connect = %v on a reused connection", res.Connect)
	}
	if res.Content != "Hello there!" || res.Chunks != 3 || res.Events != 6 {
		t.Errorf("content %q chunks %d events %d", res.Content, res.Chunks, res.Events)
	}
	if !res.Usage || res.PromptTokens != 10 || res.CompletionTokens != 3 || res.CachedTokens != 4 || res.ClientCounted {
		t.Errorf("usage: %+v", res)
	}
	// (Write is stamped on the transport's writer goroutine, so on a busy
	// machine it may land after the first token: only its presence is checked.)
	if !(res.Write > 0 && res.TTFT > 0 && res.TTFC == res.TTFT && res.End > res.TTFT) {
		t.Errorf("phases out of order: write %v ttft %v ttfc %v end %v", res.Write, res.TTFT, res.TTFC, res.End)
	}
	// Three chunks make two gaps summing to End−TTFT: the larger is at least
	// half of it. ITL divides the same span by completion_tokens−1.
	if span := res.End - res.TTFT; res.MaxChunkGap < span/2 || res.MaxChunkGap > span || res.ITL() != span/2 {
		t.Errorf("span %v, max gap %v, itl %v", span, res.MaxChunkGap, res.ITL())
	}
	body, hdr := ts.last()
	if hdr.Get("X-Request-Id") != "req-1" || hdr.Get("Authorization") != "Bearer sk-test" || hdr.Get("X-Team") != "kv" {
		t.Errorf("headers: %v", hdr)
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["content"] != "Read: the \"novel\"\n end" {
		t.Errorf("messages: %v", body["messages"])
	}
	if body["stream"] != true || body["max_tokens"] != 3.0 || body["model"] != "m" || body["ignore_eos"] != true || body["stream_options"] == nil {
		t.Errorf("body: %v", body)
	}

	// Without Warm the first request pays for the dial, and says so.
	cn2 := c.NewConn()
	defer cn2.Close()
	if res := cn2.Do(ctx, req); res.ErrKind != "" || res.Connect <= 0 || res.Connect > res.Write {
		t.Errorf("cold request: kind %q connect %v write %v", res.ErrKind, res.Connect, res.Write)
	}
}

func TestCompletionsAPI(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		sse(w, `data: {"choices":[{"index":0,"text":"Hi","finish_reason":null}]}`, `data: {"choices":[{"index":0,"text":" you","finish_reason":"stop"}]}`, "data: [DONE]")
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", API: "completions", Counter: wordCounter{}})
	cn := c.NewConn()
	defer cn.Close()
	res := cn.Do(context.Background(), Request{Messages: []Message{
		{Role: "system", Parts: []*Text{NewText("Be brief.")}},
		{Role: "user", Parts: []*Text{NewText("Hello there")}},
	}})
	if res.ErrKind != "" || res.Content != "Hi you" {
		t.Fatalf("result: %+v", res)
	}
	// No usage came: the counter counted, and said so.
	if !res.ClientCounted || res.CompletionTokens != 2 || res.PromptTokens != 4 {
		t.Errorf("client counting: counted %v completion %d prompt %d", res.ClientCounted, res.CompletionTokens, res.PromptTokens)
	}
	body, _ := ts.last()
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n"
	if body["prompt"] != want {
		t.Errorf("prompt %q, want %q", body["prompt"], want)
	}
}

type wordCounter struct{}

func (wordCounter) Count(s string) int { return len(strings.Fields(s)) }

// hijackCut answers with a chunked stream that breaks off mid-chunk.
func hijackCut(w http.ResponseWriter, _ *http.Request) {
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	ev := contentEv("cut") + "\n\n"
	fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s", len(ev), ev, 100, "data: {\"cho")
	_ = bw.Flush()
}

func waitDone(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestDoFailures(t *testing.T) {
	refused := func() string { // an address nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		cfg     Config
		base    string // overrides the server's URL
		ctxTO   time.Duration
		kind    string
		msg     string // substring of ErrMessage
		ttft    bool   // a first token was seen
		maxTime time.Duration
	}{
		{name: "429", kind: "http_429", msg: "rate limited",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"error":{"message":"rate limited","type":"rate_limit"}}`)
			}},
		{name: "500 long body truncated", kind: "http_500", msg: "xxxx…",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, strings.Repeat("x", 5000))
			}},
		{name: "400 detail", kind: "http_400", msg: "bad field",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"detail":"bad field"}`)
			}},
		{name: "first token timeout after role chunk", kind: metrics.ErrTimeoutFirstToken, cfg: Config{FirstTokenTimeout: 150 * time.Millisecond, IdleTimeout: 20 * time.Millisecond}, maxTime: 3 * time.Second,
			handler: func(w http.ResponseWriter, r *http.Request) { sse(w, roleEv, ": ping"); waitDone(r) }},
		{name: "first token timeout before headers", kind: metrics.ErrTimeoutFirstToken, cfg: Config{FirstTokenTimeout: 150 * time.Millisecond}, maxTime: 3 * time.Second,
			handler: func(_ http.ResponseWriter, r *http.Request) { waitDone(r) }},
		{name: "idle timeout", kind: metrics.ErrTimeoutIdle, ttft: true, cfg: Config{FirstTokenTimeout: 5 * time.Second, IdleTimeout: 150 * time.Millisecond}, maxTime: 3 * time.Second,
			handler: func(w http.ResponseWriter, r *http.Request) { sse(w, contentEv("a")); waitDone(r) }},
		{name: "error inside a 200 stream", kind: metrics.ErrServer, msg: "out of memory", ttft: true,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				sse(w, contentEv("a"), `data: {"error":{"message":"out of memory","code":500}}`, "data: [DONE]")
			}},
		{name: "garbage", kind: metrics.ErrMalformed, msg: "<html>",
			handler: func(w http.ResponseWriter, _ *http.Request) { sse(w, "data: <html>oops</html>") }},
		{name: "stream cut mid-chunk", kind: metrics.ErrStreamCut, ttft: true, handler: hijackCut},
		{name: "stream ends without DONE", kind: metrics.ErrStreamCut, msg: "without [DONE]", ttft: true,
			handler: func(w http.ResponseWriter, _ *http.Request) { sse(w, roleEv, contentEv("a")) }},
		{name: "not an event stream", kind: metrics.ErrMalformed, msg: `one JSON document (Content-Type "text/plain; charset=utf-8")`,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"choices":[]}`) }},
		{name: "canceled", kind: metrics.ErrCanceled, ttft: true, ctxTO: 150 * time.Millisecond, maxTime: 3 * time.Second,
			handler: func(w http.ResponseWriter, r *http.Request) { sse(w, contentEv("a")); waitDone(r) }},
		{name: "stays open after DONE", kind: "", ttft: true, maxTime: 2 * time.Second,
			handler: func(w http.ResponseWriter, r *http.Request) { goodStream(w); waitDone(r) }},
		{name: "connection refused", kind: metrics.ErrConnect, base: "http://" + refused + "/v1"},
		{name: "connect timeout", kind: metrics.ErrTimeoutConnect, maxTime: 3 * time.Second,
			cfg: Config{ConnectTimeout: 100 * time.Millisecond, dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				<-ctx.Done() // a dial that never completes
				return nil, ctx.Err()
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.handler
			if h == nil {
				h = func(w http.ResponseWriter, _ *http.Request) { goodStream(w) }
			}
			ts := newTestServer(t, h)
			cfg := tc.cfg
			cfg.BaseURL = ts.URL + "/v1"
			if tc.base != "" {
				cfg.BaseURL = tc.base
			}
			cfg.Model = "m"
			c := mustClient(t, cfg)
			cn := c.NewConn()
			defer cn.Close()
			ctx := context.Background()
			if tc.ctxTO > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTO)
				defer cancel()
			}
			t0 := time.Now()
			res := cn.Do(ctx, Request{ID: "x", Messages: []Message{{Role: "user", Parts: []*Text{NewText("hi")}}}})
			took := time.Since(t0)
			if res.ErrKind != tc.kind {
				t.Fatalf("kind %q (%s), want %q", res.ErrKind, res.ErrMessage, tc.kind)
			}
			if !strings.Contains(res.ErrMessage, tc.msg) || len(res.ErrMessage) > maxMessage+len("…") {
				t.Errorf("message %q, want it to contain %q and be truncated", res.ErrMessage, tc.msg)
			}
			if (res.TTFT > 0) != tc.ttft {
				t.Errorf("ttft %v, want seen=%v", res.TTFT, tc.ttft)
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("took %v, want under %v", took, tc.maxTime)
			}
			if res.Start.IsZero() {
				t.Errorf("no start time")
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	type srvOpts struct {
		models       []string
		modelsStatus int
		rejectSO     bool // 400 on stream_options
		noUsage      bool
	}
	handler := func(o srvOpts, sawSO *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/v1/models":
				if o.modelsStatus != 0 {
					w.WriteHeader(o.modelsStatus)
					_, _ = io.WriteString(w, `{"error":{"message":"nope"}}`)
					return
				}
				models(w, o.models...)
			case "/v1/chat/completions":
				b, _ := io.ReadAll(r.Body)
				if strings.Contains(string(b), "stream_options") {
					sawSO.Add(1)
					if o.rejectSO {
						w.WriteHeader(http.StatusBadRequest)
						_, _ = io.WriteString(w, `{"object":"error","message":"stream_options not supported"}`)
						return
					}
				}
				if o.noUsage {
					sse(w, roleEv, contentEv("Hi"), finishEv, "data: [DONE]")
					return
				}
				goodStream(w)
			}
		}
	}
	tests := []struct {
		name    string
		opts    srvOpts
		model   string
		wantErr string
		check   func(t *testing.T, info PreflightInfo, c *Client, sawSO *atomic.Int32)
	}{
		{name: "model supplied by the list", opts: srvOpts{models: []string{"qwen"}},
			check: func(t *testing.T, info PreflightInfo, c *Client, _ *atomic.Int32) {
				if info.Model != "qwen" || c.Model() != "qwen" || !info.StreamOptions || !info.Usage || info.TTFT <= 0 {
					t.Errorf("info %+v, client model %q", info, c.Model())
				}
			}},
		{name: "model confirmed", model: "b", opts: srvOpts{models: []string{"a", "b"}},
			check: func(t *testing.T, info PreflightInfo, _ *Client, _ *atomic.Int32) {
				if info.Model != "b" || len(info.Models) != 2 {
					t.Errorf("info %+v", info)
				}
			}},
		{name: "model not served", model: "c", opts: srvOpts{models: []string{"a", "b"}}, wantErr: `model "c" is not served`},
		{name: "ambiguous", opts: srvOpts{models: []string{"a", "b"}}, wantErr: "several models (a, b)"},
		{name: "no model", opts: srvOpts{models: []string{}}, wantErr: "lists no model"},
		{name: "unauthorized", opts: srvOpts{modelsStatus: 401}, wantErr: "check api_key"},
		{name: "models missing but model set", model: "m", opts: srvOpts{modelsStatus: 404},
			check: func(t *testing.T, info PreflightInfo, _ *Client, _ *atomic.Int32) {
				if info.Model != "m" || len(info.Notes) == 0 {
					t.Errorf("info %+v", info)
				}
			}},
		{name: "stream_options rejected", opts: srvOpts{models: []string{"m"}, rejectSO: true, noUsage: true},
			check: func(t *testing.T, info PreflightInfo, c *Client, sawSO *atomic.Int32) {
				if info.StreamOptions || c.StreamOptions() || info.Usage {
					t.Errorf("info %+v", info)
				}
				// Later requests leave the option out and count client-side.
				before := sawSO.Load()
				cn := c.NewConn()
				defer cn.Close()
				res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("a b c")}}}})
				if res.ErrKind != "" || sawSO.Load() != before || !res.ClientCounted || res.PromptTokens != 3 || res.CompletionTokens != 1 {
					t.Errorf("after fallback: %+v (stream_options sent %d times)", res, sawSO.Load()-before)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sawSO atomic.Int32
			ts := newTestServer(t, handler(tc.opts, &sawSO))
			c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: tc.model, APIKey: "sk-secret-123", Counter: wordCounter{}})
			info, err := c.Preflight(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "sk-secret-123") {
					t.Fatalf("error leaks the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, info, c, &sawSO)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		c := mustClient(t, Config{BaseURL: "http://user:pw-secret@" + closedAddr(t) + "/v1"})
		_, err := c.Preflight(context.Background())
		if err == nil || !strings.Contains(err.Error(), "cannot reach") || strings.Contains(err.Error(), "pw-secret") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestResetPrefixCache(t *testing.T) {
	var resets atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/reset_prefix_cache" && r.Header.Get("Authorization") == "Bearer k" {
			resets.Add(1)
			return
		}
		http.NotFound(w, r)
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", APIKey: "k"})
	if err := c.ResetPrefixCache(context.Background()); err != nil || resets.Load() != 1 {
		t.Fatalf("reset: %v (%d)", err, resets.Load())
	}
	c = mustClient(t, Config{BaseURL: ts.URL + "/v1"}) // no key: the server says 404
	if err := c.ResetPrefixCache(context.Background()); err == nil || !strings.Contains(err.Error(), "VLLM_SERVER_DEV_MODE") {
		t.Fatalf("err %v", err)
	}
}

func TestBasicAuthFromURL(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		goodStream(w)
	})
	c := mustClient(t, Config{BaseURL: strings.Replace(ts.URL, "http://", "http://user:pw@", 1) + "/v1"})
	if strings.Contains(c.base, "pw") {
		t.Fatalf("base keeps the password: %s", c.base)
	}
	cn := c.NewConn()
	defer cn.Close()
	if res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}}); res.ErrKind != "" {
		t.Fatalf("%s: %s", res.ErrKind, res.ErrMessage)
	}
}

func TestNewErrors(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "ftp://x/v1"},
		{BaseURL: "127.0.0.1:8000/v1"},
		{BaseURL: "http://x/v1", API: "responses"},
		{BaseURL: "http://x/v1", API: "completions", CompletionsTemplate: "{{content}}"},
		{BaseURL: "http://x/v1", ExtraBody: map[string]any{"f": func() {}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

func TestITL(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want time.Duration
	}{
		{Result{TTFT: 10, End: 110, CompletionTokens: 11}, 10},
		{Result{TTFT: 10, End: 10, CompletionTokens: 1}, 0},
		{Result{TTFT: 0, End: 0, CompletionTokens: 5}, 0},
	} {
		if got := tc.r.ITL(); got != tc.want {
			t.Errorf("ITL(%+v) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

// callCounter counts words and remembers what it was asked to count.
type callCounter struct {
	mu    sync.Mutex
	calls map[int]int // text length -> calls
}

func (c *callCounter) Count(s string) int {
	c.mu.Lock()
	c.calls[len(s)]++
	c.mu.Unlock()
	return len(strings.Fields(s))
}

func TestClientCountingCachesDocuments(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		sse(w, contentEv("one two"), finishEv, "data: [DONE]")
	})
	cc := &callCounter{calls: map[int]int{}}
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Counter: cc})
	cn := c.NewConn()
	defer cn.Close()
	doc := NewText(strings.Repeat("word ", 2000)) // 10000 bytes, 2000 tokens
	for i := range 3 {
		res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("Read: "), doc}}}})
		if res.ErrKind != "" || !res.ClientCounted || res.PromptTokens != 2001 || res.CompletionTokens != 2 {
			t.Fatalf("request %d: %+v", i, res)
		}
	}
	if n := cc.calls[doc.Len()]; n != 1 {
		t.Errorf("the document was counted %d times, want once", n)
	}
	// A caller that knows the prompt's size saves the count altogether.
	res := cn.Do(context.Background(), Request{PromptTokens: 77, Messages: []Message{{Role: "user", Parts: []*Text{NewText("x y")}}}})
	if res.PromptTokens != 77 {
		t.Errorf("PromptTokens hint ignored: %d", res.PromptTokens)
	}
}

// A server that closes idle keep-alive connections (uvicorn does after 5 s)
// must cost the next request a dial, not an error.
func TestServerClosesIdleConnection(t *testing.T) {
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { goodStream(w) }))
	ts.Config.IdleTimeout = 30 * time.Millisecond
	ts.Start()
	defer ts.Close()
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1"})
	cn := c.NewConn()
	defer cn.Close()
	req := Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}}
	for i := range 3 {
		res := cn.Do(context.Background(), req)
		if res.ErrKind != "" {
			t.Fatalf("request %d after an idle close: %s: %s", i, res.ErrKind, res.ErrMessage)
		}
		if i > 0 && res.Connect == 0 {
			t.Errorf("request %d: Connect 0, but the server had closed the connection", i)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package openai

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// url.Parse quotes the whole URL, userinfo included, in its errors.
func TestNewErrorHidesURLPassword(t *testing.T) {
	for _, u := range []string{
		"http://user:s3cret-pw@host:bad/v1",
		"http://user:s3cret-pw@ho st/v1",
		"http://user:s3cret-pw@host/v1\x7f",
	} {
		_, err := New(Config{BaseURL: u})
		if err == nil {
			t.Fatalf("New(%q): no error", u)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("New(%q): error shows the password: %v", u, err)
		}
	}
}

// Servers and gateways sometimes echo the credentials they reject; the
// client's messages must not carry them on.
func TestErrorMessagesHideSecrets(t *testing.T) {
	const key, hdr, pw = "sk-planted-key-123", "hdr-planted-456", "pw-planted-789"
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"bad credentials: `+r.Header.Get("Authorization")+` / `+r.Header.Get("X-Secret")+`"}}`)
	})
	for _, cfg := range []Config{
		{BaseURL: ts.URL + "/v1", Model: "m", APIKey: key, Headers: map[string]string{"X-Secret": hdr}},
		{BaseURL: strings.Replace(ts.URL, "http://", "http://user:"+pw+"@", 1) + "/v1", Model: "m"},
	} {
		c := mustClient(t, cfg)
		cn := c.NewConn()
		res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
		cn.Close()
		if res.ErrKind != "http_401" {
			t.Fatalf("kind %q", res.ErrKind)
		}
		_, perr := c.Preflight(context.Background())
		if perr == nil {
			t.Fatal("preflight: no error")
		}
		basic := base64.StdEncoding.EncodeToString([]byte("user:" + pw))
		for _, s := range []string{key, hdr, pw, basic} {
			if strings.Contains(res.ErrMessage, s) {
				t.Errorf("ErrMessage %q carries a secret", res.ErrMessage)
			}
			if strings.Contains(perr.Error(), s) {
				t.Errorf("preflight error %q carries a secret", perr)
			}
		}
	}
}

// The idle timeout bounds the gap between events (docs/language.md,
// timeouts): keep-alive comments such as ": ping" are not events and must
// not hold a stalled stream open forever.
func TestIdleTimeoutIgnoresComments(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, contentEv("a"))
		f := w.(http.Flusher)
		stop := time.After(5 * time.Second)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = io.WriteString(w, ": ping\n\n")
				f.Flush()
			}
		}
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", IdleTimeout: 200 * time.Millisecond})
	cn := c.NewConn()
	defer cn.Close()
	t0 := time.Now()
	res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
	if res.ErrKind != metrics.ErrTimeoutIdle {
		t.Fatalf("kind %q (%s) after %v, want %s", res.ErrKind, res.ErrMessage, time.Since(t0), metrics.ErrTimeoutIdle)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
}

// Events keep the stream alive: a steady stream slower per read than nothing
// but faster than the idle limit per event succeeds.
func TestIdleTimeoutResetByEvents(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		evs := []string{}
		for range 8 {
			evs = append(evs, contentEv("a"), "", "", "", "", "", "", "", "", "", "") // ≈50 ms apart
		}
		sse(w, append(evs, finishEv, usageEv, "data: [DONE]")...)
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", IdleTimeout: 2 * time.Second})
	cn := c.NewConn()
	defer cn.Close()
	res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
	if res.ErrKind != "" || res.Chunks != 8 {
		t.Fatalf("kind %q (%s), chunks %d", res.ErrKind, res.ErrMessage, res.Chunks)
	}
}

// vLLM sends prompt_tokens_details only with --enable-prompt-tokens-details:
// a usage object without it says nothing about the cache.
func TestCachedTokensReported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		usage string
		want  bool
		cache int
	}{
		{"details", usageEv, true, 4},
		{"details with zero", `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":0}}}`, true, 0},
		{"details null", `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":null}}`, false, 0},
		{"no details", `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3}}`, false, 0},
		{"details without cached_tokens", `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"audio_tokens":0}}}`, false, 0},
		{"cached_tokens null", `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":null}}}`, false, 0},
		{"no usage", "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := []string{contentEv("a"), finishEv}
			if tc.usage != "" {
				evs = append(evs, tc.usage)
			}
			evs = append(evs, "data: [DONE]")
			ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) { sse(w, evs...) })
			c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", Counter: wordCounter{}})
			cn := c.NewConn()
			defer cn.Close()
			res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
			if res.ErrKind != "" {
				t.Fatalf("%s: %s", res.ErrKind, res.ErrMessage)
			}
			if res.CachedReported != tc.want || res.CachedTokens != tc.cache {
				t.Errorf("CachedReported %v cached %d, want %v %d", res.CachedReported, res.CachedTokens, tc.want, tc.cache)
			}
		})
	}
}

// A credential cut by the message's truncation must not leave its start.
func TestErrorMessageSecretAtTruncation(t *testing.T) {
	const key = "sk-planted-key-123"
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"message":"`+strings.Repeat("x", 188)+r.Header.Get("Authorization")+`"}}`)
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", APIKey: key})
	cn := c.NewConn()
	defer cn.Close()
	res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
	if res.ErrKind != "http_403" || strings.Contains(res.ErrMessage, "sk-pl") {
		t.Fatalf("kind %q message %q", res.ErrKind, res.ErrMessage)
	}
}

// A server that accepts TCP but never completes the TLS handshake has not
// given a connection within connect: that is timeout_connect.
func TestTLSHandshakeTimeoutIsConnectTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }() // hold it, say nothing
		}
	}()
	c := mustClient(t, Config{BaseURL: "https://" + l.Addr().String() + "/v1", Model: "m", ConnectTimeout: 150 * time.Millisecond})
	cn := c.NewConn()
	defer cn.Close()
	t0 := time.Now()
	res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
	if res.ErrKind != metrics.ErrTimeoutConnect {
		t.Fatalf("kind %q (%s), want %s", res.ErrKind, res.ErrMessage, metrics.ErrTimeoutConnect)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
}

// FastAPI-based servers that forbid unknown fields answer 422, not 400: the
// stream_options fallback must cover them too.
func TestPreflightStreamOptionsRejectedWith422(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			models(w, "m")
		case "/v1/chat/completions":
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), "stream_options") {
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = io.WriteString(w, `{"detail":[{"loc":["body","stream_options"],"msg":"extra fields not permitted"}]}`)
				return
			}
			sse(w, contentEv("Hi"), finishEv, "data: [DONE]")
		}
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Counter: wordCounter{}})
	info, err := c.Preflight(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.StreamOptions || c.StreamOptions() {
		t.Errorf("stream_options still on: %+v", info)
	}
}

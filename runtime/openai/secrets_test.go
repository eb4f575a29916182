package openai

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// echoMode is one way a server can hand a request's credentials back inside
// what becomes an error message.
type echoMode struct {
	name    string
	kind    string // the ErrKind the request must end with
	respond func(w http.ResponseWriter, msg string)
}

// echoModes covers every place a server's words reach ErrMessage.
var echoModes = []echoMode{
	{"4xx JSON body, escaped", "http_401", func(w http.ResponseWriter, msg string) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"`+jsonEscapeAll(msg)+`"}}`)
	}},
	{"5xx plain body", "http_500", func(w http.ResponseWriter, msg string) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, msg+strings.Repeat(" tail", 100))
	}},
	{"error object in a 200 stream", "server_error", func(w http.ResponseWriter, msg string) {
		sse(w, `data: {"error":{"message":"`+jsonEscapeAll(msg)+`"}}`)
	}},
	{"malformed event in a 200 stream", "malformed", func(w http.ResponseWriter, msg string) {
		sse(w, "data: "+msg)
	}},
	{"response header quoted by the transport", "connect", func(w http.ResponseWriter, msg string) {
		conn, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		// Go's transport quotes a Content-Length it cannot read.
		_, _ = io.WriteString(bw, "HTTP/1.1 200 OK\r\nContent-Length: "+msg+"\r\n\r\n")
		_ = bw.Flush()
	}},
}

// jsonEscapeAll writes every byte as \u00XX, as some servers do: the secret's
// raw bytes never appear in the body, only in its decoded message.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\u%04x`, s[i])
	}
	return b.String()
}

// echoed is what a server can learn of a request's credentials: the
// Authorization token, the Basic pair decoded, and the X-Secret header.
func echoed(r *http.Request) []string {
	var out []string
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		out = append(out, tok)
	}
	if tok, ok := strings.CutPrefix(auth, "Basic "); ok {
		out = append(out, tok)
		if pair, err := base64.StdEncoding.DecodeString(tok); err == nil {
			out = append(out, string(pair))
		}
	}
	if h := r.Header.Get("X-Secret"); h != "" {
		out = append(out, h)
	}
	return out
}

// pieces returns every n-byte piece of s (s itself when shorter).
func pieces(s string, n int) []string {
	if len(s) <= n {
		return []string{s}
	}
	var out []string
	for i := 0; i+n <= len(s); i++ {
		out = append(out, s[i:i+n])
	}
	return out
}

// leaks returns the first 6-byte piece of a secret found in text.
func leaks(text string, secrets []string) string {
	for _, s := range secrets {
		for _, p := range pieces(s, 6) {
			if strings.Contains(text, p) {
				return p
			}
		}
	}
	return ""
}

// echoCase is one target's credentials and the values that must stay hidden.
type echoCase struct {
	name    string
	cfg     func(url string) Config
	secrets []string
}

func echoCases() []echoCase {
	const key, hdr = "sk-live/Zq8vT3xW9pL2mR7cKd", "hdr-Jf4kQ8zN2wX6tBv"
	const user, pw = "tok-Rm3Lx9VbGe5", "pw-Hq7Zc2Kp5NsW"
	withUser := func(url, info string) string { return strings.Replace(url, "http://", "http://"+info+"@", 1) + "/v1" }
	return []echoCase{
		{"api key and header", func(u string) Config {
			return Config{BaseURL: u + "/v1", Model: "m", APIKey: key, Headers: map[string]string{"X-Secret": hdr}}
		}, []string{key, hdr}},
		{"URL user and password", func(u string) Config {
			return Config{BaseURL: withUser(u, user+":"+pw), Model: "m"}
		}, []string{user, pw, base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))}},
		{"URL token as user name", func(u string) Config {
			return Config{BaseURL: withUser(u, user), Model: "m"}
		}, []string{user, base64.StdEncoding.EncodeToString([]byte(user + ":"))}},
	}
}

// Whatever a server echoes, wherever it echoes it and wherever the 200-byte
// cut falls, ErrMessage and Preflight's error carry no piece of a credential:
// messages are scrubbed first and cut after.
func TestEchoedSecretsNeverReachMessages(t *testing.T) {
	for _, ec := range echoCases() {
		for _, mode := range echoModes {
			t.Run(ec.name+"/"+mode.name, func(t *testing.T) {
				var pad, which atomic.Int64
				ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/models" {
						models(w, "m")
						return
					}
					creds := echoed(r)
					msg := strings.Repeat("x", int(pad.Load())) + creds[int(which.Load())%len(creds)]
					mode.respond(w, msg)
				})
				c := mustClient(t, ec.cfg(ts.URL))
				cn := c.NewConn()
				defer cn.Close()
				// Every offset from 90 to 210 puts the echoed value across
				// the cut for one of the modes' prefixes.
				for p := 90; p <= 210; p += 4 {
					for w := range 3 {
						pad.Store(int64(p))
						which.Store(int64(w))
						res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
						if res.ErrKind != mode.kind {
							t.Fatalf("pad %d: kind %q (%s), want %s", p, res.ErrKind, res.ErrMessage, mode.kind)
						}
						if piece := leaks(res.ErrMessage, ec.secrets); piece != "" {
							t.Fatalf("pad %d: ErrMessage carries %q: %s", p, piece, res.ErrMessage)
						}
					}
				}
				pad.Store(150)
				_, err := c.Preflight(context.Background())
				if err == nil {
					t.Fatal("preflight: no error")
				}
				if piece := leaks(err.Error(), ec.secrets); piece != "" {
					t.Fatalf("preflight error carries %q: %v", piece, err)
				}
			})
		}
	}
}

// The model list's error body is scrubbed before it is decoded and cut too.
func TestEchoedSecretsNeverReachModelListErrors(t *testing.T) {
	for _, ec := range echoCases() {
		t.Run(ec.name, func(t *testing.T) {
			var pad, which atomic.Int64
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				creds := echoed(r)
				msg := strings.Repeat("x", int(pad.Load())) + creds[int(which.Load())%len(creds)]
				echoModes[0].respond(w, msg)
			})
			c := mustClient(t, ec.cfg(ts.URL))
			for p := 170; p <= 200; p += 2 {
				for w := range 3 {
					pad.Store(int64(p))
					which.Store(int64(w))
					_, err := c.Preflight(context.Background())
					if err == nil || !strings.Contains(err.Error(), "http_401") {
						t.Fatalf("pad %d: preflight error %v, want http_401", p, err)
					}
					if piece := leaks(err.Error(), ec.secrets); piece != "" {
						t.Fatalf("pad %d: preflight error carries %q: %v", p, piece, err)
					}
				}
			}
			if err := c.ResetPrefixCache(context.Background()); err == nil {
				t.Fatal("reset: no error")
			} else if piece := leaks(err.Error(), ec.secrets); piece != "" {
				t.Fatalf("reset error carries %q: %v", piece, err)
			}
		})
	}
}

// The pieces helper is what the tests above rely on.
func TestPieces(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{{"abc", 1}, {"abcdef", 1}, {"abcdefg", 2}, {strconv.Itoa(1234567890), 5}} {
		if got := len(pieces(tc.s, 6)); got != tc.want {
			t.Errorf("pieces(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

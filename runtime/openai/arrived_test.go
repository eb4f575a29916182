package openai

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// A 200 answer that is no event stream gets a message saying what came:
// its content type and its first bytes, escaped and without secrets.
func TestSayWhatArrived(t *testing.T) {
	const key = "sk-arrived-secret"
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []string
		wantNot     []string
	}{
		{
			name:        "a proxy's login page",
			contentType: "text/html; charset=utf-8",
			body:        "<!DOCTYPE html>\n<html>\n  <head><title>Sign in</title></head>\n<body>token " + key + "</body></html>\n",
			want:        []string{`an HTML page (Content-Type "text/html; charset=utf-8")`, "; it begins: <!DOCTYPE html> <html> <head><title>Sign in</title></head> <body>token (sensitive)</body></html>"},
			wantNot:     []string{key},
		},
		{
			name:        "a server that ignored stream: true",
			contentType: "application/json",
			body:        `{"id":"cmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("Hello ", 40) + `"},"finish_reason":"stop"}]}`,
			want:        []string{`one JSON document (Content-Type "application/json")`, `ignores "stream": true`, `; it begins: {"id":"cmpl-1","object":"chat.completion",`, `"role":"assistant","conte…`},
		},
		{
			name: "terminal escapes and no content type",
			body: "\x1b[2J\x1b]0;owned\x07plain text \xff",
			want: []string{`no events (no Content-Type)`, `; it begins: \x1b[2J\x1b]0;owned\x07plain text \xff`},
			// The raw bytes must not reach a terminal.
			wantNot: []string{"\x1b", "\x07", "\xff"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = nil
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				_, _ = io.WriteString(w, tc.body)
			})
			c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m", APIKey: key})
			cn := c.NewConn()
			defer cn.Close()
			res := cn.Do(context.Background(), Request{Messages: []Message{{Role: "user", Parts: []*Text{NewText("x")}}}})
			if res.ErrKind != metrics.ErrMalformed {
				t.Errorf("kind %q, want %q (%s)", res.ErrKind, metrics.ErrMalformed, res.ErrMessage)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.ErrMessage, w) {
					t.Errorf("message %q lacks %q", res.ErrMessage, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(res.ErrMessage, w) {
					t.Errorf("message %q carries %q", res.ErrMessage, w)
				}
			}
		})
	}
}

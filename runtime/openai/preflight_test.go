package openai

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/internal/msgcheck"
)

// servesUnderV1 is a server like vLLM: everything under /v1, 404 elsewhere.
func servesUnderV1(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/models":
		models(w, "m")
	case "/v1/chat/completions":
		goodStream(w)
	default:
		http.NotFound(w, r)
	}
}

// A base_url without /v1 (the commonest slip) finds 404s where the server
// keeps its API: preflight's error says to add /v1, and gives the URL.
func TestPreflightSuggestsV1(t *testing.T) {
	ts := newTestServer(t, servesUnderV1)
	none := newTestServer(t, http.NotFound)
	tests := []struct {
		name, base, model string
		hint              string // "": no /v1 hint
	}{
		{"model from the list", ts.URL, "", `add /v1: base_url = "` + ts.URL + `/v1"`},
		{"model set", ts.URL, "m", `add /v1: base_url = "` + ts.URL + `/v1"`},
		{"trailing slash", ts.URL + "/", "", `add /v1: base_url = "` + ts.URL + `/v1"`},
		{"a path prefix", ts.URL + "/api", "", `add /v1: base_url = "` + ts.URL + `/api/v1"`},
		{"already /v1", none.URL + "/v1", "", ""},
		{"already /v1, model set", none.URL + "/v1/", "m", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustClient(t, Config{BaseURL: tt.base, Model: tt.model}).Preflight(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, "http_404") {
				t.Errorf("error does not say 404: %s", msg)
			}
			if tt.hint != "" && !strings.Contains(msg, tt.hint) {
				t.Errorf("error lacks %q: %s", tt.hint, msg)
			}
			if tt.hint == "" && (strings.Contains(msg, "add /v1") || strings.Contains(msg, "/v1/v1")) {
				t.Errorf("error suggests /v1 for a base_url that has it: %s", msg)
			}
		})
	}
	// With /v1 added as suggested, the same server passes.
	if _, err := mustClient(t, Config{BaseURL: ts.URL + "/v1"}).Preflight(context.Background()); err != nil {
		t.Fatalf("with /v1: %v", err)
	}
}

// dropConn closes the connection without an answer.
func dropConn(w http.ResponseWriter, _ *http.Request) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// Every way preflight and a prefix-cache reset fail gives a message that
// names each step once: no "preflight: preflight:", no "reset prefix
// cache: reset prefix cache:".
func TestFailureMessagesSayEachStepOnce(t *testing.T) {
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	onPath := func(path string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path {
				h(w, r)
				return
			}
			servesUnderV1(w, r)
		}
	}
	refused := "http://" + closedAddr(t) + "/v1"
	tests := []struct {
		name    string
		handler http.HandlerFunc
		base    string // overrides the server's URL + /v1
		model   string
		reset   bool // the step is the prefix-cache reset, not preflight
	}{
		{name: "refused", base: refused},
		{name: "no /v1", handler: servesUnderV1, base: "-"},
		{name: "401", handler: status(http.StatusUnauthorized, `{"error":{"message":"bad key"}}`)},
		{name: "models 500", handler: onPath("/v1/models", status(500, "boom"))},
		{name: "models not JSON", handler: onPath("/v1/models", status(200, "<html>"))},
		{name: "models dropped", handler: onPath("/v1/models", dropConn)},
		{name: "unknown model", handler: servesUnderV1, model: "x"},
		{name: "probe 500", handler: onPath("/v1/chat/completions", status(500, "boom"))},
		{name: "probe dropped", handler: onPath("/v1/chat/completions", dropConn), model: "m"},
		{name: "reset refused", base: refused, reset: true},
		{name: "reset dropped", handler: onPath("/reset_prefix_cache", dropConn), reset: true},
		{name: "reset 404", handler: servesUnderV1, reset: true},
		{name: "reset 500", handler: onPath("/reset_prefix_cache", status(500, "boom")), reset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if tt.handler != nil {
				ts := newTestServer(t, tt.handler)
				base = strings.Replace(tt.base, "-", ts.URL, 1)
				if tt.base == "" {
					base = ts.URL + "/v1"
				}
			}
			c := mustClient(t, Config{BaseURL: base, Model: tt.model})
			var err error
			if tt.reset {
				err = c.ResetPrefixCache(context.Background())
			} else {
				_, err = c.Preflight(context.Background())
			}
			if err == nil {
				t.Fatal("no error")
			}
			if r := msgcheck.Repeated(err.Error()); r != "" {
				t.Errorf("%q repeats itself: %s", r, err)
			}
			// The sweep names a failed reset; the client names its request.
			if tt.reset && strings.HasPrefix(strings.ToLower(err.Error()), "reset") {
				t.Errorf("the error names the step its caller names: %s", err)
			}
		})
	}
}

package openai

import (
	"context"
	"net/http"
	"strings"
	"testing"
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

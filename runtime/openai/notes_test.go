package openai

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"
)

// Preflight's notes are data for the caller to print: each one a complete
// sentence, returned with an error too, and free of credentials.
func TestPreflightNotes(t *testing.T) {
	const noCached = `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}`
	tests := []struct {
		name      string
		model     string
		counter   bool
		models    func(w http.ResponseWriter)
		stream    func(w http.ResponseWriter, body string)
		wantNotes []string // substrings, one note each, in order
		wantErr   string
	}{
		{
			name:      "model from the list, full usage",
			models:    func(w http.ResponseWriter) { models(w, "qwen") },
			stream:    func(w http.ResponseWriter, _ string) { goodStream(w) },
			wantNotes: []string{`Model "qwen" is taken from /v1/models`},
		},
		{
			name:      "model list unavailable",
			model:     "m",
			models:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
			stream:    func(w http.ResponseWriter, _ string) { goodStream(w) },
			wantNotes: []string{`/v1/models: http_404: (empty body)); model "m" is used as configured.`},
		},
		{
			name:   "stream_options rejected, no usage, counted",
			model:  "m",
			models: func(w http.ResponseWriter) { models(w, "m") },
			stream: func(w http.ResponseWriter, body string) {
				if strings.Contains(body, "stream_options") {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				sse(w, roleEv, contentEv("Hi"), finishEv, "data: [DONE]")
			},
			counter:   true,
			wantNotes: []string{"The server rejects stream_options", "counted client-side with the corpus tokenizer."},
		},
		{
			name:      "no usage, no tokenizer",
			model:     "m",
			models:    func(w http.ResponseWriter) { models(w, "m") },
			stream:    func(w http.ResponseWriter, _ string) { sse(w, roleEv, contentEv("Hi"), finishEv, "data: [DONE]") },
			wantNotes: []string{"no tokenizer is set, so token counts will be 0."},
		},
		{
			name:      "usage without cached tokens, no text",
			model:     "m",
			models:    func(w http.ResponseWriter) { models(w, "m") },
			stream:    func(w http.ResponseWriter, _ string) { sse(w, roleEv, finishEv, noCached, "data: [DONE]") },
			wantNotes: []string{"does not report cached tokens", "The one-token request produced no text."},
		},
		{
			name:      "notes come with an error",
			model:     "m",
			models:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
			stream:    func(w http.ResponseWriter, _ string) { w.WriteHeader(http.StatusInternalServerError) },
			wantNotes: []string{"The model list is unavailable"},
			wantErr:   "http_500",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1/models":
					tc.models(w)
				case "/v1/chat/completions":
					b, _ := io.ReadAll(r.Body)
					tc.stream(w, string(b))
				}
			})
			cfg := Config{BaseURL: ts.URL + "/v1", Model: tc.model, APIKey: "sk-notes-secret"}
			if tc.counter {
				cfg.Counter = wordCounter{}
			}
			info, err := mustClient(t, cfg).Preflight(context.Background())
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if len(info.Notes) != len(tc.wantNotes) {
				t.Fatalf("notes %q, want %d", info.Notes, len(tc.wantNotes))
			}
			for i, n := range info.Notes {
				if !strings.Contains(n, tc.wantNotes[i]) {
					t.Errorf("note %d %q lacks %q", i, n, tc.wantNotes[i])
				}
				if !isSentence(n) {
					t.Errorf("note %q is not a complete sentence", n)
				}
				if strings.Contains(n, "sk-notes-secret") {
					t.Errorf("note %q carries the key", n)
				}
			}
		})
	}
}

// isSentence: starts with a capital letter, ends with a full stop.
func isSentence(s string) bool {
	r := []rune(s)
	return len(r) > 1 && unicode.IsUpper(r[0]) && strings.HasSuffix(s, ".")
}

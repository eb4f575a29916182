package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	tkz "github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// The simulator serves vLLM's /tokenize and /detokenize with its own
// encoding, so tokenizer = "server" works against it as against vLLM.
func TestTokenizeEndpoints(t *testing.T) {
	cfg := testConfig()
	cfg.Tokenizer = tkz.CL100KBase
	s := start(t, cfg)
	root := strings.TrimSuffix(s.BaseURL(), "/v1")
	srvTok, err := tkz.Load(tkz.Server, tkz.Options{ServerURL: root, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	local, err := tkz.Load(tkz.CL100KBase, tkz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := "Call me Ishmael. Some years ago—never mind how long precisely…"
	ids, err := tkz.EncodeErr(context.Background(), srvTok, text)
	if err != nil {
		t.Fatal(err)
	}
	if want := local.Encode(text); !slices.Equal(ids, want) {
		t.Errorf("tokens %v, want %v", ids, want)
	}
	if n, err := tkz.CountErr(context.Background(), srvTok, text); err != nil || n != len(ids) {
		t.Errorf("count %d (%v), want %d", n, err, len(ids))
	}
	if back, err := tkz.DecodeErr(context.Background(), srvTok, ids); err != nil || back != text {
		t.Errorf("detokenize %q (%v), want %q", back, err, text)
	}
	tests := []struct {
		path   string
		body   any
		status int
	}{
		{"/tokenize", map[string]any{"model": "other", "prompt": "x"}, http.StatusNotFound},
		{"/tokenize", map[string]any{"messages": []any{}}, http.StatusBadRequest},
		{"/tokenize", "not an object", http.StatusBadRequest},
		{"/detokenize", map[string]any{"model": "other", "tokens": []int{1}}, http.StatusNotFound},
		{"/tokenize", map[string]any{"prompt": ""}, http.StatusOK},
	}
	for _, tc := range tests {
		if got := post(t, root+tc.path, tc.body); got.status != tc.status {
			t.Errorf("%s %v: status %d, want %d (%s)", tc.path, tc.body, got.status, tc.status, got.body)
		}
	}
}

package runtime

import (
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// A "server" corpus is counted by its target: root URL, model and
// credentials come from the target unless the options already name a server.
func TestTokenizerOptions(t *testing.T) {
	target := &spec.Target{BaseURL: "https://gpu.example:8443/v1/", Model: "qwen", APIKey: "sk-1", Headers: map[string]string{"X-Team": "kv"}}
	tests := []struct {
		name       string
		in         tokenizer.Options
		target     *spec.Target
		wantURL    string
		wantModel  string
		wantAuth   string
		wantBase   string
		wantClient bool
	}{
		{"from the target", tokenizer.Options{BaseDir: "/d"}, target, "https://gpu.example:8443", "qwen", "Bearer sk-1", "/d", true},
		{"already set", tokenizer.Options{ServerURL: "http://mirror", Model: "m"}, target, "http://mirror", "m", "", "", false},
		{"simulator", tokenizer.Options{}, &spec.Target{Simulator: &spec.Simulator{}}, "", "", "", "", false},
		{"no target", tokenizer.Options{}, nil, "", "", "", "", false},
	}
	for _, tc := range tests {
		got, err := TokenizerOptions(tc.in, tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.ServerURL != tc.wantURL || got.Model != tc.wantModel || got.Header.Get("Authorization") != tc.wantAuth ||
			got.BaseDir != tc.wantBase || (got.HTTPClient != nil) != tc.wantClient {
			t.Errorf("%s: %+v", tc.name, got)
		}
		if tc.wantAuth != "" && got.Header.Get("X-Team") != "kv" {
			t.Errorf("%s: headers %v", tc.name, got.Header)
		}
	}
}

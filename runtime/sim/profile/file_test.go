package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeProfileFile(t *testing.T) {
	l, err := Decode([]byte(`{"format": "mrqa-profile/1", "base": "seed-vllm",
		"params": {"step_fixed": "12ms", "prefill_token_us": 31.5, "kv_cache_tokens": 4096, "model": "m"},
		"calibration": {"anything": [1, 2]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Base != SeedVLLM || l.Params["step_fixed"] != 12*time.Millisecond || l.Params["prefill_token_us"] != 31.5 ||
		l.Params["kv_cache_tokens"] != 4096.0 || l.Params["model"] != "m" {
		t.Errorf("decoded %+v", l)
	}
}

func TestDecodeProfileFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"syntax", "{\"format\": \"mrqa-profile/1\",\n  \"base\": quickstart}", "line 2, column 11"},
		{"format", `{"format": "v0", "base": "quickstart"}`, `format "v0"`},
		{"base", `{"format": "mrqa-profile/1", "base": "h100"}`, `unknown simulator profile "h100"`},
		{"unknown top-level", `{"format": "mrqa-profile/1", "base": "quickstart", "parms": {}}`, `unknown field "parms"`},
		{"unknown param", `{"format": "mrqa-profile/1", "base": "quickstart", "params": {"kv_cache_tokns": 1}}`, `unknown simulator field "kv_cache_tokns"`},
		{"duration", `{"format": "mrqa-profile/1", "base": "quickstart", "params": {"step_fixed": 0.01}}`, "params.step_fixed: want a duration string"},
		{"range", `{"format": "mrqa-profile/1", "base": "quickstart", "params": {"prefill_token_us": -1}}`, "finite number ≥ 0"},
		// What follows the object would be ignored by the loader but not by
		// whoever reads the file's provenance: one reading, or an error.
		{"trailing data", `{"format": "mrqa-profile/1", "base": "quickstart"}{}`, "goes on after its JSON object ends"},
		{"calibration not an object", `{"format": "mrqa-profile/1", "base": "quickstart", "calibration": "hi"}`, "calibration:"},
		{"calibration source not a string", `{"format": "mrqa-profile/1", "base": "quickstart", "calibration": {"source": 5}}`, "calibration:"},
	} {
		_, err := Decode([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadFileNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fitted.json")
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "fitted.json") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad file: %v", err)
	}
}

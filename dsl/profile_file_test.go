package dsl

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

const fittedProfile = `{"format": "mrqa-profile/1", "base": "seed-vllm",
  "params": {"step_fixed": "12ms", "prefill_token_us": 31.5, "kv_cache_tokens": 4096}}`

// simulatorWith is the valid skeleton with a simulator block of body.
func simulatorWith(body string) string {
	return strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`  base_url = "http://127.0.0.1:8000/v1"`, "  simulator {\n"+body+"\n  }", 1)
}

func TestProfileFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fitted.json"), []byte(fittedProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		want       *spec.Simulator
	}{
		{"file alone", `    profile_file = "fitted.json"`, &spec.Simulator{Profile: "seed-vllm", Clock: "real",
			ProfileFile: filepath.Join(dir, "fitted.json"),
			Params:      map[string]any{"step_fixed": 12 * time.Millisecond, "prefill_token_us": 31.5, "kv_cache_tokens": 4096.0}}},
		{"block overrides", "    profile_file = \"fitted.json\"\n    profile = \"quickstart\"\n    kv_cache_tokens = 8192\n    clock = \"virtual\"",
			&spec.Simulator{Profile: "quickstart", Clock: "virtual", ProfileFile: filepath.Join(dir, "fitted.json"),
				Params: map[string]any{"step_fixed": 12 * time.Millisecond, "prefill_token_us": 31.5, "kv_cache_tokens": 8192.0}}},
	} {
		loaded := LoadSource(filepath.Join(dir, "test.hcl"), []byte(simulatorWith(tc.body)), Options{Env: testEnv})
		if loaded.Diags.HasErrors() {
			t.Fatalf("%s: %v", tc.name, loaded.Diags)
		}
		if got := loaded.File.Scenarios[0].Target.Simulator; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: simulator = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestProfileFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{\n  \"format\": mrqa\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"missing", "absent.json", "absent.json: no such file"},
		{"bad json", "bad.json", "bad.json:2:13: invalid character"},
	} {
		src := simulatorWith(`    profile_file = "` + tc.file + `"`)
		loaded := LoadSource(filepath.Join(dir, "test.hcl"), []byte(src), Options{Env: testEnv})
		var w strings.Builder
		_ = loaded.WriteDiagnostics(&w)
		text := strings.Join(strings.Fields(w.String()), " ")
		line := strings.Count(src[:strings.Index(src, "profile_file")], "\n") + 1
		at := fmt.Sprintf("test.hcl:%d:20", line)
		if !loaded.Diags.HasErrors() || !strings.Contains(text, tc.want) || !strings.Contains(text, at) {
			t.Errorf("%s: diagnostics %s\nwant %q at %s", tc.name, text, tc.want, at)
		}
	}
}

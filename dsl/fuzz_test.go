package dsl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through the parser, the decoder, the
// diagnostic renderer and the formatter: none may panic, and formatting
// must be idempotent.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.hcl"))
	more, _ := filepath.Glob(filepath.Join("..", "scenarios", "*.hcl"))
	for _, path := range append(seeds, more...) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s && errors < 3 || itl_p50 > 1m30s" }`)))
	f.Add([]byte("variable \"k\" {\n  sensitive = true\n  default = \"sk-secret\"\n}\n" + strings.Replace(
		validSkeleton(`  slo "a" { condition = var.k }`), `base_url = "http://127.0.0.1:8000/v1"`,
		"base_url = \"http://127.0.0.1:8000/v1\"\n  headers = { a = \"sk-secret ${var.k}\", b = 1 + \"x\" }", 1)))
	f.Fuzz(func(t *testing.T, src []byte) {
		loaded := LoadSource("fuzz.hcl", src, Options{Env: testEnv, Vars: map[string]string{}})
		var buf bytes.Buffer
		if err := WriteDiagnostics(&buf, loaded.Files, loaded.Diags, true); err != nil {
			t.Fatal(err)
		}
		// The same with secrets hidden from the snippets.
		if err := loaded.WriteDiagnostics(&buf); err != nil {
			t.Fatal(err)
		}
		if loaded.File != nil {
			_ = planText(loaded.File)
		}
		once, diags := Format(src, "fuzz.hcl")
		if diags.HasErrors() {
			return
		}
		twice, _ := Format(once, "fuzz.hcl")
		if !bytes.Equal(once, twice) {
			t.Fatalf("Format is not idempotent:\n%q\n%q", once, twice)
		}
	})
}

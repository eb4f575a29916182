package dsl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeExamples keeps the README's scenario example honest: every
// ```hcl block must load without diagnostics and already be formatted, since
// users copy it as their first file.
func TestReadmeExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for rest := string(b); ; {
		i := strings.Index(rest, "```hcl\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("```hcl\n"):]
		j := strings.Index(rest, "```")
		if j < 0 {
			t.Fatal("unterminated ```hcl block in README.md")
		}
		src := rest[:j]
		rest = rest[j:]
		blocks++
		l := LoadSource("README.hcl", []byte(src), Options{})
		if len(l.Diags) > 0 {
			var out bytes.Buffer
			_ = l.WriteDiagnostics(&out)
			t.Errorf("README example %d:\n%s", blocks, out.String())
		}
		if f, diags := Format([]byte(src), "README.hcl"); diags.HasErrors() || !bytes.Equal(f, []byte(src)) {
			t.Errorf("README example %d is not in canonical format (mrqa fmt)", blocks)
		}
	}
	if blocks == 0 {
		t.Fatal("README.md has no ```hcl example")
	}
}

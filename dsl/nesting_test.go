package dsl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// Hostile nesting gives a diagnostic, never a stack overflow (which no
// recover could catch): in the file, in fmt, in a -var value and in
// -var-files of both kinds.
func TestDeepNesting(t *testing.T) {
	// 100,000 levels overflow the parser's stack; the other shapes take
	// the same path, so 10,000 show it more cheaply.
	const n, m = 100_000, 10_000
	brackets := strings.Repeat("[", n) + strings.Repeat("]", n)
	tests := []struct {
		name string
		src  string
		line int // of the error
	}{
		{"brackets", "locals {\n  x = " + brackets + "\n}\n", 2},
		{"blocks", strings.Repeat("a {\n", n) + strings.Repeat("}\n", n), maxNesting + 1},
		{"parentheses", "locals {\n  x = " + strings.Repeat("(", m) + "1" + strings.Repeat(")", m) + "\n}\n", 2},
		{"objects", "locals {\n  x = " + strings.Repeat("{a = ", m) + "1" + strings.Repeat("}", m) + "\n}\n", 2},
		{"templates", "locals {\n  x = \"" + strings.Repeat(`${"`, m) + strings.Repeat(`"}`, m) + "\"\n}\n", 2},
		{"unclosed", "locals {\n  x = " + strings.Repeat("[", m) + "\n}\n", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loaded := LoadSource("deep.hcl", []byte(tc.src), Options{Env: testEnv})
			checkTooDeep(t, loaded.Diags, tc.line)
			var buf bytes.Buffer
			if err := loaded.WriteDiagnostics(&buf); err != nil || !strings.Contains(buf.String(), "deep.hcl:") {
				t.Errorf("rendered: %v %.200s", err, buf.String())
			}
			out, diags := Format([]byte(tc.src), "deep.hcl")
			checkTooDeep(t, diags, 0)
			if !bytes.Equal(out, []byte(tc.src)) {
				t.Error("Format changed a file it could not parse")
			}
		})
	}
	t.Run("var value", func(t *testing.T) {
		src := "variable \"v\" {\n  type = list(any)\n}\n" + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`)
		loaded := LoadSource("v.hcl", []byte(src), Options{Env: testEnv, Vars: map[string]string{"v": brackets}})
		checkTooDeep(t, loaded.Diags, 1)
	})
	dir := t.TempDir()
	for name, body := range map[string]string{"deep.hcl": "v = " + brackets + "\n", "deep.json": `{"v": ` + brackets + "}"} {
		t.Run("var file "+name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			src := "variable \"v\" {\n  type = list(any)\n}\n" + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`)
			loaded := LoadSource("v.hcl", []byte(src), Options{Env: testEnv, VarFiles: []string{path}})
			checkTooDeep(t, loaded.Diags, 1)
		})
	}
}

// checkTooDeep wants a "Nested too deeply" error on line (0: any line).
func checkTooDeep(t *testing.T, diags hcl.Diagnostics, line int) {
	t.Helper()
	for _, d := range diags {
		if d.Summary == "Nested too deeply" && d.Subject != nil && (line == 0 || d.Subject.Start.Line == line) {
			return
		}
	}
	t.Errorf("no \"Nested too deeply\" error on line %d: %v", line, diags)
}

// Nesting up to the limit is fine; one more level is the error, at the
// opening bracket of the level too many.
func TestNestingLimit(t *testing.T) {
	// The locals block is the first level.
	for _, n := range []int{maxNesting - 2, maxNesting - 1} {
		src := "locals {\n  x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n}\n"
		loaded := LoadSource("ok.hcl", []byte(src), Options{Env: testEnv})
		for _, d := range loaded.Diags {
			if d.Summary == "Nested too deeply" {
				t.Errorf("depth %d: %s", n, d.Detail)
			}
		}
	}
	// The brackets start at column 7; the one opening level 257 is the 256th.
	src := "locals {\n  x = " + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + "\n}\n"
	loaded := LoadSource("deep.hcl", []byte(src), Options{Env: testEnv})
	checkTooDeep(t, loaded.Diags, 2)
	for _, d := range loaded.Diags {
		if d.Summary == "Nested too deeply" && d.Subject.Start.Column != 7+maxNesting-1 {
			t.Errorf("column %d, want %d", d.Subject.Start.Column, 7+maxNesting-1)
		}
	}
}

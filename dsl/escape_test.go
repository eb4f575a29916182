package dsl

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// Control characters in a scenario file reach diagnostics escaped, in the
// snippets and in the messages, so a file cannot drive the terminal.
func TestDiagnosticsEscapeControls(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // in the rendered diagnostics
	}{
		{
			name: "in a string value",
			src:  strings.Replace(validSkeleton(""), `documents = 16 }`, "documents = 16 }\n  tokenizer = \"\x1b[2J\x1b]0;owned\x07bad\"", 1),
			want: []string{"Invalid tokenizer",
				// The carets stay under the expression as printed.
				"  6:   tokenizer = \"\\x1b[2J\\x1b]0;owned\\x07bad\"\n" + strings.Repeat(" ", 19) + strings.Repeat("^", 28) + "\n"},
		},
		{
			name: "in a comment on a failing line",
			src:  strings.Replace(validSkeleton(""), `base_url = "http://127.0.0.1:8000/v1"`, "base_url = \"ftp://x\" # \x1b[31mred\u202e", 1),
			want: []string{`# \x1b[31mred\u202e`, "Invalid URL"},
		},
		{
			name: "as a stray character",
			src:  "target \"t\" {\n  base_url = \"http://127.0.0.1:8000/v1\"\x1b[2J\n}\n",
			want: []string{`\x1b[2J`},
		},
		{
			name: "in a block label",
			src:  strings.Replace(validSkeleton(""), `script "s" {`, "script \"s\x1b[2J\" {", 1),
			want: []string{`s\x1b[2J`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loaded := LoadSource("ctl.hcl", []byte(tc.src), Options{Env: testEnv})
			if !loaded.Diags.HasErrors() {
				t.Fatal("no error")
			}
			for _, color := range []bool{false, true} {
				var buf bytes.Buffer
				if err := WriteDiagnostics(&buf, loaded.Files, loaded.Diags, color); err != nil {
					t.Fatal(err)
				}
				if err := loaded.WriteDiagnostics(&buf); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if color { // the renderer's own colour codes are the only escapes
					for _, code := range []string{ansiBold, ansiRed, ansiYellow, ansiReset} {
						out = strings.ReplaceAll(out, code, "")
					}
				}
				if i := strings.IndexFunc(out, unsafeRune); i >= 0 {
					t.Errorf("color=%v: raw %q at byte %d:\n%s", color, out[i:i+1], i, out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("color=%v: diagnostics lack %q:\n%s", color, w, out)
					}
				}
			}
		})
	}
}

// unsafeRune: what must not reach a terminal from a file.
func unsafeRune(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar)
}

package jsonesc

import (
	"encoding/json"
	"testing"
)

// Every case decodes as encoding/json decodes the same string.
func TestAppendUnescaped(t *testing.T) {
	tests := []struct{ name, raw string }{
		{"plain", `hello`},
		{"empty", ``},
		{"short escapes", `a\"b\\c\/d\be\ff\ng\rh\ti`},
		{"unicode", `caf\u00e9 \u4E16`},
		{"surrogate pair", `\ud83d\ude00!`},
		{"lone high surrogate", `x\ud83dy`},
		{"lone low surrogate", `\ude00`},
		{"high then non-surrogate", `\ud83d\u0041`},
		{"high at end", `\ud83d`},
		{"escape at end", `abc\n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(`"`+tt.raw+`"`), &want); err != nil {
				t.Fatal(err)
			}
			got := string(AppendUnescaped([]byte("pre:"), []byte(tt.raw)))
			if got != "pre:"+want {
				t.Errorf("AppendUnescaped(%q) = %q, want %q", tt.raw, got, "pre:"+want)
			}
		})
	}
}

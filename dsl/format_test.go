package dsl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{
			name: "indent and align",
			in: `target "t" {
base_url="http://127.0.0.1:8000/v1"
    model =   "m" # the model
  api_key= var.k   # secret
      timeouts {
  connect="1s"
first_token = "5m"
 }
}
`,
			want: `target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  model    = "m"   # the model
  api_key  = var.k # secret
  timeouts {
    connect     = "1s"
    first_token = "5m"
  }
}
`,
		},
		{
			name: "expressions",
			in: `locals {
  a = [ 1,2 , 3 ]
  b = {x=1,y = -2}
  c = upper ( "x" )
  d = var.a [ 0 ]
  e = 1+2*-3
  f = !true
  g = [for x in [1] : x]
  h = {}
}
`,
			want: `locals {
  a = [1, 2, 3]
  b = { x = 1, y = -2 }
  c = upper("x")
  d = var.a[0]
  e = 1 + 2 * -3
  f = !true
  g = [for x in [1] : x]
  h = {}
}
`,
		},
		{
			name: "multi-line values and heredocs keep their text",
			in: `script "s" {
opening = <<-EOT
     Keep   this   spacing.
   ${document}
   EOT
questions = [
"a  b",
   "c",
]
}
`,
			want: `script "s" {
  opening = <<-EOT
     Keep   this   spacing.
   ${document}
   EOT
  questions = [
    "a  b",
    "c",
  ]
}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Format([]byte(tt.in), "in.hcl")
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if string(got) != tt.want {
				t.Errorf("Format:\n%s\nwant:\n%s", got, tt.want)
			}
			again, _ := Format(got, "in.hcl")
			if !bytes.Equal(again, got) {
				t.Errorf("not idempotent:\n%s", again)
			}
		})
	}
}

// TestFormatIdempotent formats every parseable test file twice.
func TestFormatIdempotent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.hcl"))
	more, _ := filepath.Glob(filepath.Join("..", "scenarios", "*.hcl"))
	inDirs, _ := filepath.Glob(filepath.Join("..", "scenarios", "*", "*.hcl"))
	files = append(append(files, more...), inDirs...)
	checked := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		once, diags := Format(src, path)
		if diags.HasErrors() {
			if !bytes.Equal(once, src) {
				t.Errorf("%s: a file with syntax errors was changed", path)
			}
			continue
		}
		twice, _ := Format(once, path)
		if !bytes.Equal(once, twice) {
			t.Errorf("%s: formatting is not idempotent:\n%s\n---\n%s", path, once, twice)
		}
		// Formatting changes whitespace only.
		if strings.Join(strings.Fields(string(once)), "") != strings.Join(strings.Fields(string(src)), "") {
			t.Errorf("%s: formatting changed more than whitespace", path)
		}
		checked++
	}
	if checked < 30 {
		t.Errorf("only %d files checked", checked)
	}
}

func TestFmtCommand(t *testing.T) {
	dir := t.TempDir()
	messy := filepath.Join(dir, "messy.hcl")
	clean := filepath.Join(dir, "clean.hcl")
	broken := filepath.Join(dir, "broken.txt")
	if err := os.WriteFile(messy, []byte("locals {\na=1\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clean, []byte("locals {\n  a = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("locals {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer

	if code := Fmt([]string{dir}, true, false, &out, &errb); code != ExitChanged || out.String() != messy+"\n" {
		t.Errorf("-check: code %d, out %q, err %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := Fmt([]string{messy}, false, false, &out, &errb); code != ExitOK || out.String() != "locals {\n  a = 1\n}\n" {
		t.Errorf("stdout mode: code %d, out %q", code, out.String())
	}
	if b, _ := os.ReadFile(messy); string(b) != "locals {\na=1\n}\n" {
		t.Error("fmt without -w changed the file")
	}
	out.Reset()
	if code := Fmt([]string{dir}, false, true, &out, &errb); code != ExitOK || out.String() != messy+"\n" {
		t.Errorf("-w: code %d, out %q", code, out.String())
	}
	if b, _ := os.ReadFile(messy); string(b) != "locals {\n  a = 1\n}\n" {
		t.Errorf("-w wrote %q", b)
	}
	if st, _ := os.Stat(messy); st.Mode().Perm() != 0o600 {
		t.Errorf("-w changed the mode to %v", st.Mode())
	}
	out.Reset()
	if code := Fmt([]string{dir}, true, false, &out, &errb); code != ExitOK || out.Len() != 0 {
		t.Errorf("-check after -w: code %d, out %q", code, out.String())
	}
	errb.Reset()
	if code := Fmt([]string{broken}, true, false, &out, &errb); code != ExitInvalid || !strings.Contains(errb.String(), broken+":1:") {
		t.Errorf("syntax error: code %d, err %q", code, errb.String())
	}
	if code := Fmt(nil, false, false, &out, &errb); code != ExitInvalid {
		t.Errorf("no paths: code %d", code)
	}
	if code := Fmt([]string{filepath.Join(dir, "missing.hcl")}, false, false, &out, &errb); code != ExitInvalid {
		t.Errorf("missing file: code %d", code)
	}
}

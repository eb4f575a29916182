package dsl

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// wantRE matches the header lines of testdata/errors/*.hcl.
var wantRE = regexp.MustCompile(`(?m)^# want: (.+) @ (\d+)$`)

type wantDiag struct {
	summary string
	line    int
}

// testEnv is the environment every test load sees: nothing from the
// machine running the tests.
var testEnv = []string{"HOME=/nonexistent"}

// TestErrors loads every broken file and checks that its errors are exactly
// the ones its header announces (summary substring and line), and that the
// rendered text matches its golden file.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d broken files under testdata/errors; want at least 30", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var wants []wantDiag
			for _, m := range wantRE.FindAllStringSubmatch(string(src), -1) {
				line, _ := strconv.Atoi(m[2])
				wants = append(wants, wantDiag{m[1], line})
			}
			if len(wants) == 0 {
				t.Fatal("no # want: lines")
			}
			loaded := LoadSource(filepath.ToSlash(path), src, Options{Env: testEnv})
			var errs hcl.Diagnostics
			for _, d := range loaded.Diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				}
			}
			if loaded.File != nil {
				t.Error("a file with errors produced a spec")
			}
			used := make([]bool, len(errs))
			for _, w := range wants {
				found := false
				for i, d := range errs {
					if used[i] || !strings.Contains(d.Summary, w.summary) || d.Subject == nil || d.Subject.Start.Line != w.line {
						continue
					}
					used[i], found = true, true
					break
				}
				if !found {
					t.Errorf("no error %q at line %d", w.summary, w.line)
				}
			}
			for i, d := range errs {
				if !used[i] {
					line := 0
					if d.Subject != nil {
						line = d.Subject.Start.Line
					}
					t.Errorf("unexpected error at line %d: %s: %s", line, d.Summary, d.Detail)
				}
			}

			var buf bytes.Buffer
			if err := loaded.WriteDiagnostics(&buf); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(path, ".hcl")+".golden", buf.Bytes())
		})
	}
}

// checkGolden compares got with the golden file, rewriting it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dsl -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestDiagnosticPosition checks the acceptance example: a misspelt
// attribute prints file:line:col, the suggestion, and a caret under it.
func TestDiagnosticPosition(t *testing.T) {
	src := "target \"t\" {\n  base_url = \"http://127.0.0.1:8000/v1\"\n  modle = \"m\"\n}\n"
	loaded := LoadSource("typo.hcl", []byte(src), Options{Env: testEnv})
	var buf bytes.Buffer
	if err := loaded.WriteDiagnostics(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Error: Unsupported argument",
		"typo.hcl:3:3",
		`Did you mean "model"?`,
		"  3:   modle = \"m\"\n       ^^^^^\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
}

// TestConditionColumn checks that a condition's error points at the exact
// characters inside the string literal, and says what is wrong.
func TestConditionColumn(t *testing.T) {
	tests := []struct {
		cond string
		col  int    // column of the offending text in the line below
		span string // the text under the caret
		msg  string // in the detail
	}{
		{"ttft_p95 <= 2", 38, "2", "needs a unit"},
		{"tfft_p95 <= 2s", 26, "tfft_p95", "did you mean ttft_p95?"},
		{"ttft_p95 <= 2s && eror_rate < 0.1", 44, "eror_rate", "did you mean error_rate?"},
		// The slips of writing an SLO in words: a spaced or spelt-out
		// unit, and = for a comparison.
		{"ttft_p95 < 2 seconds", 37, "2 seconds", "write the number and its unit together, as in 2s"},
		{"ttft_p95 <= 2 s", 38, "2 s", "as in 2s"},
		{"ttft_p95 <= 2sec", 38, "2sec", "write 2s"},
		{"ttft_p95 = 2s", 35, "=", "write <= for an upper bound"},
		{"ttft_p95 =< 2s", 35, "=<", "write <="},
	}
	for _, tt := range tests {
		src := validSkeleton(fmt.Sprintf(`  slo "a" { condition = %q }`, tt.cond))
		loaded := LoadSource("cond.hcl", []byte(src), Options{Env: testEnv})
		if !loaded.Diags.HasErrors() {
			t.Fatalf("%q: no error", tt.cond)
		}
		if n := len(loaded.Diags.Errs()); n != 1 {
			t.Errorf("%q: %d errors, want 1: %v", tt.cond, n, loaded.Diags)
		}
		d := loaded.Diags[0]
		if d.Subject == nil || d.Subject.Start.Column != tt.col {
			t.Fatalf("%q: subject %v, want column %d (%s)", tt.cond, d.Subject, tt.col, d.Detail)
		}
		if !strings.Contains(d.Detail, tt.msg) {
			t.Errorf("%q: detail %q lacks %q", tt.cond, d.Detail, tt.msg)
		}
		// The byte offset agrees with the column on an ASCII line.
		line := strings.Split(src, "\n")[d.Subject.Start.Line-1]
		lineStart := strings.Index(src, line)
		got := src[d.Subject.Start.Byte:d.Subject.End.Byte]
		if !strings.HasPrefix(line[tt.col-1:], got) || d.Subject.Start.Byte != lineStart+tt.col-1 {
			t.Errorf("%q: subject bytes %q do not start at column %d", tt.cond, got, tt.col)
		}
		if got != tt.span {
			t.Errorf("%q: the caret is under %q, want %q", tt.cond, got, tt.span)
		}
	}
}

// validSkeleton is a valid file whose scenario ends with extra.
func validSkeleton(extra string) string {
	return `target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 16 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
` + extra + "\n}\n"
}

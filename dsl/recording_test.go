package dsl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// secretRefs is a configuration whose secrets all come from a sensitive
// variable: its recorded text must load again once the variable is given.
const secretRefs = `variable "key" {
  type      = string
  sensitive = true
}
locals {
  auth = "Bearer ${var.key}"
}
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  api_key  = var.key
  headers  = { Authorization = local.auth, "x-key" = "${var.key}" }
}
corpus "c" {
  source "synthetic" { documents = 4 }
}
script "s" {
  opening   = "${document}"
  questions = ["a"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = 1
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "a" { condition = "ttft_p95 <= 2s" }
}
`

// TestRecordedTextLoadsAgain: an expression that only refers to a secret
// (var.key, a local built from it, "${var.key}") holds none, so the
// recording keeps it as written, and the recorded text loads again with the
// secret given anew. Replacing it by (sensitive) made the recording of the
// commonest configuration, api_key = var.key, impossible to run.
func TestRecordedTextLoadsAgain(t *testing.T) {
	const key = "sk-recorded-secret"
	f := mustLoad(t, secretRefs, Options{Vars: map[string]string{"key": key}})
	loaded := LoadSource("again.hcl", []byte(f.Redacted), Options{Env: testEnv, Vars: map[string]string{"key": key}})
	if loaded.Diags.HasErrors() {
		var buf bytes.Buffer
		_ = loaded.WriteDiagnostics(&buf)
		t.Fatalf("the recorded text does not load:\n%s", buf.String())
	}
	tg := loaded.File.Scenarios[0].Target
	if tg.APIKey != key || tg.Headers["Authorization"] != "Bearer "+key || tg.Headers["x-key"] != key {
		t.Errorf("reloaded target has api_key %q, headers %q", tg.APIKey, tg.Headers)
	}
	if f.Redacted != secretRefs {
		t.Errorf("recorded text differs from a file that holds no secret:\n%s", f.Redacted)
	}
}

// TestRecordedExpressions: which sensitive expressions the recording keeps
// as written (they only refer to values it does not hold) and which it
// replaces (they hold a literal that may be the secret or encode it).
func TestRecordedExpressions(t *testing.T) {
	tests := []struct {
		name, expr string
		kept       bool
	}{
		{"sensitive variable", `var.key`, true},
		{"template around it", `"Bearer ${var.key}"`, true},
		{"function of it", `trimspace(var.key)`, true},
		{"environment variable", `env("MRQA_TEST_KEY")`, true},
		{"literal", `"sk-literal-secret"`, false},
		{"environment with a default", `env("MRQA_UNSET_KEY", "sk-default-secret")`, false},
		{"encoded literal", `base64decode("c2stZW5jb2RlZA==")`, false},
		{"plain variable only", `"sk-${var.plain}"`, false},
		{"format with a literal", `format("sk-%s", var.key)`, false},
		{"file", `file("key.txt")`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(secretRefs, "api_key  = var.key", "api_key  = "+tt.expr, 1) +
				"variable \"plain\" {\n  default = \"visible\"\n}\n"
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"key.txt": "sk-from-file"})
			loaded := LoadSource(dir+"/s.hcl", []byte(src), Options{
				Env:  []string{"MRQA_TEST_KEY=sk-from-env"},
				Vars: map[string]string{"key": "sk-flag-secret"},
			})
			f := requireFile(t, loaded)
			kept := strings.Contains(f.Redacted, "api_key  = "+tt.expr+"\n")
			if kept != tt.kept || !kept && !strings.Contains(f.Redacted, "api_key  = (sensitive)\n") {
				t.Errorf("kept = %v, want %v:\n%s", kept, tt.kept, f.Redacted)
			}
			for _, s := range f.Secrets {
				if len(s) >= minSecretLen && strings.Contains(f.Redacted, s) {
					t.Errorf("the recording holds the secret %q", s)
				}
			}
		})
	}
}

// TestHeaderValuesJudgedOneByOne: an object of headers keeps the values
// that only refer to a secret and replaces the literal ones, also when a
// reference makes the whole object sensitive.
func TestHeaderValuesJudgedOneByOne(t *testing.T) {
	src := strings.Replace(secretRefs, `"x-key" = "${var.key}"`, `"x-team" = "team-literal"`, 1)
	f := mustLoad(t, src, Options{Vars: map[string]string{"key": "sk-flag-secret"}})
	want := `headers  = { Authorization = local.auth, "x-team" = (sensitive) }`
	if !strings.Contains(f.Redacted, want) {
		t.Errorf("recorded text lacks %s:\n%s", want, f.Redacted)
	}
}

// recordedSources are the files of f as LoadSources takes them back.
func recordedSources(f *spec.File, role string) []Source {
	var out []Source
	for _, sf := range f.Files {
		if sf.Role == role {
			out = append(out, Source{Path: sf.Path, Text: []byte(sf.Redacted)})
		}
	}
	return out
}

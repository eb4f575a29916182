package dsl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
		{"environment with an empty default", `env("MRQA_UNSET_KEY", "")`, true},
		{"environment with a default that is a reference", `env("MRQA_UNSET_KEY", var.key)`, false},
		{"encoded literal", `base64decode("c2stZW5jb2RlZA==")`, false},
		{"plain variable only", `"sk-${var.plain}"`, false},
		{"format with a literal", `format("sk-%s", var.key)`, false},
		{"file", `file("key.txt")`, false},
		{"auth scheme Basic", `"Basic ${var.key}"`, true},
		{"auth scheme Token", `"Token ${var.key}"`, true},
		{"whitespace around it", `"  ${var.key} "`, true},
		{"two references", `"${var.key}${var.plain}"`, true},
		{"literal after it", `"${var.key}-sk-literal"`, false},
		{"password after a scheme", `"Basic ${var.key}:hunter2"`, false},
		{"word that is no scheme", `"hunter2 ${var.key}"`, false},
		{"scheme not first", `"${var.key} Bearer "`, false},
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

// fromRecording loads the recording of f as exec -from does: its
// configuration files' texts, file() reading the recorded copies, the
// recorded values of the variables not taken from a default.
func fromRecording(f *spec.File, opts Options) *Loaded {
	inputs := map[string][]byte{}
	for _, s := range recordedSources(f, spec.RoleInput) {
		inputs[s.Path] = s.Text
	}
	opts.FromRecording = true
	opts.ReadFile = func(p string) ([]byte, error) {
		if b, ok := inputs[p]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("the recording holds no copy of it")
	}
	opts.Recorded = map[string]string{}
	for _, v := range f.Variables {
		if v.Source != "default" && v.Value != redactedText {
			opts.Recorded[v.Name] = v.Value
		}
	}
	if opts.Env == nil {
		opts.Env = testEnv
	}
	return LoadSources(recordedSources(f, spec.RoleConfiguration), opts)
}

// TestLoadRecording: a recording runs again with nothing from the disk:
// file() reads the recorded copy, the recorded values apply (source
// "recorded"), a sensitive default recorded as (sensitive) is no default,
// and -var still wins.
func TestLoadRecording(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"questions.txt": "What changes?\nWho narrates?\n",
		"s.hcl": strings.Replace(secretRefs, `type      = string
  sensitive = true`, `type      = string
  default   = "sk-default-secret"
  sensitive = true`, 1) + `
variable "rounds" {
  type    = number
  default = 1
}
variable "sizes" {
  type = list(number)
}
locals {
  questions = split("\n", trimspace(file("questions.txt")))
}
`,
	})
	src := strings.NewReplacer(`questions = ["a"]`, `questions = local.questions`, "rounds = 1", "rounds = var.rounds",
		"sequential = [1]", "sequential = var.sizes").Replace(readFile(t, dir, "s.hcl"))
	writeFiles(t, dir, map[string]string{"s.hcl": src})
	orig := requireFile(t, Load(dir+"/s.hcl", Options{Env: testEnv, Vars: map[string]string{"rounds": "2", "sizes": "[1, 2]"}}))
	if in := recordedSources(orig, spec.RoleInput); len(in) != 1 || in[0].Path != dir+"/questions.txt" || !strings.HasPrefix(string(in[0].Text), "What changes?") {
		t.Fatalf("file() read not recorded: %+v", orig.Files)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	missing := fromRecording(orig, Options{})
	if !hasError(missing.Diags, "No value for required variable") {
		t.Errorf("a sensitive default recorded as (sensitive) still counts: %v", missing.Diags)
	}
	f := requireFile(t, fromRecording(orig, Options{Vars: map[string]string{"key": "sk-given-again", "rounds": "1"}}))
	sc := f.Scenarios[0]
	if sc.Target.APIKey != "sk-given-again" || len(sc.Script.Questions) != 2 || fmt.Sprint(sc.Grid.Sequential) != "[1 2]" || sc.Rounds != 1 {
		t.Errorf("reloaded: api_key %q, %d questions, sequential %v, rounds %d", sc.Target.APIKey, len(sc.Script.Questions), sc.Grid.Sequential, sc.Rounds)
	}
	sources := map[string]string{}
	for _, v := range f.Variables {
		sources[v.Name] = v.Source
	}
	if want := map[string]string{"key": "flag", "rounds": "flag", "sizes": "recorded"}; fmt.Sprint(sources) != fmt.Sprint(want) {
		t.Errorf("variable sources %v, want %v", sources, want)
	}
}

// TestRecordingRefusesLostSecrets: a secret written in a file is replaced
// in the recording and cannot be given again, so loading the recording is
// an error at each such place (and only there: a comment that reads
// (sensitive) is no secret), with no other error beside it.
func TestRecordingRefusesLostSecrets(t *testing.T) {
	src := strings.NewReplacer(`"x-key" = "${var.key}"`, `"x-team" = "team-literal"`,
		"http://127.0.0.1", "http://bob:pw-secret@127.0.0.1").Replace(secretRefs) + "# a comment may say (sensitive)\n"
	orig := mustLoad(t, src, Options{Vars: map[string]string{"key": "sk-flag-secret"}})
	loaded := fromRecording(orig, Options{Vars: map[string]string{"key": "sk-flag-secret"}})
	var got []string
	for _, d := range loaded.Diags {
		got = append(got, fmt.Sprintf("%s at %d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column))
	}
	want := []string{"Secret not in the recording at 9:15", "Secret not in the recording at 11:55"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("diagnostics %q, want %q", got, want)
	}
	if d := loaded.Diags[0].Detail; !strings.Contains(d, "Move the secret into a sensitive variable") {
		t.Errorf("the error does not say what to do: %s", d)
	}
}

// TestRecordedInputWithASecret: a file file() read whose recorded copy has
// a secret replaced cannot stand for the file.
func TestRecordedInputWithASecret(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"opening.txt": "Use sk-flag-secret on ${document}"})
	src := strings.Replace(secretRefs, `opening   = "${document}"`, `opening   = file("opening.txt")`, 1)
	orig := requireFile(t, LoadSource(dir+"/s.hcl", []byte(src), Options{Env: testEnv, Vars: map[string]string{"key": "sk-flag-secret"}}))
	loaded := fromRecording(orig, Options{Vars: map[string]string{"key": "sk-flag-secret"}})
	if !hasError(loaded.Diags, "Invalid function argument") {
		t.Fatalf("diagnostics %v: want file() refusing the redacted copy", loaded.Diags)
	}
	if d := loaded.Diags.Errs()[0].Error(); !strings.Contains(d, "opening.txt has (sensitive) in place of a secret") {
		t.Errorf("error %q does not name the file and why", d)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVariablesInSecretsAreSensitive: a variable that a secret-bearing
// expression refers to, even in part or through a local, is recorded as
// sensitive and its value appears nowhere in the recording; one used
// elsewhere stays plain.
func TestVariablesInSecretsAreSensitive(t *testing.T) {
	tests := []struct {
		name, target string
		sensitive    bool
	}{
		{"api_key in part", `api_key = "${var.key}${var.part}"`, true},
		{"header value", `headers = { Authorization = "Bearer ${var.part}" }`, true},
		{"header through a local", `headers = { Authorization = local.auth }`, true},
		{"url userinfo", `base_url = "http://u:${var.part}@127.0.0.1:8000/v1"`, true},
		{"url host", `base_url = "http://${var.part}:8000/v1"`, false},
		{"metrics bearer_token", `metrics {
    url          = "http://127.0.0.1:8000/metrics"
    bearer_token = var.part
  }`, true},
		{"model", `model = var.part`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := `base_url = "http://127.0.0.1:8000/v1"`
			if strings.HasPrefix(tt.target, "base_url") {
				base = ""
			}
			src := strings.NewReplacer("BASE_URL", base, "TARGET", tt.target).Replace(secretInputsConfig)
			value := "PARTVALUE-7f7f"
			if !tt.sensitive {
				value = "127.0.0.1"
			}
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"s.hcl": src, "v.mrqavars.hcl": "part = \"" + value + "\"\n"})
			f := requireFile(t, LoadFiles([]string{dir}, Options{Vars: map[string]string{"key": "sk-flag-secret"}}))
			var part spec.Variable
			for _, v := range f.Variables {
				if v.Name == "part" {
					part = v
				}
			}
			if part.Sensitive != tt.sensitive {
				t.Fatalf("var.part sensitive = %v, want %v", part.Sensitive, tt.sensitive)
			}
			if !tt.sensitive {
				return
			}
			for _, sf := range f.Files {
				if strings.Contains(sf.Redacted, value) {
					t.Errorf("%s holds the secret:\n%s", sf.Path, sf.Redacted)
				}
			}
			if part.Value != "(sensitive)" {
				t.Errorf("var.part recorded as %q", part.Value)
			}
		})
	}
}

// secretInputsConfig is a configuration whose target reads BASE_URL and
// TARGET, with a
// sensitive variable key, a plain one part and a local built from part.
const secretInputsConfig = `variable "key" {
  sensitive = true
}
variable "part" {
  default = "none"
}
locals {
  auth = "Bearer ${var.part}"
}
target "t" {
  BASE_URL
  TARGET
}
corpus "c" {
  source "synthetic" { documents = 2 }
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
  slo "t" { condition = "ttft_p95 <= 5s" }
}
`

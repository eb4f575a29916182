package dsl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// planText is the plan as validate prints it.
func planText(f *spec.File) string {
	var b strings.Builder
	WritePlan(&b, f)
	return b.String()
}

// mustLoad loads src and fails the test on any error.
func mustLoad(t *testing.T, src string, opts Options) *spec.File {
	t.Helper()
	if opts.Env == nil {
		opts.Env = testEnv
	}
	loaded := LoadSource(filepath.Join(t.TempDir(), "test.hcl"), []byte(src), opts)
	if loaded.Diags.HasErrors() {
		var buf bytes.Buffer
		_ = loaded.WriteDiagnostics(&buf)
		t.Fatalf("unexpected errors:\n%s", buf.String())
	}
	return loaded.File
}

// loadErrors loads src and returns its error diagnostics.
func loadErrors(t *testing.T, src string, opts Options) hcl.Diagnostics {
	t.Helper()
	if opts.Env == nil {
		opts.Env = testEnv
	}
	loaded := LoadSource("test.hcl", []byte(src), opts)
	var out hcl.Diagnostics
	for _, d := range loaded.Diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// TestScenariosValidate loads every shipped configuration — each file
// directly in scenarios/ and each folder under it — without a diagnostic,
// and checks every file is formatted.
func TestScenariosValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d scenario files, want quickstart, novel-critic, vllm-vs-lmcache and seed-table", len(files))
	}
	entries, err := os.ReadDir(filepath.Join("..", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("..", "scenarios", e.Name()))
		}
	}
	if len(dirs) < 1 {
		t.Fatal("found no configuration folder under scenarios/; want shared-critic")
	}
	for _, path := range append(files, dirs...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			loaded := Load(path, Options{Env: testEnv})
			if len(loaded.Diags) > 0 {
				var buf bytes.Buffer
				_ = loaded.WriteDiagnostics(&buf)
				t.Fatalf("diagnostics:\n%s", buf.String())
			}
			for _, sc := range loaded.File.Scenarios {
				if len(sc.SLOs) == 0 || sc.Target == nil || sc.Corpus == nil || sc.Script == nil {
					t.Errorf("scenario %s is incomplete: %+v", sc.Name, sc)
				}
				if sc.Rounds > len(sc.Script.Questions) {
					t.Errorf("scenario %s: rounds %d > %d questions", sc.Name, sc.Rounds, len(sc.Script.Questions))
				}
			}
			for _, f := range loaded.File.Files {
				src, err := os.ReadFile(f.Path)
				if err != nil {
					t.Fatal(err)
				}
				out, diags := Format(src, f.Path)
				if diags.HasErrors() || !bytes.Equal(out, src) {
					t.Errorf("not in canonical format (mrqa fmt -w %s)", f.Path)
				}
			}
		})
	}
}

// TestSeedPrompts keeps the source benchmark's two prompts verbatim.
func TestSeedPrompts(t *testing.T) {
	f := Load(filepath.Join("..", "scenarios", "novel-critic.hcl"), Options{Env: testEnv}).File
	if f == nil {
		t.Fatal("novel-critic.hcl does not load")
	}
	s := f.Scenarios[0].Script
	want := spec.Template{{Kind: spec.PartLiteral, Text: "Read and summarize this novel.\n\n"}, {Kind: spec.PartDocument}}
	if !reflect.DeepEqual(s.Opening, want) {
		t.Errorf("opening = %+v", s.Opening)
	}
	if got := s.Questions[0]; len(got) != 1 || got[0].Text != "Write down the author's feelings." {
		t.Errorf("first question = %+v", got)
	}
	sc := f.Scenarios[0]
	if sc.Corpus.Tokens != 131072 || sc.Rounds != 3 || s.MaxTokens != 512 ||
		!reflect.DeepEqual(sc.Grid, spec.Grid{Concurrent: []int{1, 2, 3, 4}, Sequential: []int{1, 2, 3, 4}}) ||
		sc.SLOs[0].Condition.Text != "ttft_p95 <= 2s" {
		t.Errorf("novel-critic is not the source's workload: %+v", sc)
	}
}

func TestDefaults(t *testing.T) {
	f := mustLoad(t, validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`), Options{})
	sc := f.Scenarios[0]
	tg := sc.Target
	checks := []struct {
		name      string
		got, want any
	}{
		{"api", tg.API, spec.DefaultAPI},
		{"down_after", tg.DownAfter, spec.DefaultDownAfter},
		{"timeouts", tg.Timeouts, spec.Timeouts{Connect: 10 * time.Second, FirstToken: 5 * time.Minute, Idle: 60 * time.Second, Total: 30 * time.Minute}},
		{"assign", sc.Assign, spec.DefaultAssign},
		{"score", sc.Score, spec.DefaultScore},
		{"rounds", sc.Rounds, 3},
		{"max_tokens", sc.Script.MaxTokens, spec.DefaultMaxTokens},
		{"tokenizer", sc.Corpus.Tokenizer, "cl100k_base"},
		{"synthetic seed", sc.Corpus.Source.Seed, int64(1)},
		{"base dir", sc.Corpus.BaseDir, filepath.Dir(f.Path)},
		{"report dir", sc.Report.Dir, ""},
		{"search", sc.Search == nil, true},
		{"reads", sc.SLOs[0].Condition.Reads, []string{"ttft_p95"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	f = mustLoad(t, `
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  metrics { url = "http://127.0.0.1:8000/metrics" }
}
corpus "g" {
  source "gutenberg" { ids = [1342, 2701] }
}
corpus "d" {
  source "dir" { path = "./docs" }
  buckets = true
}
script "s" {
  opening   = "${document}"
  questions = ["a"]
}
scenario "x" {
  target = target.t
  corpus = corpus.g
  script = script.s
  rounds = 1
  grid {
    concurrent = [1]
    sequential = [1, 2]
  }
  slo "a" { condition = "ttft_p95 <= 2s" }
}
`, Options{})
	tg = f.Scenarios[0].Target
	if tg.Metrics == nil || tg.Metrics.Interval != time.Second {
		t.Errorf("metrics = %+v, want a 1s interval", tg.Metrics)
	}
	src := f.Scenarios[0].Corpus.Source
	if !src.StripBoilerplate || !reflect.DeepEqual(src.IDs, []int{1342, 2701}) {
		t.Errorf("gutenberg source = %+v", src)
	}
}

func TestFullSchema(t *testing.T) {
	f := mustLoad(t, `
variable "key" {
  type      = string
  default   = "sk-test-123"
  sensitive = true
}
locals {
  qs = ["one ${upper("x")}", "two"]
}
target "t" {
  base_url   = "https://api.example.com/v1"
  model      = "m"
  api        = "completions"
  api_key    = var.key
  headers    = { "x-team" = "kv" }
  extra_body = { ignore_eos = true, min_tokens = 16, chat_template_kwargs = { enable_thinking = false } }
  down_after = 3
  timeouts {
    connect     = "1s"
    first_token = "1m30s"
    idle        = "500ms"
  }
  metrics {
    url      = "http://127.0.0.1:8000/metrics"
    interval = "2s"
    include  = ["vllm:num_requests_running"]
  }
  between_points {
    reset_prefix_cache = true
    cooldown           = "5s"
  }
}
corpus "c" {
  source "dir" {
    path    = "./data"
    pattern = "*.md"
  }
  tokenizer     = "hf:./tokenizer.json"
  tokens        = 1024
  min_documents = 2
}
script "s" {
  system               = "You are a critic."
  opening              = "${document}"
  questions            = local.qs
  max_tokens           = 64
  temperature          = 0.7
  completions_template = "{{messages}}{{role}}: {{content}}\n{{end}}assistant:"
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = 2
  seed   = 7
  assign = "random"
  score  = "harmonic"
  grid {
    concurrent = range(1, 4)
    sequential = [1, 2]
  }
  search "frontier" {
    extend         = true
    extend_step    = 2
    max_concurrent = 64
    max_sequential = 32
    max_points     = 40
  }
  slo "ttft" { condition = "ttft_p95 <= 2s && error_rate <= 0.01" }
  expect = "max_sessions >= 4"
  report {
    dir     = "out/custom"
    title   = "A title"
    lmbench = true
  }
}
`, Options{})
	// Header values are secrets, their names are not.
	if !strings.Contains(f.Redacted, `headers    = { "x-team" = (sensitive) }`) {
		t.Errorf("header values not redacted one by one:\n%s", f.Redacted)
	}
	sc := f.Scenarios[0]
	tg := sc.Target
	want := &spec.Target{
		Name: "t", BaseURL: "https://api.example.com/v1", Model: "m", API: "completions", APIKey: "sk-test-123",
		Headers:   map[string]string{"x-team": "kv"},
		ExtraBody: map[string]any{"ignore_eos": true, "min_tokens": int64(16), "chat_template_kwargs": map[string]any{"enable_thinking": false}},
		Timeouts:  spec.Timeouts{Connect: time.Second, FirstToken: 90 * time.Second, Idle: 500 * time.Millisecond, Total: 30 * time.Minute},
		Metrics:   &spec.Metrics{URL: "http://127.0.0.1:8000/metrics", Interval: 2 * time.Second, Include: []string{"vllm:num_requests_running"}}, // on another host than the target's: none of its credentials
		Between:   spec.BetweenPoints{ResetPrefixCache: true, Cooldown: 5 * time.Second},
		DownAfter: 3,
	}
	if !reflect.DeepEqual(tg, want) {
		t.Errorf("target\n got %+v\nwant %+v", tg, want)
	}
	c := sc.Corpus
	if c.Source.Kind != spec.SourceDir || c.Source.Path != "./data" || c.Source.Pattern != "*.md" || c.Tokenizer != "hf:./tokenizer.json" || c.Tokens != 1024 || c.MinDocuments != 2 {
		t.Errorf("corpus = %+v", c)
	}
	s := sc.Script
	if s.System[0].Text != "You are a critic." || s.Questions[0][0].Text != "one X" || s.MaxTokens != 64 || s.Temperature != 0.7 || s.CompletionsTemplate != "{{messages}}{{role}}: {{content}}\n{{end}}assistant:" {
		t.Errorf("script = %+v", s)
	}
	if !reflect.DeepEqual(sc.Grid.Concurrent, []int{1, 2, 3}) || sc.Seed != 7 || sc.Assign != "random" || sc.Score != "harmonic" || sc.Rounds != 2 {
		t.Errorf("scenario = %+v", sc)
	}
	if !reflect.DeepEqual(sc.Search, &spec.Search{Kind: "frontier", Extend: true, ExtendStep: 2, MaxConcurrent: 64, MaxSequential: 32, MaxPoints: 40}) {
		t.Errorf("search = %+v", sc.Search)
	}
	if sc.Expect == nil || sc.Expect.Text != "max_sessions >= 4" || !reflect.DeepEqual(sc.Report, spec.Report{Dir: "out/custom", Title: "A title", LMBench: true}) {
		t.Errorf("expect/report = %v %+v", sc.Expect, sc.Report)
	}
}

func TestSimulatorBlock(t *testing.T) {
	f := mustLoad(t, strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`  base_url = "http://127.0.0.1:8000/v1"`, `  simulator {
    profile         = "seed-vllm"
    clock           = "virtual"
    kv_cache_tokens = 500000
    step_fixed      = "20ms"
  }`, 1), Options{})
	sim := f.Scenarios[0].Target.Simulator
	want := &spec.Simulator{Profile: "seed-vllm", Clock: "virtual", Params: map[string]any{"kv_cache_tokens": 500000.0, "step_fixed": 20 * time.Millisecond}}
	if !reflect.DeepEqual(sim, want) {
		t.Errorf("simulator = %+v, want %+v", sim, want)
	}
	if f.Scenarios[0].Target.BaseURL != "" {
		t.Error("a simulator target has a base_url")
	}
	errs := loadErrors(t, strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`  base_url = "http://127.0.0.1:8000/v1"`, `  simulator {
    step_fixed = "fast"
  }`, 1), Options{})
	if len(errs) != 1 || errs[0].Summary != "Invalid duration" {
		t.Errorf("bad simulator duration: %v", errs)
	}
}

const precedenceFile = `
variable "model" {
  type    = string
  default = "from-default"
}
variable "n" {
  type    = number
  default = 1
}
variable "ids" {
  type    = list(number)
  default = [1]
}
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  model    = var.model
}
corpus "c" {
  source "gutenberg" { ids = var.ids }
}
script "s" {
  opening    = "${document}"
  questions  = ["a"]
  max_tokens = var.n
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = 1
  assign = "random"
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "a" { condition = "ttft_p95 <= 2s" }
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	fileA := filepath.Join(dir, "a.hcl")
	fileB := filepath.Join(dir, "b.hcl")
	if err := os.WriteFile(fileA, []byte("model = \"from-file-a\"\nn = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fileB, []byte("model = \"from-file-b\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"MRQA_VAR_model=from-env", "MRQA_VAR_ids=[3, 4]", "MRQA_VAR_other=ignored"}
	// Variable files beside the configuration, applied in name order.
	autoA := Source{Path: filepath.Join(dir, "a.mrqavars.hcl"), Text: []byte("model = \"from-auto-a\"\nn = 6\n")}
	autoB := Source{Path: filepath.Join(dir, "b.mrqavars.hcl"), Text: []byte("model = \"from-auto-b\"\n")}
	tests := []struct {
		name   string
		auto   []Source
		opts   Options
		model  string
		source string
		n      int
		ids    []int
	}{
		{"default", nil, Options{Env: testEnv}, "from-default", "default", 1, []int{1}},
		{"env", nil, Options{Env: env}, "from-env", "env", 1, []int{3, 4}},
		{"auto file over env", []Source{autoA}, Options{Env: env}, "from-auto-a", "file", 6, []int{3, 4}},
		{"later auto file wins", []Source{autoA, autoB}, Options{Env: env}, "from-auto-b", "file", 6, []int{3, 4}},
		{"file over env", nil, Options{Env: env, VarFiles: []string{fileA}}, "from-file-a", "file", 5, []int{3, 4}},
		{"-var-file over auto file", []Source{autoA, autoB}, Options{Env: env, VarFiles: []string{fileA}}, "from-file-a", "file", 5, []int{3, 4}},
		{"later file wins", nil, Options{Env: env, VarFiles: []string{fileA, fileB}}, "from-file-b", "file", 5, []int{3, 4}},
		{"flag over all", []Source{autoA}, Options{Env: env, VarFiles: []string{fileA}, Vars: map[string]string{"model": "from-flag", "n": "8", "ids": "[9]"}}, "from-flag", "flag", 8, []int{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs := append([]Source{{Path: filepath.Join(dir, "test.hcl"), Text: []byte(precedenceFile)}}, tt.auto...)
			loaded := LoadSources(srcs, tt.opts)
			if loaded.Diags.HasErrors() {
				t.Fatalf("errors: %v", loaded.Diags)
			}
			f := loaded.File
			sc := f.Scenarios[0]
			if sc.Target.Model != tt.model || sc.Script.MaxTokens != tt.n || !reflect.DeepEqual(sc.Corpus.Source.IDs, tt.ids) {
				t.Errorf("model %q n %d ids %v; want %q %d %v", sc.Target.Model, sc.Script.MaxTokens, sc.Corpus.Source.IDs, tt.model, tt.n, tt.ids)
			}
			if v := f.Variables[0]; v.Name != "model" || v.Value != tt.model || v.Source != tt.source {
				t.Errorf("variable record = %+v, want value %q from %s", v, tt.model, tt.source)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		errs := loadErrors(t, precedenceFile, Options{Vars: map[string]string{"n": "eight", "modle": "x"}})
		var got []string
		for _, d := range errs {
			got = append(got, d.Summary+": "+d.Detail)
		}
		joined := strings.Join(got, "\n")
		for _, want := range []string{"Invalid value for variable: The value for var.n", `Value for undeclared variable: -var modle=... sets a variable that the configuration does not declare. Did you mean "model"?`} {
			if !strings.Contains(joined, want) {
				t.Errorf("errors lack %q:\n%s", want, joined)
			}
		}
		if len(errs) != 2 {
			t.Errorf("%d errors, want 2:\n%s", len(errs), joined)
		}
	})
	t.Run("missing", func(t *testing.T) {
		src := strings.Replace(precedenceFile, "  default = \"from-default\"\n", "", 1)
		errs := loadErrors(t, src, Options{})
		if len(errs) != 1 {
			t.Fatalf("errors = %v", errs)
		}
		for _, way := range []string{"-var model=VALUE", "-var-file", "MRQA_VAR_model"} {
			if !strings.Contains(errs[0].Detail, way) {
				t.Errorf("missing-value error does not mention %s: %s", way, errs[0].Detail)
			}
		}
		f := mustLoad(t, src, Options{Env: []string{"MRQA_VAR_model=set"}})
		if f.Scenarios[0].Target.Model != "set" {
			t.Error("env did not satisfy a required variable")
		}
	})
	// A -var-file that cannot be read or parsed is one error, not also a
	// missing value for each variable it might have set.
	t.Run("broken var file", func(t *testing.T) {
		src := strings.Replace(precedenceFile, "  default = \"from-default\"\n", "", 1)
		broken := filepath.Join(t.TempDir(), "broken.hcl")
		if err := os.WriteFile(broken, []byte("model = \"unclosed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, vf := range []string{filepath.Join(t.TempDir(), "absent.hcl"), broken} {
			errs := loadErrors(t, src, Options{VarFiles: []string{vf}})
			if len(errs) == 0 {
				t.Errorf("%s: no error", vf)
			}
			for _, d := range errs {
				if d.Summary == "No value for required variable" || (d.Subject != nil && d.Subject.Filename != vf) {
					t.Errorf("%s: cascading error %s: %s", vf, d.Summary, d.Detail)
				}
			}
			if strings.HasSuffix(vf, "absent.hcl") && (errs[0].Summary != "Cannot read -var-file" || !strings.Contains(errs[0].Detail, "no such file")) {
				t.Errorf("unreadable file reported as %s: %s", errs[0].Summary, errs[0].Detail)
			}
		}
	})
	// default = null makes a variable optional (as in Terraform): an
	// attribute set from it takes its own default.
	t.Run("null default", func(t *testing.T) {
		src := strings.Replace(precedenceFile, "  default = \"from-default\"\n", "  default = null\n", 1)
		f := mustLoad(t, src, Options{Env: testEnv})
		if m := f.Scenarios[0].Target.Model; m != "" {
			t.Errorf("model = %q, want the attribute's default (empty)", m)
		}
		f = mustLoad(t, src, Options{Env: testEnv, Vars: map[string]string{"model": "m1"}})
		if m := f.Scenarios[0].Target.Model; m != "m1" {
			t.Errorf("model = %q, want m1 from -var", m)
		}
	})
}

func TestTemplates(t *testing.T) {
	src := `
variable "persona" {
  default = "critic"
}
locals {
  extra = ["Plain question."]
}
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 4 }
}
script "s" {
  system  = "You are a ${var.persona}."
  opening = <<-EOT
    Session ${user}, document ${document_id}:
    ${document}
    Escaped: $${document} and %{ if true }${upper("yes")}%{ endif }
    EOT
  questions = ["Round ${round}: ${format("%03d", 7)}?", "${document}"]
}
script "s2" {
  opening   = "${document}"
  questions = concat(local.extra, ["Another."])
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = 2
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "a" { condition = "ttft_p95 <= 2s" }
}
scenario "y" {
  target = target.t
  corpus = corpus.c
  script = script.s2
  rounds = 2
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "a" { condition = "ttft_p95 <= 2s" }
}
`
	f := mustLoad(t, src, Options{})
	s := f.Scenarios[0].Script
	lit := func(s string) spec.Part { return spec.Part{Kind: spec.PartLiteral, Text: s} }
	checks := []struct {
		name      string
		got, want spec.Template
	}{
		{"system", s.System, spec.Template{lit("You are a critic.")}},
		{"opening", s.Opening, spec.Template{
			lit("Session "), {Kind: spec.PartUser}, lit(", document "), {Kind: spec.PartDocumentID}, lit(":\n"),
			{Kind: spec.PartDocument}, lit("\nEscaped: ${document} and YES\n"),
		}},
		{"question 1", s.Questions[0], spec.Template{lit("Round "), {Kind: spec.PartRound}, lit(": 007?")}},
		{"question 2", s.Questions[1], spec.Template{{Kind: spec.PartDocument}}},
		{"computed list", f.Scenarios[1].Script.Questions[0], spec.Template{lit("Plain question.")}},
		{"computed list 2", f.Scenarios[1].Script.Questions[1], spec.Template{lit("Another.")}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}

	bad := []struct{ expr, name string }{
		{`"${document == "" ? "a" : "b"}"`, "document"},
		{`"${length(user)}"`, "user"},
		{`"${round + 1}"`, "round"},
		{`"${document_id.x}"`, "document_id"},
		{`document`, "document"},
	}
	for _, b := range bad {
		src := strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`), `"Summarize.\n\n${document}"`, b.expr, 1)
		errs := loadErrors(t, src, Options{})
		if len(errs) != 1 || errs[0].Summary != "Invalid use of "+b.name {
			t.Errorf("%s: errors %v, want one 'Invalid use of %s'", b.expr, errs, b.name)
		}
	}
}

func TestSecretsRedacted(t *testing.T) {
	src := `
variable "key" {
  type      = string
  default   = "sk-default-secret"
  sensitive = true
}
variable "plain" {
  default = "visible-value"
}
variable "tok" {
  default = env("MRQA_TEST_TOKEN", "")
}
locals {
  auth = "Bearer ${var.key}"
}
target "t" {
  base_url = "http://alice:hunter2pass@127.0.0.1:8000/v1"
  model    = env("MRQA_TEST_MODEL", "fallback-model")
  api_key  = var.key
  headers  = { Authorization = local.auth, "x-team" = "team-header-value" }
}
corpus "c" {
  source "synthetic" { documents = 4 }
}
script "s" {
  opening   = "${document} ${var.plain}"
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
	f := mustLoad(t, src, Options{Env: []string{"MRQA_TEST_MODEL=model-from-env", "MRQA_VAR_key=sk-live-from-env", "MRQA_TEST_TOKEN=token-from-env"}})
	secrets := map[string]bool{}
	for _, s := range f.Secrets {
		secrets[s] = true
	}
	for _, want := range []string{"sk-live-from-env", "Bearer sk-live-from-env", "team-header-value", "model-from-env", "hunter2pass", "alice:hunter2pass", "token-from-env"} {
		if !secrets[want] {
			t.Errorf("Secrets lack %q: %q", want, f.Secrets)
		}
	}
	if secrets["visible-value"] {
		t.Error("a plain variable became a secret")
	}
	for _, leak := range []string{"sk-default-secret", "team-header-value", "hunter2pass", "fallback-model"} {
		if strings.Contains(f.Redacted, leak) {
			t.Errorf("Redacted still contains %q:\n%s", leak, f.Redacted)
		}
	}
	// References to secrets hold none and stay, so the text runs again
	// (exec -from); literals and env() with a default are replaced.
	for _, keep := range []string{`variable "plain"`, `default = "visible-value"`, "api_key  = var.key",
		`headers  = { Authorization = local.auth, "x-team" = (sensitive) }`, "model    = (sensitive)", "sensitive = true"} {
		if !strings.Contains(f.Redacted, keep) {
			t.Errorf("Redacted lost %q:\n%s", keep, f.Redacted)
		}
	}
	if v := f.Variables[0]; v.Value != "(sensitive)" || !v.Sensitive || v.Source != "env" {
		t.Errorf("sensitive variable record = %+v", v)
	}
	if v := f.Variables[1]; v.Value != "visible-value" {
		t.Errorf("plain variable record = %+v", v)
	}
	if v := f.Variables[2]; v.Value != "(sensitive)" || !v.Sensitive {
		t.Errorf("a variable set from env() is not sensitive: %+v", v)
	}
	if tg := f.Scenarios[0].Target; tg.APIKey != "sk-live-from-env" || tg.Headers["Authorization"] != "Bearer sk-live-from-env" {
		t.Errorf("the runtime still needs the real values: %+v", tg)
	}
	if strings.Contains(planText(f), "hunter2pass") {
		t.Error("the plan prints a URL password")
	}
}

func TestPlan(t *testing.T) {
	src := strings.Replace(validSkeleton("  rounds = 2\n  slo \"a\" { condition = \"ttft_p95 <= 2s\" }"),
		"    concurrent = [1, 2]\n    sequential = [1, 2]", "    concurrent = [1, 3]\n    sequential = [2, 4]", 1)
	f := mustLoad(t, src, Options{})
	// C×S over the points: 2 + 4 + 6 + 12 = 24 sessions, each making 3 requests.
	if got := Totals(f.Scenarios[0]); got != (PlanTotals{Points: 4, Sessions: 24, Requests: 72}) {
		t.Errorf("Totals = %+v", got)
	}
	plan := planText(f)
	for _, want := range []string{`scenario "x"`, "4 points, 24 sessions, 72 requests", "16 synthetic documents", "http://127.0.0.1:8000/v1", "ttft_p95 <= 2s", "out/x"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	path := filepath.Join("..", "scenarios", "vllm-vs-lmcache.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if l := LoadSource(path, src, Options{Env: testEnv}); l.Diags.HasErrors() {
			b.Fatal(l.Diags)
		}
	}
}

func TestSelect(t *testing.T) {
	f := Load(filepath.Join("..", "scenarios", "vllm-vs-lmcache.hcl"), Options{Env: testEnv}).File
	if f == nil {
		t.Fatal("vllm-vs-lmcache.hcl does not load")
	}
	all, err := Select(f, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("Select(nil) = %d scenarios, %v", len(all), err)
	}
	one, err := Select(f, []string{"lmcache", "lmcache"})
	if err != nil || len(one) != 1 || one[0].Name != "lmcache" {
		t.Errorf("Select(lmcache) = %v, %v", one, err)
	}
	if _, err := Select(f, []string{"lmcach"}); err == nil || !strings.Contains(err.Error(), `did you mean "lmcache"?`) {
		t.Errorf("Select(lmcach) error = %v", err)
	}
	if _, err := Select(f, []string{"zzz"}); err == nil || !strings.Contains(err.Error(), "it has vllm, lmcache") {
		t.Errorf("Select(zzz) error = %v", err)
	}
}

// TestSecretsNotInDiagnostics checks that no diagnostic, snippet or plan
// shows a sensitive value, however it reaches them: quoted by a function's
// error, as a condition's text, in the source line of a -var or -var-file
// value, or on the line of a header that failed to evaluate.
func TestSecretsNotInDiagnostics(t *testing.T) {
	const pw = `variable "pw" {
  type      = string
  sensitive = true
  default   = "pw-value-123"
}
`
	dir := t.TempDir()
	varFile := filepath.Join(dir, "secret.hcl")
	if err := os.WriteFile(varFile, []byte("pw = \"vf-secret-000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		src    string
		opts   Options
		secret string
		where  string // a position the diagnostics must still name; "" for a valid file
	}{
		{"function error", pw + "locals {\n  n = tonumber(var.pw)\n}\n" + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			Options{}, "pw-value-123", "test.hcl:7:16"},
		{"env in a failing call", "locals {\n  n = tonumber(env(\"MRQA_T_TOK\"))\n}\n" + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			Options{Env: []string{"MRQA_T_TOK=env-secret-456"}}, "env-secret-456", "test.hcl:2:16"},
		{"condition", pw + validSkeleton(`  slo "a" { condition = var.pw }`), Options{}, "pw-value-123", "test.hcl:24:25"},
		{"-var text", `variable "creds" {
  type      = map(string)
  sensitive = true
}
` + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			Options{Vars: map[string]string{"creds": `{id = "raw-secret-789", x = `}}, "raw-secret-789", "<value for var.creds>:1:"},
		{"-var-file line", pw + validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			Options{VarFiles: []string{varFile}}, "vf-secret-000", "secret.hcl:1:"},
		{"header line", strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			`base_url = "http://127.0.0.1:8000/v1"`,
			`base_url = "http://127.0.0.1:8000/v1"
  headers  = { authorization = "Bearer sk-literal-111", x = 1 + "a" }`, 1),
			Options{}, "sk-literal-111", "test.hcl:3:"},
		{"plan", pw + strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }
  report { title = "run ${var.pw}" }`), `base_url = "http://127.0.0.1:8000/v1"`,
			`base_url = "http://127.0.0.1:8000/v1"
  model    = "m-${var.pw}"`, 1), Options{}, "pw-value-123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Env == nil {
				tt.opts.Env = testEnv
			}
			loaded := LoadSource("test.hcl", []byte(tt.src), tt.opts)
			var buf bytes.Buffer
			if err := loaded.WriteDiagnostics(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if tt.where == "" {
				if loaded.Diags.HasErrors() {
					t.Fatalf("unexpected errors:\n%s", out)
				}
				out += planText(loaded.File)
			} else if !loaded.Diags.HasErrors() || !strings.Contains(out, tt.where) {
				t.Errorf("want an error at %s:\n%s", tt.where, out)
			}
			if strings.Contains(out, tt.secret) {
				t.Errorf("%q shown:\n%s", tt.secret, out)
			}
		})
	}
}

// TestPlainVariableFeedingASecret checks that a variable not marked
// sensitive is still listed as "(sensitive)" when its value became a secret
// (here the api_key), so results.json does not show it.
func TestPlainVariableFeedingASecret(t *testing.T) {
	src := "variable \"key\" {\n  default = \"\"\n}\nvariable \"other\" {\n  default = \"shown\"\n}\n" + strings.Replace(
		validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`base_url = "http://127.0.0.1:8000/v1"`,
		`base_url = "http://127.0.0.1:8000/v1"
  api_key  = var.key`, 1)
	f := mustLoad(t, src, Options{Vars: map[string]string{"key": "sk-from-flag"}})
	if v := f.Variables[0]; v.Value != redactedText {
		t.Errorf("variable feeding api_key recorded as %+v", v)
	}
	if v := f.Variables[1]; v.Value != "shown" {
		t.Errorf("plain variable recorded as %+v", v)
	}
}

// TestShortSecretsKeepText checks that a short header value, a secret by
// rule, does not turn every occurrence of its text into "(sensitive)".
func TestShortSecretsKeepText(t *testing.T) {
	src := strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`base_url = "http://127.0.0.1:8000/v1"`,
		`base_url = "http://127.0.0.1:8000/v1"
  headers  = { "x-retry" = "1" }`, 1)
	f := mustLoad(t, src, Options{})
	for _, keep := range []string{"documents = 16", `concurrent = [1, 2]`, `"x-retry" = (sensitive)`} {
		if !strings.Contains(f.Redacted, keep) {
			t.Errorf("Redacted lost %q:\n%s", keep, f.Redacted)
		}
	}
}

// TestMissingPathWarns checks that a corpus directory or tokenizer file that
// is not there is a warning at validate time, not an error, and that one
// that is there is silent.
func TestMissingPathWarns(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, tokenizer string
		warnings        int
	}{
		{"docs", "cl100k_base", 0},
		{"./nope", "cl100k_base", 1},
		{"docs", "hf:./missing.json", 1},
		{"nope", "hf:missing", 2},
	} {
		src := strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			`source "synthetic" { documents = 16 }`,
			fmt.Sprintf("source \"dir\" { path = %q }\n  tokenizer = %q", tt.path, tt.tokenizer), 1)
		loaded := LoadSource(filepath.Join(dir, "test.hcl"), []byte(src), Options{Env: testEnv})
		var buf bytes.Buffer
		_ = loaded.WriteDiagnostics(&buf)
		if loaded.Diags.HasErrors() {
			t.Fatalf("%s %s: errors:\n%s", tt.path, tt.tokenizer, buf.String())
		}
		n := 0
		for _, d := range loaded.Diags {
			if d.Summary == "Path not found" {
				n++
			}
		}
		if n != tt.warnings {
			t.Errorf("%s %s: %d warnings, want %d:\n%s", tt.path, tt.tokenizer, n, tt.warnings, buf.String())
		}
	}
}

// The target's api_key and headers go with the /metrics scrape only when
// it is on the target's host; elsewhere the block must name its own.
func TestMetricsCredentialsStayOnTheTargetsHost(t *testing.T) {
	for _, tc := range []struct {
		url    string
		bearer string
		warn   bool
	}{
		{"https://gpu.example.com/metrics", "sk-k", false},
		{"https://collector.example.net/metrics", "", true},
	} {
		src := `
target "t" {
  base_url = "https://gpu.example.com/v1"
  api_key  = "sk-k"
  metrics { url = "` + tc.url + `" }
}
corpus "c" {
  source "synthetic" { documents = 1 }
}
script "s" {
  opening   = "Read ${document}"
  questions = ["Why?"]
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
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
`
		l := LoadSource(filepath.Join(t.TempDir(), "m.hcl"), []byte(src), Options{Env: testEnv})
		if l.File == nil {
			t.Fatalf("%s: %v", tc.url, l.Diags)
		}
		m := l.File.Scenarios[0].Target.Metrics
		warned := strings.Contains(l.Diags.Error(), "Metrics on another host")
		if m.BearerToken != tc.bearer || warned != tc.warn {
			t.Errorf("%s: bearer %q, warned %v; want %q, %v", tc.url, m.BearerToken, warned, tc.bearer, tc.warn)
		}
	}
}

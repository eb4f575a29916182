package starter

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

const testKey = "sk-starter-secret-4711"

// testEnv is the environment the files are loaded with: the key env()
// reads.
func testEnv() []string { return []string{"STARTER_KEY=" + testKey} }

// TestRenderGolden keeps the written files reviewable: the simulator's, a
// vLLM server's with 32k context and an API key, and a server that states
// no context length.
func TestRenderGolden(t *testing.T) {
	tests := []struct {
		golden string
		target Target
	}{
		{"sim.hcl", Target{}},
		{"vllm-32k.hcl", Target{BaseURL: "http://127.0.0.1:8000/v1", Model: "Qwen/Qwen2.5-7B-Instruct", Listed: 1, APIKeyEnv: "STARTER_KEY", MaxModelLen: 32768}},
		{"unknown-context.hcl", Target{BaseURL: "https://gpu.example/v1", Model: "b", Listed: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			f, err := Render(tc.target, "mrqa.hcl", testEnv())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, f.Src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Src, want) {
				t.Errorf("%s differs from what Render writes (go test -update rewrites it):\n%s", path, f.Src)
			}
			if formatted, _ := dsl.Format(f.Src, "mrqa.hcl"); !bytes.Equal(formatted, f.Src) {
				t.Error("the file is not in mrqa fmt's layout")
			}
		})
	}
}

// The written file loads into the scenario the choice describes, with the
// key read from the environment and never written.
func TestRenderLoads(t *testing.T) {
	tg := Target{BaseURL: "http://127.0.0.1:8000/v1", Model: "m", Listed: 1, APIKeyEnv: "STARTER_KEY", MaxModelLen: 131072}
	f, err := Render(tg, "mrqa.hcl", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(f.Src, []byte(testKey)) || !bytes.Contains(f.Src, []byte(`env("STARTER_KEY")`)) {
		t.Errorf("the file should read the key with env(\"STARTER_KEY\") and never hold it:\n%s", f.Src)
	}
	sc := loadOne(t, f.Src, nil)
	if sc.Target.BaseURL != tg.BaseURL || sc.Target.Model != "m" || sc.Target.APIKey != testKey {
		t.Errorf("target %q %q key %q", sc.Target.BaseURL, sc.Target.Model, sc.Target.APIKey)
	}
	got := []int{sc.Corpus.Tokens, sc.Rounds, sc.Script.MaxTokens, sc.Corpus.Source.Documents}
	if want := []int{97280, 3, 256, 32}; !slices.Equal(got, want) {
		t.Errorf("tokens, rounds, max_tokens, documents = %v, want %v", got, want)
	}
	if !slices.Equal(sc.Grid.Concurrent, []int{1, 2, 4, 8}) || !slices.Equal(sc.Grid.Sequential, []int{1, 2, 4}) ||
		sc.Search == nil || sc.Assign != spec.AssignDistinct {
		t.Errorf("grid %v × %v, search %v, assign %q", sc.Grid.Concurrent, sc.Grid.Sequential, sc.Search, sc.Assign)
	}
}

// The variables shrink a run from the command line, and the corpus follows
// the grid: one document per session of the largest point.
func TestRenderVariables(t *testing.T) {
	f, err := Render(Target{}, "mrqa.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := loadOne(t, f.Src, map[string]string{"concurrent": "[1, 2]", "sequential": "[3]", "document_tokens": "1024", "max_tokens": "8"})
	got := []int{sc.Corpus.Source.Documents, sc.Corpus.Tokens, sc.Script.MaxTokens}
	if want := []int{6, 1024, 8}; !slices.Equal(got, want) {
		t.Errorf("documents, tokens, max_tokens = %v, want %v", got, want)
	}
	if sc.Target.Simulator == nil || sc.Target.Simulator.Profile != SimProfile || sc.Target.Simulator.Clock != spec.ClockVirtual {
		t.Errorf("simulator %+v", sc.Target.Simulator)
	}
}

// A model name is the server's text: quotes, template sequences, control
// and bidirectional characters reach the file escaped, and the file names
// exactly that model.
func TestRenderHostileModel(t *testing.T) {
	model := "org/\"m\"${x}%{if}\\\n\x1b[2J\u202e"
	f, err := Render(Target{BaseURL: "http://h/v1", Model: model, Listed: 1, MaxModelLen: 8192}, "mrqa.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(f.Src, "\x1b\u202e") {
		t.Errorf("the file holds a raw control or bidi character:\n%s", f.Src)
	}
	if sc := loadOne(t, f.Src, nil); sc.Target.Model != model {
		t.Errorf("model = %q, want %q", sc.Target.Model, model)
	}
}

// A template that writes a broken file fails Render, saying so, and returns
// nothing to write: a file that does not parse, and one that parses but
// does not validate.
func TestRenderBrokenTemplate(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"syntax", `scenario "x" {`, "does not parse (a bug in mrqa init)"},
		{"invalid", `target "t" { base_url = {{.BaseURL}} }`, "does not validate (a bug in mrqa init)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := template.Must(template.New("t").Parse(`{{define "single"}}` + tc.text + "\n{{end}}"))
			f, err := render(tmpl, Target{BaseURL: "ftp://h/v1", Model: "m", MaxModelLen: 8192}, "mrqa.hcl", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if f.Src != nil {
				t.Errorf("returned a file to write:\n%s", f.Src)
			}
		})
	}
}

// loadOne loads src as validate would and returns its one scenario.
func loadOne(t *testing.T, src []byte, vars map[string]string) *spec.Scenario {
	t.Helper()
	l := dsl.LoadSource("mrqa.hcl", src, dsl.Options{Vars: vars, Env: testEnv()})
	if len(l.Diags) > 0 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b)
		t.Fatalf("diagnostics:\n%s", b.String())
	}
	if len(l.File.Scenarios) != 1 {
		t.Fatalf("%d scenarios", len(l.File.Scenarios))
	}
	return l.File.Scenarios[0]
}

// TestRenderPairGolden keeps the pair -split writes reviewable, for the
// simulator and for a server with an API key.
func TestRenderPairGolden(t *testing.T) {
	tests := []struct {
		dir    string
		target Target
	}{
		{"pair-sim", Target{}},
		{"pair-vllm-32k", Target{BaseURL: "http://127.0.0.1:8000/v1", Model: "Qwen/Qwen2.5-7B-Instruct", Listed: 1, APIKeyEnv: "STARTER_KEY", MaxModelLen: 32768}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			p, err := RenderPair(tc.target, ".", testEnv())
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range map[string][]byte{WorkloadFileName: p.Workload, TargetFileName: p.Target} {
				path := filepath.Join("testdata", tc.dir, name)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, src, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(src, want) {
					t.Errorf("%s differs from what RenderPair writes (go test -update rewrites it):\n%s", path, src)
				}
				if formatted, _ := dsl.Format(src, name); !bytes.Equal(formatted, src) {
					t.Errorf("%s is not in mrqa fmt's layout", name)
				}
			}
		})
	}
}

// The pair divides the one-file form's blocks: the target file declares
// only the target (and its base_url variable), the workload everything
// else, and together they load to the same scenario as the one file. A
// serving team's own target file of the same name takes the simulator's
// place without a change to the workload.
func TestRenderPairSplitsTheFile(t *testing.T) {
	server := Target{BaseURL: "http://127.0.0.1:8000/v1", Model: "m", Listed: 1, MaxModelLen: 32768}
	p, err := RenderPair(server, "cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Render(server, "mrqa.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Choice.DocumentTokens != one.Choice.DocumentTokens || p.Choice.Rounds != one.Choice.Rounds {
		t.Errorf("pair chose %+v, one file %+v", p.Choice, one.Choice)
	}
	blocks := func(src []byte) []string {
		var out []string
		for _, line := range strings.Split(string(src), "\n") {
			if line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '}' && strings.HasSuffix(line, "{") {
				out = append(out, strings.TrimSuffix(line, " {"))
			}
		}
		return out
	}
	if got, want := blocks(p.Target), []string{`variable "base_url"`, `target "server"`}; !slices.Equal(got, want) {
		t.Errorf("target file declares %q, want %q", got, want)
	}
	if got := blocks(p.Workload); slices.Contains(got, `target "server"`) || !slices.Contains(got, `scenario "capacity"`) {
		t.Errorf("workload file declares %q", got)
	}
	pairSc := loadPair(t, p.Workload, p.Target)
	oneSc := loadOne(t, one.Src, nil)
	if pairSc.Target.BaseURL != oneSc.Target.BaseURL || pairSc.Rounds != oneSc.Rounds ||
		!slices.Equal(pairSc.Grid.Concurrent, oneSc.Grid.Concurrent) || pairSc.Corpus.Tokens != oneSc.Corpus.Tokens {
		t.Errorf("the pair loads to %+v, the one file to %+v", pairSc, oneSc)
	}

	sim, err := RenderPair(Target{}, "cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	team := []byte("target \"server\" {\n  base_url = \"http://10.0.0.7:8000/v1\"\n}\n")
	if sc := loadPair(t, sim.Workload, team); sc.Target.BaseURL != "http://10.0.0.7:8000/v1" || sc.Target.Simulator != nil {
		t.Errorf("a team's own target file: base_url %q, simulator %v", sc.Target.BaseURL, sc.Target.Simulator)
	}
}

// loadPair loads a workload and a target file as one configuration and
// returns its one scenario.
func loadPair(t *testing.T, workload, target []byte) *spec.Scenario {
	t.Helper()
	l := dsl.LoadSources([]dsl.Source{{Path: "cfg/target.hcl", Text: target}, {Path: "cfg/workload.hcl", Text: workload}}, dsl.Options{})
	if l.Diags.HasErrors() {
		t.Fatalf("the pair does not load: %s", l.Diags.Error())
	}
	if len(l.File.Scenarios) != 1 {
		t.Fatalf("%d scenarios", len(l.File.Scenarios))
	}
	return l.File.Scenarios[0]
}

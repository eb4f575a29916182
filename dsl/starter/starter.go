// Package starter writes the scenario file mrqa init starts a user with. It
// picks the workload from the target's context length (Pick), fills a
// template, formats the result as mrqa fmt does and loads it as validate
// would, so that a file it returns always validates: a template or rule that
// produced a broken file fails here, before anything is written.
package starter

import (
	"bytes"
	_ "embed"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

// FileName is the file init writes into its directory.
const FileName = "mrqa.hcl"

// The pair init -split writes: the workload a platform team publishes and
// the target a serving team keeps beside it.
const (
	WorkloadFileName = "workload.hcl"
	TargetFileName   = "target.hcl"
)

// Names of the blocks the file declares.
const (
	scenarioName = "capacity"
	scriptName   = "critic"
)

// SimProfile is the simulator profile a file without a server runs: a 7B
// model on vLLM with a KV cache the grid's larger points outgrow.
const SimProfile = profile.SeedVLLM

//go:embed starter.hcl.tmpl
var templateText string

// Target is what init knows about the server the file measures.
type Target struct {
	// BaseURL is the server's OpenAI-compatible root; "" writes a file
	// against the embedded simulator (SimProfile, virtual clock).
	BaseURL string
	Model   string // the model requests name
	Listed  int    // how many models the server lists
	// APIKeyEnv names the environment variable that holds the API key; the
	// file reads it with env() when it runs. "" for none.
	APIKeyEnv string
	// MaxModelLen is the context length the server states; 0 when it
	// states none.
	MaxModelLen int
}

// File is a rendered starter file.
type File struct {
	Src    []byte // formatted, and loads without errors
	Choice Choice // the workload it runs
}

// Pair is the starter configuration init -split writes: two files that
// load as one.
type Pair struct {
	Workload, Target []byte // formatted; together they load without errors
	Choice           Choice
}

// parse reads the embedded template.
func parse() (*template.Template, error) {
	tmpl, err := template.New(FileName).Funcs(template.FuncMap{"intList": intList, "comment": comment}).Parse(templateText)
	if err != nil {
		return nil, fmt.Errorf("starter template: %w", err)
	}
	return tmpl, nil
}

// Render writes the starter file for t. path names the file in
// diagnostics (and anchors relative paths); env is the environment the
// file is loaded with, where env() finds the API key.
func Render(t Target, path string, env []string) (File, error) {
	tmpl, err := parse()
	if err != nil {
		return File{}, err
	}
	return render(tmpl, t, path, env)
}

// render is Render with the template given, so that a test can hand it a
// broken one.
func render(tmpl *template.Template, t Target, path string, env []string) (File, error) {
	data, err := newFileData(t, false)
	if err != nil {
		return File{}, err
	}
	src, err := execute(tmpl, "single", data, path)
	if err != nil {
		return File{}, err
	}
	if err := load([]dsl.Source{{Path: path, Text: src}}, env); err != nil {
		return File{}, err
	}
	return File{Src: src, Choice: data.Choice}, nil
}

// RenderPair writes the starter configuration for t as two files of dir:
// the workload (variables, corpus, script, scenario) and the target it
// names, which a serving team replaces with its own.
func RenderPair(t Target, dir string, env []string) (Pair, error) {
	tmpl, err := parse()
	if err != nil {
		return Pair{}, err
	}
	data, err := newFileData(t, true)
	if err != nil {
		return Pair{}, err
	}
	workloadPath, targetPath := filepath.Join(dir, WorkloadFileName), filepath.Join(dir, TargetFileName)
	workload, err := execute(tmpl, "workload-file", data, workloadPath)
	if err != nil {
		return Pair{}, err
	}
	target, err := execute(tmpl, "target-file", data, targetPath)
	if err != nil {
		return Pair{}, err
	}
	srcs := []dsl.Source{{Path: targetPath, Text: target}, {Path: workloadPath, Text: workload}}
	if err := load(srcs, env); err != nil {
		return Pair{}, err
	}
	return Pair{Workload: workload, Target: target, Choice: data.Choice}, nil
}

// execute fills the named template and formats the result as mrqa fmt
// would; path names the file in a parse error.
func execute(tmpl *template.Template, name string, data *fileData, path string) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("starter template: %w", err)
	}
	src, diags := dsl.Format(tidy(b.Bytes()), path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("the starter file does not parse (a bug in mrqa init): %s", diags.Error())
	}
	return src, nil
}

// tidy drops the blank lines the template's parts leave where they meet:
// those before the first line, and all but one between two lines.
func tidy(src []byte) []byte {
	lines := strings.Split(strings.TrimLeft(string(src), "\n"), "\n")
	out := lines[:0]
	for i, line := range lines {
		if strings.TrimSpace(line) == "" && i > 0 && strings.TrimSpace(lines[i-1]) == "" {
			continue
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}

// load proves that srcs validate as one configuration. The values that
// come from outside (a model name, a URL, an environment variable's name)
// are checked or escaped before they reach the template, so an error here
// is a bug in the template or the rule.
func load(srcs []dsl.Source, env []string) error {
	l := dsl.LoadSources(srcs, dsl.Options{Env: env})
	if !l.Diags.HasErrors() {
		return nil
	}
	var out bytes.Buffer
	_ = l.WriteDiagnostics(&out)
	return fmt.Errorf("the starter file does not validate (a bug in mrqa init):\n%s", out.String())
}

// fileData is what the template reads. Strings that end up in the file
// are HCL literals, quoted and escaped.
type fileData struct {
	Choice
	Sim       bool
	Profile   string
	SimModel  string // the profile's model, shown in the vLLM form
	KVTokens  int    // the profile's KV cache
	BaseURL   string // HCL literal
	Model     string // HCL literal
	Listed    int
	APIKeyEnv string
	Questions []string // HCL literals
	Sessions  int      // C×S at the grid's largest point
	Answers   int      // (rounds + 1) × max_tokens
	// TargetName is the target block's name: "sim" or "server" in one
	// file; "server" in a pair, whichever server it is, since a serving
	// team replaces the block under the name the workload uses.
	TargetName string

	ScenarioName, ScriptName string
}

func newFileData(t Target, pair bool) (*fileData, error) {
	d := &fileData{Sim: t.BaseURL == "", BaseURL: quote(t.BaseURL), Model: quote(t.Model),
		Listed: t.Listed, APIKeyEnv: t.APIKeyEnv, ScenarioName: scenarioName, ScriptName: scriptName,
		TargetName: "server"}
	if d.Sim && !pair {
		d.TargetName = "sim"
	}
	contextLen := t.MaxModelLen
	if d.Sim {
		cfg, err := profile.Config(SimProfile)
		if err != nil {
			return nil, err
		}
		d.Profile, d.SimModel, d.KVTokens, d.Model = SimProfile, cfg.Model, cfg.KVCacheTokens, quote(cfg.Model)
		contextLen = cfg.MaxModelLen
	}
	ch, err := Pick(contextLen)
	if err != nil {
		return nil, err
	}
	d.Choice = ch
	d.Sessions = ch.Concurrent[len(ch.Concurrent)-1] * ch.Sequential[len(ch.Sequential)-1]
	d.Answers = (ch.Rounds + 1) * ch.MaxTokens
	for _, q := range questions() {
		d.Questions = append(d.Questions, quote(q))
	}
	return d, nil
}

// questions are the follow-ups every session asks, the source benchmark's
// first one and two more in its manner.
func questions() []string {
	return []string{
		"Write down the author's feelings.",
		"Which character changes the most over the course of the novel, and what brings the change about?",
		"How does the narrator's point of view shape what the reader is allowed to know?",
	}
}

// intList is a list of whole numbers in HCL: [1, 2, 4].
func intList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// quote is s as an HCL string literal: quotes, backslashes, control and
// invisible characters escaped, and ${ and %{ doubled so that text a server
// chose (a model name) is never read as a template.
func quote(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}

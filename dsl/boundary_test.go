package dsl

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// TestRuntimeImportsNoDSL asserts the boundary docs/architecture.md
// describes: runtime depends on neither this package nor HCL/cty.
func TestRuntimeImportsNoDSL(t *testing.T) {
	for _, d := range goListDeps(t, "./runtime/...") {
		if strings.HasSuffix(d, "/dsl") || strings.Contains(d, "/dsl/") ||
			strings.Contains(d, "hashicorp/hcl") || strings.Contains(d, "zclconf/go-cty") {
			t.Errorf("runtime depends on %s", d)
		}
	}
}

// TestDSLLinksNoServer asserts the other side of the boundary: the scenario
// language depends on runtime's contracts (spec, metrics, the simulator's
// profiles, the completions template's syntax), never on an HTTP server, the
// HTTP client or a tokenizer.
func TestDSLLinksNoServer(t *testing.T) {
	const mod = "github.com/mrqa-dev/mrqa/"
	forbidden := map[string]string{
		"net/http":                 "an HTTP stack",
		"net/http/httptest":        "a test server",
		mod + "runtime/openai":     "the HTTP client",
		mod + "runtime/sim":        "the simulator's front door",
		mod + "runtime/sim/server": "the simulator's HTTP server",
		mod + "runtime/tokenizer":  "tokenizers",
		mod + "runtime/corpus":     "corpus loading",
	}
	for _, d := range goListDeps(t, "./dsl") {
		if why, ok := forbidden[d]; ok {
			t.Errorf("dsl depends on %s (%s)", d, why)
		}
	}
}

// goListDeps lists the packages pattern depends on, from the module root.
func goListDeps(t *testing.T, pattern string) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	cmd := exec.Command(goBin, "list", "-e", "-deps", pattern)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		// Other packages may be mid-edit; still check what was listed.
		t.Logf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list listed nothing")
	}
	return deps
}

// TestDocsListEveryName checks docs/language.md against the code: every
// metric name, function, block and attribute appears in it.
func TestDocsListEveryName(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "language.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var names []string
	names = append(names, metrics.Names(metrics.ScopePoint)...)
	names = append(names, metrics.Names(metrics.ScopeSweep)...)
	for _, name := range names {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/language.md does not list metric `%s`", name)
		}
	}
	l := newLoader("x.hcl", []Source{{Path: "x.hcl"}}, Options{})
	for name := range l.functions(".") {
		if !regexp.MustCompile("`" + name + `\(`).MatchString(doc) {
			t.Errorf("docs/language.md does not document function `%s(...)`", name)
		}
	}
	schemas := []*hcl.BodySchema{fileSchema, variableSchema, targetSchema, timeoutsSchema, tlsSchema, metricsSchema,
		betweenPointsSchema, simulatorSchema, corpusSchema, scriptSchema, scenarioSchema, gridSchema,
		searchSchema, sloSchema, reportSchema, mrqaSchema}
	for _, s := range sourceSchemas {
		schemas = append(schemas, s)
	}
	for _, s := range schemas {
		for _, a := range s.Attributes {
			if !strings.Contains(doc, "`"+a.Name+"`") {
				t.Errorf("docs/language.md does not document attribute `%s`", a.Name)
			}
		}
		for _, bl := range s.Blocks {
			if !strings.Contains(doc, "`"+bl.Type) {
				t.Errorf("docs/language.md does not document block `%s`", bl.Type)
			}
		}
	}
}

// TestGeneratedTables keeps the tables docs/language.md embeds in step
// with runtime/metrics and runtime/sim (go test -update rewrites them).
func TestGeneratedTables(t *testing.T) {
	path := filepath.Join("..", "docs", "language.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, sec := range []struct {
		name  string
		table string
	}{
		{"metrics", MetricTable()},
		{"simulator", SimulatorTable()},
	} {
		begin, end := "<!-- "+sec.name+":begin -->\n", "<!-- "+sec.name+":end -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s lacks the %q … %q markers", path, begin, end)
		}
		if doc[i+len(begin):j] == sec.table {
			continue
		}
		if !*update {
			t.Errorf("the %s table in %s is stale; run go test ./dsl -run TestGeneratedTables -update", sec.name, path)
			continue
		}
		doc = doc[:i+len(begin)] + sec.table + doc[j:]
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	table := MetricTable()
	for _, n := range metrics.Names(metrics.ScopePoint) {
		if !slices.Contains(strings.Fields(strings.ReplaceAll(table, "`", " ")), n) {
			t.Errorf("MetricTable lacks %s", n)
		}
	}
}

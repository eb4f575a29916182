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
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	cmd := exec.Command(goBin, "list", "-e", "-deps", "./runtime/...")
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
	for _, d := range deps {
		if strings.HasSuffix(d, "/dsl") || strings.Contains(d, "/dsl/") ||
			strings.Contains(d, "hashicorp/hcl") || strings.Contains(d, "zclconf/go-cty") {
			t.Errorf("runtime depends on %s", d)
		}
	}
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
	l := newLoader("x.hcl", Options{})
	for name := range l.functions() {
		if !regexp.MustCompile("`" + name + `\(`).MatchString(doc) {
			t.Errorf("docs/language.md does not document function `%s(...)`", name)
		}
	}
	schemas := []*hcl.BodySchema{fileSchema, variableSchema, targetSchema, timeoutsSchema, tlsSchema, metricsSchema,
		betweenPointsSchema, simulatorSchema, corpusSchema, scriptSchema, scenarioSchema, gridSchema,
		searchSchema, sloSchema, reportSchema}
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

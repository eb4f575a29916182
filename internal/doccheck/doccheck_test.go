package doccheck

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository root, seen from this package.
const root = "../.."

// TestNamedPathsExist fails for every path a Go comment or a Markdown file
// names that the repository does not hold: a reader must be able to open
// what the text points at.
func TestNamedPathsExist(t *testing.T) {
	r := newRepo(t)
	for _, ln := range r.lines(t) {
		for _, p := range pathsIn(ln.text, r.top) {
			if !r.resolves(path.Dir(ln.file), p) {
				t.Errorf("%s:%d names %q, which is not in the repository", ln.file, ln.line, p)
			}
		}
	}
}

// TestNoIssueNumbers fails for every issue or pull-request number a Go
// comment or a Markdown file cites: the reader has no tracker to open.
func TestNoIssueNumbers(t *testing.T) {
	r := newRepo(t)
	for _, ln := range r.lines(t) {
		if m := issueRE.FindString(ln.text); m != "" {
			t.Errorf("%s:%d cites %q: say what it means instead", ln.file, ln.line, strings.TrimSpace(m))
		}
	}
}

// TestPackagesDocumented fails when the README's architecture section or
// docs/architecture.md leaves out a package, or the README does not link
// the architecture document.
func TestPackagesDocumented(t *testing.T) {
	r := newRepo(t)
	if len(r.packages) < 10 {
		t.Fatalf("found only %d packages: %v", len(r.packages), r.packages)
	}
	readme := section(t, "README.md", "## Architecture")
	if !strings.Contains(readme, "(docs/architecture.md)") {
		t.Errorf("README.md's architecture section does not link docs/architecture.md")
	}
	arch := readFile(t, "docs/architecture.md")
	for _, pkg := range r.packages {
		re := regexp.MustCompile(`(^|[\s(\x60])` + regexp.QuoteMeta(pkg) + `/?([\s)\x60,.:;]|$)`)
		if !re.MatchString(readme) {
			t.Errorf("README.md's architecture section does not name package %s", pkg)
		}
		if !re.MatchString(arch) {
			t.Errorf("docs/architecture.md does not name package %s", pkg)
		}
	}
}

// TestPathsIn pins what counts as a named path.
func TestPathsIn(t *testing.T) {
	top := []string{"cmd", "docs", "runtime"}
	tests := []struct {
		text string
		want []string
	}{
		{"see " + outsideDoc + " §2", []string{outsideDoc}},
		{"(see foo/bar.go).", []string{"foo/bar.go"}},
		{"in [results](docs/x.md#schema), then", []string{"docs/x.md"}},
		{"the tests in split_test.go", []string{"split_test.go"}},
		{"package runtime/spec: the plain form", []string{"runtime/spec"}},
		{"under `runtime/report/assets/`", []string{"runtime/report/assets/"}},
		{"cmd/mrqa/testdata/script/*.txtar", []string{"cmd/mrqa/testdata/script/"}},
		{"skipped when ../shared/corpus is absent", []string{"../shared/corpus"}},
		{"https://github.com/x/y/blob/main/" + outsideDoc + " and github.com/x/runtime/z", nil},
		{"out/<scenario>/results.json and points/c<C>_s<S>.jsonl", nil},
		{"sc.Name, e.g. 1.5, io.Writer and and/or", nil},
		{"a name ending in .go or .md", nil},
	}
	for _, tc := range tests {
		if got := pathsIn(tc.text, top); !slices.Equal(got, tc.want) {
			t.Errorf("pathsIn(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// issueWord and outsideDoc are spelled in pieces so that this file does not
// itself read as citing an issue number or a document outside the
// repository to a plain text search.
const (
	issueWord  = "iss" + "ue"
	outsideDoc = "DES" + "IGN.md"
)

// TestIssueRE pins what counts as an issue reference.
func TestIssueRE(t *testing.T) {
	for text, want := range map[string]bool{
		"fixed in " + issueWord + " #12": true,
		"see " + issueWord + " 12":       true,
		"as PR #7 did":                   true,
		"(#345)":                         true,
		"issues are counted":             false,
		"color #313695":                  false,
		"results.md#reading-lmb":         false,
		"the 2nd issue, 3 times":         false,
	} {
		if got := issueRE.MatchString(text); got != want {
			t.Errorf("issueRE on %q = %v, want %v", text, got, want)
		}
	}
}

// issueRE matches a cited issue or pull request: the word (issue, PR, pull
// request, ticket) followed by a number, with or without a hash sign, or a
// hash sign and a number of up to five digits after a space or bracket.
var issueRE = regexp.MustCompile(`(?i)\b(?:issues?|prs?|pull requests?|tickets?)\s*(?:#|no\.?\s*)?\d+\b|(?:^|[\s(\[])#\d{1,5}\b`)

var (
	// urlRE matches URLs and import paths, whose paths are not the repository's.
	urlRE = regexp.MustCompile(`(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.|github\.com/|golang\.org/|honnef\.co/)[^\s)\]>"'\x60]*`)
	// tokenRE matches a run of the characters paths are written with.
	tokenRE = regexp.MustCompile(`[A-Za-z0-9_./*<>-]+`)
)

// pathsIn returns the paths text names: a name ending in .go or .md, a
// path that starts with one of the repository's top-level folders, or a
// path that climbs out with "../". A path with a wildcard or placeholder
// is cut to the folder before it; one cut to nothing is left out.
func pathsIn(text string, top []string) []string {
	text = urlRE.ReplaceAllString(text, " ")
	var out []string
	for _, tok := range tokenRE.FindAllString(text, -1) {
		tok = strings.TrimRight(tok, ".:")
		if strings.HasPrefix(path.Base(tok), ".") {
			continue // an extension alone, a hidden file, or a bare "../"
		}
		if i := strings.IndexAny(tok, "*<>"); i >= 0 {
			tok = tok[:strings.LastIndex(tok[:i], "/")+1]
		}
		if tok == "" {
			continue
		}
		first, _, nested := strings.Cut(tok, "/")
		switch {
		case strings.HasSuffix(tok, ".go") || strings.HasSuffix(tok, ".md"):
		case strings.HasPrefix(tok, "../"):
		case nested && slices.Contains(top, first):
		default:
			continue
		}
		out = append(out, tok)
	}
	return out
}

// repo is what the checks know of the repository.
type repo struct {
	root      string
	top       []string // top-level folders
	sources   []string // .go and .md files, slash paths from the root
	packages  []string // folders with non-test Go files
	generated []string // folders tools create (.gitignore's folder lines)
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{root: root}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !skipDir(e.Name()) {
			r.top = append(r.top, e.Name())
		}
	}
	pkgs := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (skipDir(d.Name()) || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(rel, "_test.go"), strings.HasSuffix(rel, ".md"):
			r.sources = append(r.sources, rel)
		case strings.HasSuffix(rel, ".go"):
			r.sources = append(r.sources, rel)
			pkgs[path.Dir(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range pkgs {
		r.packages = append(r.packages, p)
	}
	slices.Sort(r.packages)
	for _, l := range strings.Split(readFile(t, ".gitignore"), "\n") {
		if l = strings.TrimSpace(l); strings.HasSuffix(l, "/") && !strings.HasPrefix(l, "#") {
			r.generated = append(r.generated, strings.TrimPrefix(l, "/"))
		}
	}
	return r
}

// skipDir reports folders that are not the repository's own text: hidden
// ones, installed packages and run outputs.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules" || name == "out"
}

// line is one line of prose: a Go comment's line or a Markdown line.
type line struct {
	file string
	line int
	text string
}

// lines returns every comment line of the Go sources and every line of the
// Markdown files.
func (r *repo) lines(t *testing.T) []line {
	t.Helper()
	var out []line
	for _, f := range r.sources {
		full := filepath.Join(r.root, filepath.FromSlash(f))
		if strings.HasSuffix(f, ".md") {
			sc := bufio.NewScanner(strings.NewReader(readFile(t, f)))
			sc.Buffer(nil, 1<<20)
			for n := 1; sc.Scan(); n++ {
				out = append(out, line{f, n, sc.Text()})
			}
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, full, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range file.Comments {
			for _, c := range g.List {
				start := fset.Position(c.Pos()).Line
				for i, text := range strings.Split(c.Text, "\n") {
					out = append(out, line{f, start + i, text})
				}
			}
		}
	}
	return out
}

// resolves reports whether p, named in a file of folder dir, is in the
// repository: relative to dir (as Markdown links are) or to the root, and
// never outside it. A path inside a folder that tools create counts.
func (r *repo) resolves(dir, p string) bool {
	for _, base := range []string{dir, "."} {
		rel := path.Clean(path.Join(base, p))
		if rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.root, filepath.FromSlash(rel))); err == nil {
			return true
		}
		for _, g := range r.generated {
			if rel+"/" == g || strings.HasPrefix(rel, g) {
				return true
			}
		}
	}
	return false
}

// section returns a Markdown file's section from its heading to the next
// heading of the same level.
func section(t *testing.T, file, heading string) string {
	t.Helper()
	text := readFile(t, file)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("%s has no %q section", file, heading)
	}
	rest := text[i+len(heading)+2:]
	level := heading[:strings.Index(heading, " ")+1]
	if j := strings.Index(rest, "\n"+level); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

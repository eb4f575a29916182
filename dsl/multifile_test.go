package dsl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// A workload in one file and the target it names in another, as a platform
// team and a serving team would split them.
const (
	workloadFile = `variable "max_tokens" {
  type    = number
  default = 4
}
locals {
  questions = ["Why?", "How?"]
}
corpus "c" {
  source "synthetic" { documents = 2 }
  tokens = 64
}
script "s" {
  opening    = "Read ${document}"
  questions  = local.questions
  max_tokens = var.max_tokens
}
scenario "w" {
  target = target.sim
  corpus = corpus.c
  script = script.s
  rounds = 1
  grid {
    concurrent = [1]
    sequential = [local.sessions]
  }
  slo "ttft" { condition = "ttft_p95 <= 5s" }
}
`
	clusterFile = `locals {
  sessions = 2
}
target "sim" {
  simulator {
    profile = "quickstart"
    clock   = "virtual"
  }
}
`
)

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestLoadSources(t *testing.T) {
	work := Source{Path: "w/workload.hcl", Text: []byte(workloadFile)}
	cluster := Source{Path: "w/cluster.hcl", Text: []byte(clusterFile)}
	team := Source{Path: "w/team.mrqavars.hcl", Text: []byte("max_tokens = 7\n")}
	tests := []struct {
		name      string
		srcs      []Source
		wantErr   string // a summary among the errors; "" for none
		path      string
		maxTokens int
		roles     []string
	}{
		{"references across files", []Source{work, cluster}, "", "w/workload.hcl w/cluster.hcl", 4, []string{"configuration", "configuration"}},
		{"file order does not matter", []Source{cluster, work}, "", "w/cluster.hcl w/workload.hcl", 4, []string{"configuration", "configuration"}},
		{"a variable file", []Source{work, cluster, team}, "", "w/workload.hcl w/cluster.hcl", 7, []string{"configuration", "configuration", "variables"}},
		{"a missing sibling", []Source{work}, "Reference to undeclared", "", 0, nil},
		{"only variable files", []Source{team}, "No configuration files", "", 0, nil},
		{"nothing", nil, "No configuration files", "", 0, nil},
		{"a file twice", []Source{work, cluster, work}, "File given twice", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := LoadSources(tt.srcs, Options{Env: testEnv})
			if tt.wantErr != "" {
				if loaded.File != nil || !hasError(loaded.Diags, tt.wantErr) {
					t.Fatalf("want an error %q, got %v", tt.wantErr, loaded.Diags)
				}
				return
			}
			f := requireFile(t, loaded)
			sc := f.Scenarios[0]
			if sc.Target.Name != "sim" || sc.Grid.Sequential[0] != 2 || sc.Script.MaxTokens != tt.maxTokens {
				t.Errorf("target %q, sequential %v, max_tokens %d; want sim, [2], %d", sc.Target.Name, sc.Grid.Sequential, sc.Script.MaxTokens, tt.maxTokens)
			}
			if f.Path != tt.path {
				t.Errorf("Path = %q, want %q", f.Path, tt.path)
			}
			var roles []string
			for i, sf := range f.Files {
				roles = append(roles, sf.Role)
				if sf.Path != tt.srcs[i].Path || sf.SHA256 != hexSum(tt.srcs[i].Text) || sf.Redacted != string(tt.srcs[i].Text) {
					t.Errorf("Files[%d] = %+v, want %s as read", i, sf, tt.srcs[i].Path)
				}
			}
			if strings.Join(roles, ",") != strings.Join(tt.roles, ",") {
				t.Errorf("roles %v, want %v", roles, tt.roles)
			}
			// Two configuration files: one digest over both, and no single text.
			if f.Redacted != "" || f.SHA256 == hexSum(tt.srcs[0].Text) || len(f.SHA256) != 64 {
				t.Errorf("File.SHA256 %q, Redacted %q: want a combined digest and no text", f.SHA256, f.Redacted)
			}
		})
	}
}

func requireFile(t *testing.T, loaded *Loaded) *spec.File {
	t.Helper()
	if loaded.Diags.HasErrors() || loaded.File == nil {
		var buf bytes.Buffer
		_ = loaded.WriteDiagnostics(&buf)
		t.Fatalf("unexpected errors:\n%s", buf.String())
	}
	return loaded.File
}

func hasError(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && strings.Contains(d.Summary, summary) {
			return true
		}
	}
	return false
}

// TestOneFileAsBefore: a configuration of one file records what a single
// scenario file always did: its own digest and its redacted text.
func TestOneFileAsBefore(t *testing.T) {
	src := []byte(workloadFile + "locals {\n  sessions = 2\n}\n" +
		"target \"sim\" {\n  base_url = \"http://127.0.0.1:8000/v1\"\n  api_key  = \"sk-one-file-secret\"\n}\n")
	f := requireFile(t, LoadSource("one.hcl", src, Options{Env: testEnv}))
	if f.Path != "one.hcl" || f.SHA256 != hexSum(src) {
		t.Errorf("Path %q SHA256 %q; want one.hcl and the file's own sha256", f.Path, f.SHA256)
	}
	if len(f.Files) != 1 || f.Files[0].Redacted != f.Redacted || !strings.Contains(f.Redacted, `api_key  = (sensitive)`) {
		t.Errorf("Redacted = %q, Files = %+v: want the redacted text in both", f.Redacted, f.Files)
	}
}

// TestDuplicatesAcrossFiles: a name declared in two files is an error at
// the second, naming the first's file:line:column.
func TestDuplicatesAcrossFiles(t *testing.T) {
	// The first file declares one of each, at known places.
	first := Source{Path: "a.hcl", Text: []byte("mrqa {}\n" + workloadFile + clusterFile)}
	tests := []struct {
		name    string
		second  string // the second file's text, declaring again a name of the first
		summary string
		at      string // where the second declaration is (the subject)
		first   string // where the first is, as the detail names it
	}{
		{"target", "target \"sim\" {\n  base_url = \"http://127.0.0.1:1/v1\"\n}\n", `Duplicate target "sim"`, "b.hcl:1:8", "a.hcl:32:1"},
		{"variable", "variable \"max_tokens\" {\n  default = 5\n}\n", `Duplicate variable "max_tokens"`, "b.hcl:1:10", "a.hcl:2:1"},
		{"scenario", "\n\nscenario \"w\" {\n  target = target.sim\n}\n", `Duplicate scenario "w"`, "b.hcl:3:10", "a.hcl:18:1"},
		{"local", "locals {\n  # one name in two files\n  questions = []\n}\n", "Duplicate local value", "b.hcl:3:3", "a.hcl:7:3"},
		{"corpus", "corpus \"c\" {\n  source \"synthetic\" { documents = 1 }\n}\n", `Duplicate corpus "c"`, "b.hcl:1:8", "a.hcl:9:1"},
		{"script", "script \"s\" {\n  opening = \"x\"\n}\n", `Duplicate script "s"`, "b.hcl:1:8", "a.hcl:13:1"},
		{"mrqa block", "# pinned twice\nmrqa {}\n", "Duplicate mrqa block", "b.hcl:2:1", "a.hcl:1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := LoadSources([]Source{first, {Path: "b.hcl", Text: []byte(tt.second)}}, Options{Env: testEnv})
			var found *hcl.Diagnostic
			for _, d := range loaded.Diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary, tt.summary) {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no error %q among %v", tt.summary, loaded.Diags)
			}
			if got := where(*found.Subject); got != tt.at {
				t.Errorf("subject at %s, want %s", got, tt.at)
			}
			if !regexp.MustCompile(`(declared|defined) at ` + regexp.QuoteMeta(tt.first) + `\.`).MatchString(found.Detail) {
				t.Errorf("detail %q does not name the first at %s", found.Detail, tt.first)
			}
		})
	}
}

// writeFiles writes name → text under dir, making folders as needed.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadFilesDirectory: a directory is every .hcl file directly in it,
// in name order, with its variable files applied; files named one by one
// bring the variable files beside them.
func TestLoadFilesDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"shared/workload.hcl":        workloadFile,
		"shared/b-cluster.hcl":       clusterFile,
		"shared/team.mrqavars.hcl":   "max_tokens = 9\n",
		"shared/notes.txt":           "not a configuration file",
		"shared/.#workload.hcl":      "an editor's lock file",
		"shared/nested/ignored.hcl":  "target \"sim\" {}",
		"empty/team.mrqavars.hcl":    "max_tokens = 9\n",
		"split/workload/w.hcl":       workloadFile,
		"split/mine/cluster.hcl":     clusterFile,
		"split/mine/x.mrqavars.hcl":  "max_tokens = 3\n",
		"split/other/y.mrqavars.hcl": "max_tokens = 99\n",
	})
	shared := filepath.Join(dir, "shared")
	tests := []struct {
		name    string
		paths   []string
		wantErr string
		files   []string // base names in load order
		tokens  int
	}{
		{"directory", []string{shared}, "", []string{"b-cluster.hcl", "workload.hcl", "team.mrqavars.hcl"}, 9},
		{"files", []string{filepath.Join(shared, "workload.hcl"), filepath.Join(shared, "b-cluster.hcl")}, "", []string{"workload.hcl", "b-cluster.hcl", "team.mrqavars.hcl"}, 9},
		{"a glob with the variable file", []string{filepath.Join(shared, "b-cluster.hcl"), filepath.Join(shared, "team.mrqavars.hcl"), filepath.Join(shared, "workload.hcl")}, "", []string{"b-cluster.hcl", "workload.hcl", "team.mrqavars.hcl"}, 9},
		{"files from two folders", []string{filepath.Join(dir, "split/workload/w.hcl"), filepath.Join(dir, "split/mine/cluster.hcl")}, "", []string{"w.hcl", "cluster.hcl", "x.mrqavars.hcl"}, 3},
		{"no scenario file", []string{filepath.Join(dir, "empty")}, "No configuration files", nil, 0},
		{"a directory among files", []string{shared, filepath.Join(shared, "workload.hcl")}, "A directory among other paths", nil, 0},
		{"a file that is not there", []string{filepath.Join(shared, "none.hcl")}, "Cannot read scenario file", nil, 0},
		{"a file twice", []string{filepath.Join(shared, "workload.hcl"), filepath.Join(shared, "b-cluster.hcl"), filepath.Join(shared, "workload.hcl")}, "File given twice", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := LoadFiles(tt.paths, Options{Env: testEnv})
			if tt.wantErr != "" {
				if loaded.File != nil || !hasError(loaded.Diags, tt.wantErr) {
					t.Fatalf("want an error %q, got %v", tt.wantErr, loaded.Diags)
				}
				return
			}
			f := requireFile(t, loaded)
			var got []string
			for _, sf := range f.Files {
				got = append(got, filepath.Base(sf.Path))
			}
			if strings.Join(got, " ") != strings.Join(tt.files, " ") {
				t.Errorf("files %v, want %v", got, tt.files)
			}
			if f.Path != strings.Join(tt.paths, " ") {
				t.Errorf("Path = %q, want the paths as given", f.Path)
			}
			if n := f.Scenarios[0].Script.MaxTokens; n != tt.tokens {
				t.Errorf("max_tokens = %d, want %d from the variable file", n, tt.tokens)
			}
		})
	}
}

// TestRelativePathsPerFile: file() and a corpus folder start at the
// directory of the file that names them, whichever file that is.
func TestRelativePathsPerFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"workload/w.hcl": strings.Replace(strings.Replace(workloadFile,
			`source "synthetic" { documents = 2 }`, `source "dir" { path = "docs" }`, 1),
			`"Read ${document}"`, `"${trimspace(file("opening.txt"))} ${document}"`, 1),
		"workload/opening.txt": "Read the workload's opening.\n",
		"workload/docs/a.txt":  strings.Repeat("word ", 200),
		"workload/docs/b.txt":  strings.Repeat("text ", 200),
		"mine/cluster.hcl":     strings.Replace(clusterFile, "sessions = 2", `sessions = length(split(",", file("n.txt")))`, 1),
		"mine/n.txt":           "1,2",
	})
	loaded := LoadFiles([]string{filepath.Join(dir, "workload/w.hcl"), filepath.Join(dir, "mine/cluster.hcl")}, Options{Env: testEnv})
	for _, d := range loaded.Diags {
		if d.Summary == "Path not found" {
			t.Errorf("warning: %s", d.Detail)
		}
	}
	sc := requireFile(t, loaded).Scenarios[0]
	if got := sc.Script.Opening[0].Text; got != "Read the workload's opening. " {
		t.Errorf("opening starts %q, want the text of workload/opening.txt", got)
	}
	if sc.Grid.Sequential[0] != 2 {
		t.Errorf("sequential %v: want [2], from mine/n.txt", sc.Grid.Sequential)
	}
	if want := filepath.Join(dir, "workload"); sc.Corpus.BaseDir != want {
		t.Errorf("corpus BaseDir %q, want %q", sc.Corpus.BaseDir, want)
	}
}

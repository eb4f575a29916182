package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// TestRecordedSources: -from loads the recorded configuration files and
// reads file() from the recorded copies; results written before every file
// was recorded run from file.text; with no text at all it refuses.
func TestRecordedSources(t *testing.T) {
	tests := []struct {
		name     string
		rec      results.Results
		paths    string // the configuration files loaded
		inputs   string // the file() copies
		errorHas string
	}{
		{"every file recorded", results.Results{
			File: results.File{Path: "cfg"},
			Files: []results.File{
				{Path: "cfg/a.hcl", Redacted: "a", Role: spec.RoleConfiguration},
				{Path: "cfg/b.hcl", Redacted: "b", Role: spec.RoleConfiguration},
				{Path: "cfg/t.mrqavars.hcl", Redacted: "x = 1", Role: spec.RoleVariables},
				{Path: "cfg/q.txt", Redacted: "q", Role: spec.RoleInput},
			}}, "cfg/a.hcl cfg/b.hcl", "cfg/q.txt", ""},
		{"older: file.text only", results.Results{File: results.File{Path: "s.hcl", Redacted: "text"}}, "s.hcl", "", ""},
		{"no text", results.Results{File: results.File{Path: "s.hcl"}}, "", "",
			"-from old: its results.json records no text of the configuration s.hcl (neither files nor file.text), so it cannot run again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs, inputs, err := recordedSources("old", &tt.rec)
			if tt.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errorHas) {
					t.Fatalf("err = %v, want %q", err, tt.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var paths, in []string
			for _, s := range srcs {
				paths = append(paths, s.Path)
			}
			for p := range inputs {
				in = append(in, p)
			}
			if got := strings.Join(paths, " "); got != tt.paths {
				t.Errorf("configuration files %q, want %q", got, tt.paths)
			}
			if got := strings.Join(in, " "); got != tt.inputs {
				t.Errorf("file() copies %q, want %q", got, tt.inputs)
			}
		})
	}
}

// TestRecordedVariables: a recording's secrets (sensitive, or a value that
// held one) are asked for; the other values apply again, defaults
// included, so that an MRQA_VAR_ in the environment cannot change them.
func TestRecordedVariables(t *testing.T) {
	vars := []results.Var{
		{Name: "key", Value: redactedValue, Sensitive: true, Source: "env"},
		{Name: "team", Value: redactedValue, Source: "flag"},
		{Name: "rounds", Value: "2", Source: "flag"},
		{Name: "sizes", Value: "[1,2]", Source: "file"},
		{Name: "seed", Value: "7", Source: "default"},
	}
	if got := strings.Join(secretVariables(vars), " "); got != "key team" {
		t.Errorf("secrets %q, want key team", got)
	}
	if got := recordedValues(vars); len(got) != 3 || got["rounds"] != "2" || got["sizes"] != "[1,2]" || got["seed"] != "7" {
		t.Errorf("recorded values %v", got)
	}
	given := []spec.Variable{{Name: "key", Source: "env"}, {Name: "team", Source: "default"}}
	if got := strings.Join(notGivenAnew([]string{"key", "team"}, given), " "); got != "team" {
		t.Errorf("not given anew: %q, want team (a default is not the secret)", got)
	}
}

// TestRerunDir: the re-run's folder is new, beside the recording, never
// the recording's own or inside it, however named.
func TestRerunDir(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "shared")
	for _, d := range []string{src, src + "-rerun"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(src, filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	if got, err := (fromRun{dir: src + "/"}).outDir(""); err != nil || got != src+"-rerun2" {
		t.Errorf("default folder %q, %v; want %s-rerun2", got, err, src)
	}
	t.Chdir(src)
	if got, err := (fromRun{dir: "."}).outDir(""); err != nil || got != "../shared-rerun2" {
		t.Errorf("-from . default folder %q, %v; want ../shared-rerun2", got, err)
	}
	for _, out := range []string{src, src + "/.", filepath.Join(src, "points"), filepath.Join(dir, "alias"), filepath.Join(dir, "alias", "new")} {
		if _, err := (fromRun{dir: src, outGiven: true}).outDir(out); err == nil || !strings.Contains(err.Error(), "would write into the recording's folder") {
			t.Errorf("-out %s: %v; want a refusal", out, err)
		}
	}
	for _, out := range []string{dir, ".."} {
		if _, err := (fromRun{dir: src, outGiven: true}).outDir(out); err == nil || !strings.Contains(err.Error(), "the recording lies inside that folder") {
			t.Errorf("-out %s: %v; want a refusal (it holds the recording)", out, err)
		}
	}
	if got, err := (fromRun{dir: src, outGiven: true}).outDir(filepath.Join(dir, "mine")); err != nil || got != filepath.Join(dir, "mine") {
		t.Errorf("-out mine: %q, %v", got, err)
	}
}

// TestFromHint: the command that resumes a re-run names the recording and
// the re-run's folder, and hides secrets as every resume hint does.
func TestFromHint(t *testing.T) {
	file := &spec.File{Variables: []spec.Variable{{Name: "key", Sensitive: true}}, Secrets: []string{"sk-Vq7Jm2Xc9Lz4Pw"}}
	tests := []struct {
		name string
		fr   fromRun
		args []string
		want string
	}{
		{"default folder", fromRun{dir: "out/s"}, []string{"-from", "out/s", "-var", "key=sk-Vq7Jm2Xc9Lz4Pw"},
			"mrqa exec -from out/s -out out/s-rerun -resume -var key=...\n(secrets are not repeated: replace each ... with the secret)"},
		{"-out given", fromRun{dir: "out/s", outGiven: true}, []string{"-from", "out/s", "-out", "mine", "-lmbench"},
			"mrqa exec -from out/s -resume -out mine -lmbench"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromHint(tt.fr, "out/s-rerun", tt.args, file); got != tt.want {
				t.Errorf("hint\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestPrintOverrides: each variable whose value differs from the
// recording's is printed with both values, a new value that holds a secret
// without it; secrets the recording left out are not overrides.
func TestPrintOverrides(t *testing.T) {
	recorded := []results.Var{
		{Name: "key", Value: redactedValue, Sensitive: true},
		{Name: "rounds", Value: "1"},
		{Name: "base_url", Value: "http://gpu1:8000/v1"},
		{Name: "seed", Value: "7"},
	}
	now := []spec.Variable{
		{Name: "key", Value: redactedValue, Sensitive: true, Source: "env"},
		{Name: "rounds", Value: "2", Source: "flag"},
		{Name: "base_url", Value: redactedValue, Source: "file"},
		{Name: "seed", Value: "7", Source: "recorded"},
	}
	var stderr strings.Builder
	e := &execRun{stderr: &stderr}
	names := e.printOverrides("out/s", recorded, now)
	if got := strings.Join(names, " "); got != "rounds base_url" {
		t.Errorf("overridden %q, want rounds base_url", got)
	}
	want := `-from out/s: var.rounds = "2" (recorded: "1"), from -var
-from out/s: var.base_url differs from the recording's "http://gpu1:8000/v1", from -var-file (the new value holds a secret: not shown)
`
	if stderr.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", stderr.String(), want)
	}
}

package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func TestFilesNote(t *testing.T) {
	a := results.File{Path: "w/a.hcl", SHA256: "aa"}
	b := results.File{Path: "w/b.hcl", SHA256: "bb"}
	b2 := results.File{Path: "w/b.hcl", SHA256: "b2"}
	c := results.File{Path: "w/c.hcl", SHA256: "cc"}
	tests := []struct {
		name      string
		prev, cur []results.File
		want      string
	}{
		{"older results record no files", nil, []results.File{a, b}, ""},
		{"the same files", []results.File{a, b}, []results.File{a, b}, ""},
		{"a sibling edited", []results.File{a, b}, []results.File{a, b2}, "; files changed since that run: w/b.hcl (edited)"},
		{"one added, one gone", []results.File{a, b}, []results.File{a, c}, "; files changed since that run: w/c.hcl (new), w/b.hcl (gone)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := filesNote(tt.prev, tt.cur); got != tt.want {
				t.Errorf("filesNote = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestResumeOlderResults: a folder written before results.json listed the
// configuration's files resumes as before; once it lists them, a refused
// resume names the file that changed beside the field.
func TestResumeOlderResults(t *testing.T) {
	srv := httptest.NewServer(&recordingServer{})
	defer srv.Close()
	file, sc := sweepScenario(t, srv.URL+"/v1", false)
	file.Files = []spec.SourceFile{{Path: "w/a.hcl", SHA256: "aa", Role: spec.RoleConfiguration}, {Path: "w/b.hcl", SHA256: "bb", Role: spec.RoleConfiguration}}
	sc.Grid.Concurrent = []int{1}
	out := t.TempDir()
	if _, err := Run(context.Background(), file, sc, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	dir := Dir(sc, out)
	dropKey(t, filepath.Join(dir, "results.json"), "files")

	sc.Grid.Concurrent = []int{1, 2}
	var log strings.Builder
	r, err := Run(context.Background(), file, sc, Options{OutDir: out, Resume: true, Progress: &log})
	if err != nil || len(r.Points) != 2 || !strings.Contains(log.String(), "resuming: 1 points already complete") {
		t.Fatalf("resuming older results: err %v, %d points; log:\n%s", err, len(r.Points), log.String())
	}

	file.Files[1].SHA256 = "b2"
	sc.Script.MaxTokens++
	_, err = Run(context.Background(), file, sc, Options{OutDir: out, Resume: true})
	if !errors.Is(err, ErrOutputInUse) || !strings.Contains(err.Error(), "script.max_tokens") || !strings.Contains(err.Error(), "files changed since that run: w/b.hcl (edited)") {
		t.Fatalf("resume after an edit: err %v; want it refused naming script.max_tokens and w/b.hcl", err)
	}
}

// dropKey removes a top-level key from a JSON file, as an older mrqa wrote it.
func dropKey(t *testing.T, path, key string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m[key]; !ok {
		t.Fatalf("%s has no %q to drop", path, key)
	}
	delete(m, key)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

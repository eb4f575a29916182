package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSourcesGivenTwice: one file under any spelling is refused as
// given twice, once; two files of one name in two folders are not.
func TestCheckSourcesGivenTwice(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, name := range []string{"w.hcl", "sub/w.hcl"} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("# x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link("w.hcl", "hard.hcl"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		twice bool
	}{
		{"as typed", []string{"w.hcl", "w.hcl"}, true},
		{"dot slash", []string{"w.hcl", "./w.hcl"}, true},
		{"absolute", []string{"w.hcl", filepath.Join(dir, "w.hcl")}, true},
		{"through a folder and back", []string{"w.hcl", "sub/../w.hcl"}, true},
		{"hard link", []string{"w.hcl", "hard.hcl"}, true},
		{"same name, other folder", []string{"w.hcl", "sub/w.hcl"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []Source
			for _, p := range tt.paths {
				srcs = append(srcs, Source{Path: p})
			}
			diags := checkSources(srcs)
			n := strings.Count(diags.Error(), "File given twice")
			if want := map[bool]int{true: 1, false: 0}[tt.twice]; n != want || (len(diags) > 0) != tt.twice {
				t.Errorf("checkSources(%v) = %v; want %d \"File given twice\"", tt.paths, diags, want)
			}
		})
	}
}

// TestSortVarFiles: variable files apply by file name, then full path,
// whatever order they come in.
func TestSortVarFiles(t *testing.T) {
	want := []string{"b/a.mrqavars.hcl", "a/z.mrqavars.hcl", "b/z.mrqavars.hcl"}
	for _, in := range [][]string{
		{"a/z.mrqavars.hcl", "b/a.mrqavars.hcl", "b/z.mrqavars.hcl"},
		{"b/z.mrqavars.hcl", "a/z.mrqavars.hcl", "b/a.mrqavars.hcl"},
	} {
		srcs := make([]Source, len(in))
		for i, p := range in {
			srcs[i] = Source{Path: p}
		}
		sortVarFiles(srcs)
		for i, s := range srcs {
			if s.Path != want[i] {
				t.Errorf("sortVarFiles(%v)[%d] = %s, want %s", in, i, s.Path, want[i])
			}
		}
	}
}

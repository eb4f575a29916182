package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteBytes(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantPerm fs.FileMode
	}{
		{"default mode", Options{Pattern: ".f.tmp*"}, 0o600},
		{"set mode, synced", Options{Pattern: ".f.tmp*", Perm: 0o644, Sync: true}, 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := WriteBytes(path, []byte("new"), tt.opts); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != "new" {
				t.Fatalf("contents = %q, %v; want \"new\"", got, err)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != tt.wantPerm {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), tt.wantPerm)
			}
			assertOnly(t, dir, "f")
		})
	}
}

// A failing fill leaves the old file and no temporary file behind.
func TestWriteFillFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, Options{Pattern: ".f.tmp*"}, func(w io.Writer) error {
		_, _ = w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("contents = %q, want \"old\"", got)
	}
	assertOnly(t, dir, "f")
}

func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}

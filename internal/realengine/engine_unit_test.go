package realengine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPackages(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(packageJSON, &pkg); err != nil || len(pkg.Dependencies) == 0 {
		t.Fatalf("node/package.json pins nothing: %v", err)
	}
	// install writes each pinned package's package.json, at the version
	// override names for it ("-": not at all).
	install := func(t *testing.T, override map[string]string) string {
		dir := t.TempDir()
		for name, v := range pkg.Dependencies {
			if o, ok := override[name]; ok {
				v = o
			}
			if v == "-" {
				continue
			}
			if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name, "package.json"), []byte(`{"version":"`+v+`"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for _, c := range []struct {
		name     string
		override map[string]string
		want     string // in the error; "" for none
	}{
		{"pinned", nil, ""},
		{"missing", map[string]string{"node-llama-cpp": "-"}, "node-llama-cpp@"},
		{"other version", map[string]string{"@node-llama-cpp/linux-x64": "9.9.9"}, "is 9.9.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkPackages(install(t, c.override))
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("checkPackages: %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "defghijk" {
		t.Errorf("kept %q, want the last 8 bytes", got)
	}
}

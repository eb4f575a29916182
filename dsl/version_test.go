package dsl

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestRequiredVersionAllows(t *testing.T) {
	tests := []struct {
		constraint string
		version    string
		want       bool
	}{
		{">= 0.3, < 2", "v0.3.0", true},
		{">= 0.3, < 2", "v1.9.9", true},
		{">= 0.3, < 2", "v0.2.0", false},
		{">= 0.3, < 2", "v2.0.0", false},
		{"0.3.1", "v0.3.1", true},
		{"= 0.3", "v0.3.0", true},
		{"= 0.3", "v0.3.1", false},
		{"!= 0.3.1", "v0.3.1", false},
		{"> 0.3.1", "v0.3.2", true},
		{"<= 0.3.1", "v0.3.1", true},
		{"~> 1.2.3", "v1.2.9", true},
		{"~> 1.2.3", "v1.3.0", false},
		{"~> 1.2.3", "v1.2.2", false},
		{"~> 1.2", "v1.9.0", true},
		{"~> 1.2", "v2.0.0", false},
		{"~> 1", "v1.5.0", true},
		{"~> 1", "v2.0.0", false},
		{">=v1.0.0", "v1.0.0", true},
		// Prereleases and pseudo-versions by semver precedence: 1.0.0-rc.1
		// comes before 1.0.0, a commit after 0.3.1 before 0.3.2.
		{">= 1.0", "v1.0.0-rc.1", false},
		{">= 1.0.0-rc.1", "v1.0.0-rc.2", true},
		{">= 0.3.1, < 0.3.2", "v0.3.2-0.20260101120000-abcdefabcdef", true},
		{">= 0.3.2", "v0.3.2-0.20260101120000-abcdefabcdef+dirty", false},
	}
	for _, tt := range tests {
		t.Run(tt.constraint+" "+tt.version, func(t *testing.T) {
			cs, err := parseRequiredVersion(tt.constraint)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := releaseVersion(tt.version)
			if !ok {
				t.Fatalf("releaseVersion(%q) is not a version", tt.version)
			}
			got := true
			for _, c := range cs {
				got = got && c.allows(v)
			}
			if got != tt.want {
				t.Errorf("allows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequiredVersionMalformed(t *testing.T) {
	for _, s := range []string{"", ">=", ">= 0.3,", "=> 1", "1.2.3.4", "one", ">= 1.0+build", "~> 1.x", "< 2 3"} {
		if _, err := parseRequiredVersion(s); err == nil {
			t.Errorf("parseRequiredVersion(%q) accepted it", s)
		}
	}
}

func TestReleaseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when the build has no version
	}{
		{"v0.3.0", "v0.3.0"},
		{"0.2.0", "v0.2.0"},
		{"v1.0.0-rc.1", "v1.0.0-rc.1"},
		{"v0.3.2-0.20260101120000-abcdefabcdef+dirty", "v0.3.2-0.20260101120000-abcdefabcdef+dirty"},
		{"v0.0.0-20260101120000-abcdefabcdef", ""},
		{"v0.0.0-20260101120000-abcdefabcdef+dirty", ""},
		{"devel", ""},
		{"devel-abcdefabcdef-dirty", ""},
		{"(devel)", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := releaseVersion(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("releaseVersion(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// TestVersionCheckFirst: a configuration the running mrqa is outside of
// stops with one error naming both versions, before its other errors and
// before its variables are evaluated; inside, it loads; a build without a
// version warns once and loads.
func TestVersionCheckFirst(t *testing.T) {
	pinned := func(c string) string { return "mrqa {\n  required_version = \"" + c + "\"\n}\n" }
	broken := "variable \"x\" {}\n" + `target "t" { base_ur = "x" }` + "\n" // a required variable unset, a typo
	tests := []struct {
		name    string
		srcs    []Source
		version string
		errs    []string // the error summaries, in order
		warn    string   // a warning's summary, or ""
		detail  string   // in the first diagnostic's detail
	}{
		{"outside", []Source{{"a.hcl", []byte(pinned(">= 0.3, < 2") + broken)}}, "v0.2.0", []string{"Unsupported mrqa version"}, "",
			"This configuration requires mrqa >= 0.3, < 2; this is mrqa 0.2.0."},
		{"outside, in a sibling file that does not parse", []Source{{"a.hcl", []byte(broken + "}}")}, {"b.hcl", []byte(pinned("~> 2.1.0") + "target {")}}, "v2.2.0", []string{"Unsupported mrqa version"}, "",
			"requires mrqa ~> 2.1.0; this is mrqa 2.2.0."},
		{"inside", []Source{{"a.hcl", []byte(pinned(">= 0.3") + workloadFile + clusterFile)}}, "v0.3.0", nil, "", ""},
		{"devel", []Source{{"a.hcl", []byte(pinned(">= 0.3") + workloadFile + clusterFile)}}, "devel", nil, "mrqa version not checked",
			"This configuration requires mrqa >= 0.3, but this build of mrqa has no release version (devel:"},
		{"no version given", []Source{{"a.hcl", []byte(pinned(">= 0.3") + workloadFile + clusterFile)}}, "", nil, "mrqa version not checked", ""},
		{"malformed", []Source{{"a.hcl", []byte(pinned(">= 0.x") + workloadFile + clusterFile)}}, "v0.3.0", []string{"Invalid required_version"}, "", `"0.x" is not a version`},
		{"not a literal", []Source{{"a.hcl", []byte("mrqa {\n  required_version = var.v\n}\n" + workloadFile + clusterFile)}}, "v0.3.0", []string{"Invalid required_version"}, "", "string literal"},
		{"unknown attribute", []Source{{"a.hcl", []byte("mrqa {\n  version = \"1\"\n}\n" + workloadFile + clusterFile)}}, "v0.3.0", []string{"Unsupported argument"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := LoadSources(tt.srcs, Options{Env: testEnv, Version: tt.version})
			var errs []string
			warns := 0
			for _, d := range loaded.Diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d.Summary)
				} else if d.Summary == tt.warn {
					warns++
				}
			}
			if strings.Join(errs, "|") != strings.Join(tt.errs, "|") {
				t.Errorf("errors %q, want %q", errs, tt.errs)
			}
			if tt.warn != "" && warns != 1 {
				t.Errorf("%d warnings %q, want one", warns, tt.warn)
			}
			if tt.detail != "" && (len(loaded.Diags) == 0 || !strings.Contains(loaded.Diags[0].Detail, tt.detail)) {
				t.Errorf("first diagnostic %v; want its detail to contain %q", loaded.Diags, tt.detail)
			}
			if len(tt.errs) == 0 && (loaded.File == nil || loaded.File.RequiredVersion == "") {
				t.Errorf("File %v: want it loaded with its required_version", loaded.File)
			}
		})
	}
}

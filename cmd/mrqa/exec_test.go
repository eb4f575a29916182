package main

import (
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// The resume hint repeats the run's flags but never a secret.
func TestResumeHintHidesSecrets(t *testing.T) {
	file := &spec.File{
		Variables: []spec.Variable{
			{Name: "api_key", Sensitive: true},
			{Name: "short", Sensitive: true},
			{Name: "base_url"},
			{Name: "team"},
			{Name: "max_tokens"},
		},
		Secrets: []string{"sk-Vq7Jm2Xc9Lz4Pw", "tok:pw-Hq7Zc2Kp5", "pw-Hq7Zc2Kp5", "hdr-Jf4kQ8zN2w", "ab"},
	}
	for _, tc := range []struct {
		name   string
		args   []string
		want   string
		hidden bool
	}{
		{"no secrets", []string{"s.hcl", "-var", "max_tokens=4", "-out", "o", "-lmbench", "-resume"},
			"mrqa exec s.hcl -resume -var max_tokens=4 -out o -lmbench", false},
		{"sensitive variable", []string{"s.hcl", "-var", "api_key=sk-Vq7Jm2Xc9Lz4Pw"},
			"mrqa exec s.hcl -resume -var api_key=...", true},
		{"sensitive variable, = form", []string{"s.hcl", "--var=api_key=sk-Vq7Jm2Xc9Lz4Pw"},
			"mrqa exec s.hcl -resume -var api_key=...", true},
		{"short sensitive variable", []string{"s.hcl", "-var", "short=ab"},
			"mrqa exec s.hcl -resume -var short=...", true},
		{"URL credentials", []string{"s.hcl", "-var", "base_url=http://tok:pw-Hq7Zc2Kp5@10.0.0.5:8000/v1"},
			"mrqa exec s.hcl -resume -var base_url=http://...@10.0.0.5:8000/v1", true},
		{"URL credentials of no known secret", []string{"s.hcl", "-var", "base_url=https://u:p@h/v1"},
			"mrqa exec s.hcl -resume -var base_url=https://...@h/v1", true},
		{"secret inside another variable", []string{"s.hcl", "-var", "team=x hdr-Jf4kQ8zN2w"},
			"mrqa exec s.hcl -resume -var 'team=x ...'", true},
		{"scenario and var-file kept", []string{"-scenario", "a", "s.hcl", "-var-file", "v.hcl"},
			"mrqa exec s.hcl -resume -scenario a -var-file v.hcl", false},
		{"several files, each quoted", []string{"w.hcl", "my cluster.hcl", "-out", "o"},
			"mrqa exec w.hcl 'my cluster.hcl' -resume -out o", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths := []string{"s.hcl"}
			if strings.HasPrefix(tc.name, "several files") {
				paths = []string{"w.hcl", "my cluster.hcl"}
			}
			got := resumeHint(paths, tc.args, file)
			cmd, note, _ := strings.Cut(got, "\n")
			if cmd != tc.want {
				t.Errorf("hint %q, want %q", cmd, tc.want)
			}
			if (note != "") != tc.hidden {
				t.Errorf("note %q, want one: %v", note, tc.hidden)
			}
			for _, s := range append(file.Secrets[:4:4], "u:p") {
				if strings.Contains(got, s) {
					t.Errorf("hint %q carries %q", got, s)
				}
			}
		})
	}
}

func TestStripCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/v1":                  "http://h/v1",
		"http://u:p@h:1/v1?x=a@b":      "http://...@h:1/v1?x=a@b",
		"http://u@h a https://x:y@z/p": "http://...@h a https://...@z/p",
		"plain text with an @ sign":    "plain text with an @ sign",
		"http://u:p@@h":                "http://...@h",
		"weird://":                     "weird://",
	} {
		if got := stripCredentials(in); got != want {
			t.Errorf("stripCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestTargetBases pins what -target may mean: a root ending in /v1 as given,
// anything else with /v1 added first and as given second; a URL the file
// could not hold safely is a usage error that does not repeat its
// credentials.
func TestTargetBases(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
		err  string
	}{
		{"http://h:8000/v1", []string{"http://h:8000/v1"}, ""},
		{" https://h/v1/ ", []string{"https://h/v1"}, ""},
		{"http://h/openai/V1", []string{"http://h/openai/V1"}, ""},
		{"http://h:8000", []string{"http://h:8000/v1", "http://h:8000"}, ""},
		{"http://h:8000//", []string{"http://h:8000/v1", "http://h:8000"}, ""},
		{"http://h/api", []string{"http://h/api/v1", "http://h/api"}, ""},
		{"h:8000", nil, "want http(s)://host[:port][/v1]"},
		{"ftp://h/v1", nil, "want http(s)://host[:port][/v1]"},
		{"http://user:sk-pass-secret@h/v1", nil, "-target carries credentials"},
		{"http://h/v1?key=1", nil, "without a query or fragment"},
		{"http://sk-pass-secret@h/v1\x7f", nil, "-target: "},
	}
	for _, tc := range tests {
		got, err := targetBases(tc.raw)
		if !slices.Equal(got, tc.want) {
			t.Errorf("targetBases(%q) = %q, want %q", tc.raw, got, tc.want)
		}
		if tc.err == "" {
			if err != nil {
				t.Errorf("targetBases(%q): %v", tc.raw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, new(*usageError)) {
			t.Errorf("targetBases(%q): error %v, want a usage error saying %q", tc.raw, err, tc.err)
		} else if strings.Contains(err.Error(), "sk-pass-secret") {
			t.Errorf("targetBases(%q): error repeats the credentials: %v", tc.raw, err)
		}
	}
}

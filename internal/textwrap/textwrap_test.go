package textwrap

import "testing"

func TestWords(t *testing.T) {
	cases := []struct {
		words  []string
		width  int
		indent string
		want   string
	}{
		{nil, 10, "", ""},
		{[]string{"one", "two", "three"}, 7, "", "one two\nthree"},
		{[]string{"one", "two", "three"}, 9, "  ", "one two\n  three"},
		{[]string{"a", "overlong-word", "b"}, 5, "", "a\noverlong-word\nb"},
		{[]string{"näive", "café"}, 10, "", "näive café"}, // runes, not bytes
	}
	for _, tc := range cases {
		if got := Words(tc.words, tc.width, tc.indent); got != tc.want {
			t.Errorf("Words(%q, %d, %q) = %q, want %q", tc.words, tc.width, tc.indent, got, tc.want)
		}
	}
}

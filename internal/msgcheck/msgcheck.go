// Package msgcheck is for tests: it finds a message that says the same
// thing twice, the mark of an error wrapped with words it already carried
// ("reset prefix cache: reset prefix cache: …", "metrics: field x: metrics:
// …").
package msgcheck

import (
	"strings"
	"unicode"
)

// Repeated returns what msg repeats, or "" when it repeats nothing. Of
// its ": "-separated parts, it finds two neighbours that are the same
// (ignoring case and quotes) and returns them joined as they appear; or a
// one-word label ("metrics", "preflight") that heads two parts anywhere in
// msg, and returns it with its colon.
func Repeated(msg string) string {
	parts := strings.Split(msg, ": ")
	labels := map[string]bool{}
	for i := 0; i+1 < len(parts); i++ {
		a, b := norm(parts[i]), norm(parts[i+1])
		if a != "" && a == b {
			return parts[i] + ": " + parts[i+1] + ":"
		}
		if isLabel(a) {
			if labels[a] {
				return parts[i] + ":"
			}
			labels[a] = true
		}
	}
	return ""
}

// isLabel reports whether s is one word of letters, digits and _ (a step
// or package name, not a sentence or a URL).
func isLabel(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// norm lower-cases a part and drops its quotes and surrounding blanks.
func norm(s string) string {
	s = strings.NewReplacer(`"`, "", "'", "", "`", "").Replace(s)
	return strings.ToLower(strings.TrimSpace(s))
}

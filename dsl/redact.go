package dsl

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// redactedText replaces every sensitive value in outputs.
const redactedText = "(sensitive)"

// redact returns src with the given source ranges and every literal
// occurrence of a secret replaced by redactedText.
func redact(src []byte, ranges []hcl.Range, secrets []string) string {
	rs := make([]hcl.Range, 0, len(ranges))
	for _, r := range ranges {
		if r.Start.Byte >= 0 && r.End.Byte <= len(src) && r.Start.Byte < r.End.Byte {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Byte < rs[j].Start.Byte })
	var b strings.Builder
	at := 0
	for _, r := range rs {
		if r.End.Byte <= at {
			continue // inside a range already replaced
		}
		start := max(r.Start.Byte, at)
		b.Write(src[at:start])
		if start == r.Start.Byte {
			b.WriteString(redactedText)
		}
		at = r.End.Byte
	}
	b.Write(src[at:])
	return scrub(b.String(), secrets)
}

// minSecretLen is the shortest secret scrub replaces wherever it occurs:
// replacing a header value such as "1" or "kv" everywhere would mangle the
// text, and the expressions that carry such values are redacted by range.
const minSecretLen = 3

// scrub replaces every occurrence of a secret in s by redactedText.
func scrub(s string, secrets []string) string {
	// Longest first, so a secret containing another is replaced whole.
	byLen := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		if len(sec) >= minSecretLen {
			byLen = append(byLen, sec)
		}
	}
	sort.Slice(byLen, func(i, j int) bool { return len(byLen[i]) > len(byLen[j]) })
	for _, sec := range byLen {
		s = strings.ReplaceAll(s, sec, redactedText)
	}
	return s
}

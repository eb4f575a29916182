package runtime

import (
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// Sensitive is what every secret is replaced with in outputs.
const Sensitive = "(sensitive)"

// redactor replaces every known secret in text written to any output.
type redactor struct{ r *strings.Replacer }

func newRedactor(secrets []string) *redactor {
	// Longest first, so a secret containing another is replaced whole.
	s := slices.Clone(secrets)
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, v := range s {
		if len(v) >= 3 { // shorter values would redact ordinary text
			pairs = append(pairs, v, Sensitive)
		}
	}
	if len(pairs) == 0 {
		return &redactor{}
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

func (r *redactor) apply(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// redactRecords scrubs the free-text fields of records: error messages may
// echo request headers or URLs.
func redactRecords(recs []metrics.Record, red *redactor) []metrics.Record {
	if red == nil || red.r == nil {
		return recs
	}
	for i := range recs {
		recs[i].Message = red.apply(recs[i].Message)
	}
	return recs
}

package runtime

import (
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// Sensitive is what every secret is replaced with in outputs.
const Sensitive = "(sensitive)"

// cutMark ends a message that was cut short.
const cutMark = "…"

// Redactor replaces every known secret in text written to any output.
type Redactor struct {
	r       *strings.Replacer
	secrets []string // longest first
	with    string
}

// NewRedactor returns a redactor replacing each secret of 3 bytes or more
// (shorter values would redact ordinary text) by with.
func NewRedactor(secrets []string, with string) *Redactor {
	// Longest first, so a secret containing another is replaced whole.
	s := slices.DeleteFunc(withoutUserinfo(secrets), func(v string) bool { return len(v) < 3 })
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	if len(s) == 0 {
		return &Redactor{}
	}
	pairs := make([]string, 0, 2*len(s))
	for _, v := range s {
		pairs = append(pairs, v, with)
	}
	return &Redactor{r: strings.NewReplacer(pairs...), secrets: s, with: with}
}

// withoutUserinfo is secrets with, beside each secret URL that carries
// credentials, the URL without them: outputs write a target's URL with its
// credentials removed, and a URL that is secret as a whole (a sensitive
// variable's) must stay hidden in that form too.
func withoutUserinfo(secrets []string) []string {
	out := slices.Clone(secrets)
	for _, v := range secrets {
		if bare := results.StripUserinfo(v); bare != v {
			out = append(out, bare)
		}
	}
	return out
}

// Redact replaces every secret in s by Sensitive.
func Redact(s string, secrets []string) string {
	return NewRedactor(secrets, Sensitive).Apply(s)
}

// Apply replaces the secrets in s. A text cut short before it reached here
// may end a piece with the start of a secret: before each cut mark, the
// longest start of a secret (3 bytes or more) is replaced too.
func (r *Redactor) Apply(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	s = r.r.Replace(s)
	if !strings.Contains(s, cutMark) {
		return s
	}
	parts := strings.Split(s, cutMark)
	for i := range parts[:len(parts)-1] {
		parts[i] = r.trimStart(parts[i])
	}
	return strings.Join(parts, cutMark)
}

// trimStart replaces the longest start of a secret that ends text.
func (r *Redactor) trimStart(text string) string {
	best := 0
	for _, v := range r.secrets {
		for n := min(len(v)-1, len(text)); n >= 3 && n > best; n-- {
			if strings.HasSuffix(text, v[:n]) {
				best = n
				break
			}
		}
	}
	if best == 0 {
		return text
	}
	return text[:len(text)-best] + r.with
}

// redactor is the sweep's name for a Redactor replacing with Sensitive.
type redactor = Redactor

func newRedactor(secrets []string) *redactor { return NewRedactor(secrets, Sensitive) }

func (r *Redactor) apply(s string) string { return r.Apply(s) }

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

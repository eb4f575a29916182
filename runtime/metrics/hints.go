package metrics

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Hints for conditions expr cannot parse, for the slips people make
// writing an SLO: a duration with a space or a unit Go does not have
// ("2 seconds", "2sec"), and = for a comparison. expr's own messages
// ("unexpected token Identifier") name neither the problem nor the fix.

// unitWords maps the ways people write a time unit, lower-cased, to Go's.
var unitWords = map[string]string{
	"ns": "ns", "nsec": "ns", "nsecs": "ns", "nanosecond": "ns", "nanoseconds": "ns",
	"us": "us", "µs": "us", "usec": "us", "usecs": "us", "microsecond": "us", "microseconds": "us",
	"ms": "ms", "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms",
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}

// goUnit returns Go's unit for word ("sec" → "s"), or "".
func goUnit(word string) string { return unitWords[strings.ToLower(word)] }

// parseHint returns the first slip in text that a hint explains, or nil.
// It is asked only once expr has failed to parse text.
func parseHint(text string) *CompileError {
	var first *CompileError
	for _, ce := range []*CompileError{badNumber(text), spacedUnit(text), loneEquals(text), percent(text)} {
		if ce != nil && (first == nil || ce.Offset < first.Offset) {
			first = ce
		}
	}
	return first
}

// decimalRE matches a decimal number, the kind a duration starts with.
var decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?`)

// unitAfterSpaceRE matches blanks then a word, after a number.
var unitAfterSpaceRE = regexp.MustCompile(`^[ \t]+([\pL]+)`)

// eachNumber calls hint with the offset and text of each decimal number
// outside string literals, in order, until hint returns an error.
func eachNumber(text string, hint func(i int, num string) *CompileError) *CompileError {
	for i := 0; i < len(text); i++ {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			i = skipString(text, i) - 1
			continue
		}
		if !isDigit(ch) || i > 0 && (isIdent(text[i-1]) || text[i-1] == '.') {
			continue
		}
		num := decimalRE.FindString(text[i:])
		if ce := hint(i, num); ce != nil {
			return ce
		}
		i += len(num) - 1
	}
	return nil
}

// spacedUnit finds, outside string literals, the first number followed by
// blanks and a time unit ("2 seconds", "250 ms").
func spacedUnit(text string) *CompileError {
	return eachNumber(text, func(i int, num string) *CompileError {
		m := unitAfterSpaceRE.FindStringSubmatch(text[i+len(num):])
		if m == nil || goUnit(m[1]) == "" {
			return nil
		}
		return &CompileError{Offset: i, Len: len(num) + len(m[0]), Msg: fmt.Sprintf(
			"%q is not a duration: write the number and its unit together, as in %s%s (Go's units: ns, us, ms, s, m, h, as in 250ms or 1m30s)",
			text[i:i+len(num)+len(m[0])], num, goUnit(m[1]))}
	})
}

// letRE matches the end of "let name ", whose = is expr's assignment.
var letRE = regexp.MustCompile(`\blet\s+[\pL_][\pL\pN_]*\s*$`)

// loneEquals finds, outside string literals, the first = that is not part
// of ==, <=, >=, != or a let, and says which comparison to write.
func loneEquals(text string) *CompileError {
	for i := 0; i < len(text); i++ {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			i = skipString(text, i) - 1
			continue
		}
		if ch != '=' {
			continue
		}
		if i+1 < len(text) && text[i+1] == '=' {
			i++ // ==
			continue
		}
		if i > 0 && strings.IndexByte("<>!=", text[i-1]) >= 0 || letRE.MatchString(text[:i]) {
			continue
		}
		if i+1 < len(text) && (text[i+1] == '<' || text[i+1] == '>') {
			return &CompileError{Offset: i, Len: 2, Msg: fmt.Sprintf(
				"%q is not an operator: write %c=", text[i:i+2], text[i+1])}
		}
		return &CompileError{Offset: i, Len: 1, Msg: `"=" is not a comparison: write <= for an upper bound (ttft_p95 <= 2s) or == for equality`}
	}
	return nil
}

// percentAfterRE matches optional blanks then a percent sign, after a number.
var percentAfterRE = regexp.MustCompile(`^[ \t]*%`)

// percent finds, outside string literals, the first number written as a
// percentage ("1%", "0.5 %"). Ratios are fractions, and expr reads % as the
// remainder, so such a condition fails to parse with no word about why.
func percent(text string) *CompileError {
	return eachNumber(text, func(i int, num string) *CompileError {
		sign := percentAfterRE.FindString(text[i+len(num):])
		v, err := strconv.ParseFloat(num, 64)
		if sign == "" || err != nil {
			return nil
		}
		return &CompileError{Offset: i, Len: len(num) + len(sign), Msg: fmt.Sprintf(
			"%q is not a ratio: ratios are fractions from 0 to 1, so write %s for %s%%",
			text[i:i+len(num)+len(sign)], strconv.FormatFloat(v/100, 'g', -1, 64), num)}
	})
}

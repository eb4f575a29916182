package metrics

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// numberRE matches the number literals expr accepts.
var numberRE = regexp.MustCompile(`^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)`)

// badNumber finds, outside string literals, the first token that starts
// like a number but runs on into letters without being a duration literal.
func badNumber(text string) *CompileError {
	for i := 0; i < len(text); {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			i = skipString(text, i)
			continue
		}
		if !isDigit(ch) || i > 0 && (isIdent(text[i-1]) || text[i-1] == '.') {
			i++
			continue
		}
		end := i + len(numberRE.FindString(text[i:]))
		if n := durationLen(text[i:]); n > 0 {
			end = i + n
		} else if end < len(text) && isIdent(text[end]) && !isDigit(text[end]) {
			for end < len(text) && (isIdent(text[end]) || text[end] == '.') {
				end++
			}
			return notANumber(text[i:end], numberRE.FindString(text[i:]), i)
		}
		i = max(end, i+1)
	}
	return nil
}

// notANumber words the error for word, a number num running on into
// letters, at offset: when the letters name a time unit ("2sec", "2S"),
// it says how Go writes it.
func notANumber(word, num string, offset int) *CompileError {
	const rule = "a duration is a number with one of the units ns, us, ms, s, m, h, as in 2s, 500ms or 1m30s"
	msg := fmt.Sprintf("%q is neither a number nor a duration: %s", word, rule)
	if u := goUnit(word[len(num):]); u != "" && decimalRE.MatchString(num) {
		msg = fmt.Sprintf("%q is neither a number nor a duration: write %s%s (%s)", word, num, u, rule)
	}
	return &CompileError{Offset: offset, Len: len(word), Msg: msg}
}

// skipString returns the offset just past the string literal starting at i.
func skipString(text string, i int) int {
	quote := text[i]
	j := i + 1
	for j < len(text) && text[j] != quote {
		if text[j] == '\\' && quote != '`' {
			j++
		}
		j++
	}
	return min(j+1, len(text))
}

// Suggest returns the candidate closest to name when it is close enough to
// be a likely typo, or "".
func Suggest(name string, candidates []string) string {
	best, bestD := "", 3
	if len(name) < 4 {
		bestD = 2
	}
	for _, c := range candidates {
		if d := levenshtein(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" || len(name) < 3 {
		return best
	}
	// A truncated name ("base" for "base_url") is a likely slip too, when
	// only one candidate starts with it.
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			if best != "" {
				return ""
			}
			best = c
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// runeToByte converts expr's rune offset into a byte offset of s.
func runeToByte(s string, runes int) int {
	i := 0
	for n := 0; n < runes && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// durationUnits in the order they must be tried (longest first).
var durationUnits = []string{"ns", "us", "µs", "ms", "h", "m", "s"}

// rewriteDurations replaces duration literals (2s, 500ms, 1m30s, 250us)
// outside string literals with duration("…") calls and returns a function
// mapping a byte offset in the rewritten text back to the original.
func rewriteDurations(text string) (string, func(int) int) {
	type edit struct{ origStart, origEnd, newStart, newEnd int }
	var b strings.Builder
	var edits []edit
	for i := 0; i < len(text); {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			j := skipString(text, i)
			b.WriteString(text[i:j])
			i = j
			continue
		}
		if isDigit(ch) && (i == 0 || !isIdent(text[i-1]) && text[i-1] != '.') {
			if n := durationLen(text[i:]); n > 0 {
				start := b.Len()
				b.WriteString(`duration("` + text[i:i+n] + `")`)
				edits = append(edits, edit{i, i + n, start, b.Len()})
				i += n
				continue
			}
		}
		b.WriteByte(ch)
		i++
	}
	return b.String(), func(off int) int {
		shift := 0
		for _, e := range edits {
			if off < e.newStart {
				break
			}
			if off < e.newEnd {
				return e.origStart
			}
			shift += (e.newEnd - e.newStart) - (e.origEnd - e.origStart)
		}
		return max(0, min(off-shift, len(text)))
	}
}

// durationLen returns the length of the duration literal at the start of s,
// or 0 when s does not start with one.
func durationLen(s string) int {
	i, units := 0, 0
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			break
		}
		if j < len(s) && s[j] == '.' {
			k := j + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == j+1 {
				break
			}
			j = k
		}
		unit := ""
		for _, u := range durationUnits {
			if strings.HasPrefix(s[j:], u) {
				unit = u
				break
			}
		}
		if unit == "" {
			break
		}
		end := j + len(unit)
		if end < len(s) && isIdent(s[end]) && !isDigit(s[end]) {
			break // 2min, 3sessions: not a duration
		}
		i, units = end, units+1
		if end >= len(s) || !isDigit(s[end]) {
			break
		}
	}
	if units == 0 {
		return 0
	}
	if _, err := time.ParseDuration(s[:i]); err != nil {
		return 0
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c >= 0x80
}

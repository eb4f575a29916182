package openai

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// arrivedBytes is how much of an unexpected answer a message quotes.
const arrivedBytes = 100

// arrived describes a successful answer that held no event stream: what
// its Content-Type says, what it looks like, and its first bytes.
func arrived(contentType, head string) string {
	ct := "no Content-Type"
	if contentType != "" {
		ct = "Content-Type " + strconv.Quote(contentType)
	}
	start := strings.TrimSpace(head)
	msg := "expected an event stream, got "
	switch {
	case strings.Contains(contentType, "html") || strings.HasPrefix(start, "<"):
		msg += "an HTML page (" + ct + "), such as a proxy's login or error page"
	case strings.Contains(contentType, "json") || strings.HasPrefix(start, "{"):
		msg += "one JSON document (" + ct + "), as from a server that ignores \"stream\": true"
	default:
		msg += "no events (" + ct + ")"
	}
	return msg + "; it begins: " + quoteHead(start)
}

// quoteHead shows the first arrivedBytes of s on one line, safe for a
// terminal: whitespace runs become one space, control characters and
// invalid UTF-8 are escaped, and a cut is marked.
func quoteHead(s string) string {
	return escapeControls(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "), arrivedBytes)
}

// escapeControls returns the first max bytes of s (a cut marked "…") with
// every non-printable character and invalid byte escaped (\x1b, \u202e), so
// text from a server cannot drive the terminal it is printed on.
func escapeControls(s string, max int) string {
	cut := ""
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, cut = s[:i], "…"
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String() + cut
}

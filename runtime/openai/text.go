package openai

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Text is a piece of message content with its JSON-escaped form computed once.
// A document of several hundred kilobytes is escaped when the Text is made and
// its bytes are then written into every request body that carries it, never
// copied per request. A long Text keeps only its escaped form, so a run holds
// one copy of each document. A Text is immutable and safe for concurrent use.
type Text struct {
	s   string // the text as given; kept only for a short text
	esc []byte // the JSON string body, without the quotes
	n   int    // the length in bytes of the text as given
}

// shortText is the length from which a Text keeps only its escaped form
// (and the client remembers its token count): a document, not a question.
const shortText = 4096

// NewText escapes s once. Invalid UTF-8 is replaced by U+FFFD, as
// encoding/json does. A text of shortText bytes or more is not retained:
// String rebuilds it from the escaped form.
func NewText(s string) *Text {
	t := &Text{esc: appendEscaped(make([]byte, 0, escapedLen(s)), s), n: len(s)}
	if len(s) < shortText {
		t.s = s
	}
	return t
}

// escapedLen is the length appendEscaped will produce for s, so a document's
// escaped form is allocated once at its exact size.
func escapedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c != '"' && c != '\\':
				n++
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// String returns the text as given; a long text is rebuilt from its escaped
// form on every call (invalid UTF-8 in it comes back as U+FFFD, as sent).
func (t *Text) String() string {
	if t.n < shortText {
		return t.s
	}
	return unescape(t.esc)
}

// Len returns the length in bytes of the text as given.
func (t *Text) Len() int { return t.n }

const hexDigits = "0123456789abcdef"

// appendEscaped appends s as the body of a JSON string.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// unescape reverses appendEscaped.
func unescape(esc []byte) string {
	var b strings.Builder
	b.Grow(len(esc))
	for {
		i := bytes.IndexByte(esc, '\\')
		if i < 0 || i+1 >= len(esc) {
			b.Write(esc)
			return b.String()
		}
		b.Write(esc[:i])
		c, rest := esc[i+1], esc[i+2:]
		switch c {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			var r rune
			for _, h := range rest[:4] {
				r = r<<4 | rune(unhex(h))
			}
			b.WriteRune(r)
			rest = rest[4:]
		default: // '"' and '\\'
			b.WriteByte(c)
		}
		esc = rest
	}
}

// unhex is the value of a lower-case hexadecimal digit, as hexDigits writes.
func unhex(h byte) byte {
	if h >= 'a' {
		return h - 'a' + 10
	}
	return h - '0'
}

package openai

import (
	"unicode/utf8"
)

// Text is a piece of message content with its JSON-escaped form computed once.
// A document of several hundred kilobytes is escaped when the Text is made and
// its bytes are then written into every request body that carries it, never
// copied per request. A Text is immutable and safe for concurrent use.
type Text struct {
	s   string
	esc []byte // the JSON string body, without the quotes
}

// NewText escapes s once. Invalid UTF-8 is replaced by U+FFFD, as
// encoding/json does.
func NewText(s string) *Text {
	return &Text{s: s, esc: appendEscaped(make([]byte, 0, escapedLen(s)), s)}
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

// String returns the text as given.
func (t *Text) String() string { return t.s }

// Len returns the length in bytes of the text as given.
func (t *Text) Len() int { return len(t.s) }

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

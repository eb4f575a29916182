package openai

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/internal/jsonesc"
)

// A hand-written, validating JSON walker for the one document shape the hot
// path sees: a streamed completion chunk. It reads only the fields timing and
// accounting need and skips (while validating) everything else, without
// allocating; encoding/json into a struct costs several times more per event.

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 256

var errSyntax = errors.New("invalid JSON")

// chunkInfo is what one event's JSON carried.
type chunkInfo struct {
	gen     bool // generated text on any channel
	content bool // text on the content channel (chat content or completions text)
	finish  bool // some choice carried a non-null finish_reason

	usage                    bool
	prompt, completion, cach int
	cachReported             bool // usage.prompt_tokens_details.cached_tokens was a number

	isErr  bool
	errMsg []byte // raw (still escaped) message or error value
}

// scanner walks one JSON text.
type scanner struct {
	b []byte
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return errSyntax
	}
	s.i++
	return nil
}

// str consumes a string and returns its raw contents (escapes kept) and
// whether it had escapes.
func (s *scanner) str() (raw []byte, escaped bool, err error) {
	if s.peek() != '"' {
		return nil, false, errSyntax
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if plainByte[c] {
			s.i++
			continue
		}
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, errSyntax
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, errSyntax
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return nil, false, errSyntax
					}
				}
				s.i += 6
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		default:
			s.i++
		}
	}
	return nil, false, errSyntax
}

// plainByte marks the bytes a JSON string holds as they are. Never written.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num consumes a number and returns its text.
func (s *scanner) num() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return nil, errSyntax
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if isDigit(s.b[s.i]) {
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	} else {
		return nil, errSyntax
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		d := s.i
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
		if s.i == d {
			return nil, errSyntax
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		d := s.i
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
		if s.i == d {
			return nil, errSyntax
		}
	}
	return s.b[start:s.i], nil
}

func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return errSyntax
	}
	s.i += len(word)
	return nil
}

// null consumes a null if one comes next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && s.lit("null") == nil {
		return true
	}
	return false
}

// skip consumes any value, validating it.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errSyntax
	}
	switch s.peek() {
	case '{':
		return s.object(depth, func(_ []byte) error { return s.skip(depth + 1) })
	case '[':
		_, err := s.array(depth, func() error { return s.skip(depth + 1) })
		return err
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		_, err := s.num()
		return err
	}
}

// object consumes an object, calling member for each key with the scanner
// positioned at the value; member must consume the value.
func (s *scanner) object(depth int, member func(key []byte) error) error {
	if depth > maxDepth {
		return errSyntax
	}
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, _, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// array consumes an array, calling elem with the scanner at each element, and
// returns the number of elements.
func (s *scanner) array(depth int, elem func() error) (int, error) {
	if depth > maxDepth {
		return 0, errSyntax
	}
	if err := s.expect('['); err != nil {
		return 0, err
	}
	if s.peek() == ']' {
		s.i++
		return 0, nil
	}
	n := 0
	for {
		if err := elem(); err != nil {
			return n, err
		}
		n++
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return n, nil
		default:
			return n, errSyntax
		}
	}
}

// integer consumes a value and returns it as an int when it is a number
// (fractions truncated); any other value gives 0.
func (s *scanner) integer(depth int) (int, error) {
	if c := s.peek(); c != '-' && !isDigit(c) {
		return 0, s.skip(depth)
	}
	t, err := s.num()
	if err != nil {
		return 0, err
	}
	if v, err := strconv.Atoi(string(t)); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		return 0, nil // out of range: keep the stream, lose the figure
	}
	return int(f), nil
}

// decodeChunk reads one event's JSON. Text on the content channel is
// unescaped onto *content, other generated text onto *other (kept for
// client-side token counting).
func decodeChunk(b []byte, ci *chunkInfo, content, other *[]byte) error {
	*ci = chunkInfo{}
	s := scanner{b: b}
	if s.peek() != '{' {
		return errSyntax
	}
	objectIsError := false
	var topMsg []byte
	err := s.object(0, func(key []byte) error {
		switch string(key) {
		case "choices":
			if s.null() {
				return nil
			}
			_, err := s.array(1, func() error {
				if s.peek() != '{' {
					return s.skip(2)
				}
				return decodeChoice(&s, ci, content, other)
			})
			return err
		case "usage":
			if s.null() {
				return nil
			}
			if s.peek() != '{' {
				return s.skip(1)
			}
			ci.usage = true
			return decodeUsage(&s, ci)
		case "error":
			if s.null() {
				return nil
			}
			ci.isErr = true
			return decodeError(&s, ci)
		case "object":
			if s.peek() == '"' {
				raw, _, err := s.str()
				objectIsError = string(raw) == "error"
				return err
			}
			return s.skip(1)
		case "message":
			if s.peek() == '"' {
				raw, _, err := s.str()
				topMsg = raw
				return err
			}
			return s.skip(1)
		default:
			return s.skip(1)
		}
	})
	if err != nil {
		return err
	}
	if s.ws(); s.i != len(s.b) {
		return errSyntax // trailing bytes
	}
	if objectIsError && !ci.isErr {
		// Older vLLM streams an ErrorResponse itself: {"object":"error","message":…}.
		ci.isErr = true
		ci.errMsg = topMsg
	}
	return nil
}

func decodeChoice(s *scanner, ci *chunkInfo, content, other *[]byte) error {
	return s.object(2, func(key []byte) error {
		switch string(key) {
		case "delta":
			if s.peek() != '{' {
				return s.skip(3)
			}
			return decodeDelta(s, ci, content, other)
		case "text": // completions API
			return textField(s, ci, content, true)
		case "finish_reason":
			if s.null() {
				return nil
			}
			ci.finish = true
			return s.skip(3)
		default:
			return s.skip(3)
		}
	})
}

func decodeDelta(s *scanner, ci *chunkInfo, content, other *[]byte) error {
	return s.object(3, func(key []byte) error {
		switch string(key) {
		case "content":
			return textField(s, ci, content, true)
		case "reasoning_content", "reasoning":
			return textField(s, ci, other, false)
		case "tool_calls":
			if s.peek() != '[' {
				return s.skip(4)
			}
			n, err := s.array(4, func() error { return s.skip(5) })
			if n > 0 {
				ci.gen = true
			}
			return err
		default:
			return s.skip(4)
		}
	})
}

// textField reads a string-or-null generated-text field.
func textField(s *scanner, ci *chunkInfo, dst *[]byte, isContent bool) error {
	if s.peek() != '"' {
		return s.skip(4)
	}
	raw, esc, err := s.str()
	if err != nil || len(raw) == 0 {
		return err
	}
	ci.gen = true
	if isContent {
		ci.content = true
	}
	from := len(*dst)
	if esc {
		*dst = jsonesc.AppendUnescaped(*dst, raw)
	} else {
		*dst = append(*dst, raw...)
	}
	if !utf8.Valid((*dst)[from:]) {
		*dst = sanitize(*dst, from)
	}
	return nil
}

// sanitize replaces each byte of b[from:] that is not part of valid UTF-8 by
// U+FFFD, as encoding/json does when it decodes a string.
func sanitize(b []byte, from int) []byte {
	tail := append([]byte(nil), b[from:]...)
	b = b[:from]
	for i := 0; i < len(tail); {
		r, size := utf8.DecodeRune(tail[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, tail[i:i+size]...)
		}
		i += size
	}
	return b
}

func decodeUsage(s *scanner, ci *chunkInfo) error {
	return s.object(1, func(key []byte) error {
		var err error
		switch string(key) {
		case "prompt_tokens":
			ci.prompt, err = s.integer(2)
		case "completion_tokens":
			ci.completion, err = s.integer(2)
		case "prompt_tokens_details":
			if s.peek() != '{' {
				return s.skip(2)
			}
			err = s.object(2, func(key []byte) error {
				if string(key) == "cached_tokens" {
					if c := s.peek(); c == '-' || isDigit(c) {
						ci.cachReported = true
					}
					var e error
					ci.cach, e = s.integer(3)
					return e
				}
				return s.skip(3)
			})
		default:
			err = s.skip(2)
		}
		return err
	})
}

func decodeError(s *scanner, ci *chunkInfo) error {
	switch s.peek() {
	case '"':
		raw, _, err := s.str()
		ci.errMsg = raw
		return err
	case '{':
		start := s.i
		err := s.object(1, func(key []byte) error {
			if string(key) == "message" && s.peek() == '"' {
				raw, _, err := s.str()
				ci.errMsg = raw
				return err
			}
			return s.skip(2)
		})
		if err == nil && ci.errMsg == nil {
			ci.errMsg = s.b[start:s.i]
		}
		return err
	default:
		start := s.i
		err := s.skip(1)
		ci.errMsg = s.b[start:s.i]
		return err
	}
}

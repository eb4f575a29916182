package server

import (
	"bytes"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/mrqa-dev/mrqa/internal/jsonesc"
)

// parseJSON decodes one JSON value into map[string]any, []any, string,
// float64, bool or nil, like encoding/json into an any, in a single pass.
// Request bodies carry whole novels in their strings; encoding/json scans
// them three times (validate, read, decode), which made a 128k-token turn
// cost ~15 ms of CPU. Here a string without escapes is one copy, and runs
// between escapes are copied in bulk.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{b: data}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, p.errorf("unexpected data after the value")
	}
	return v, nil
}

// stringStop marks the bytes that end a run inside a string: the quote,
// the backslash, and the control characters JSON forbids there.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

type jsonParser struct {
	b []byte
	i int
}

// maxDepth bounds nesting so a hostile body cannot exhaust the stack.
const maxDepth = 256

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.space()
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *jsonParser) literal(word string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return p.errorf("want %s", word)
	}
	p.i += len(word)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.errorf("want an object key")
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.errorf("want ':'")
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end in object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, p.errorf("want ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end in array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.errorf("want ',' or ']'")
		}
	}
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	if n := digits(); n == 0 || (n > 1 && p.b[intStart] == '0') {
		return nil, p.errorf("bad number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return nil, p.errorf("bad number: %v", err)
	}
	return f, nil
}

// rawText is a long JSON string left undecoded: its bytes between the
// quotes as they came, valid, escapes and all. The tokenizer's cache is
// keyed by these bytes, so a document seen before is never decoded again.
// raw points into the request body and is valid only while the body is.
type rawText struct {
	raw     []byte
	escaped bool
}

// rawThreshold is the length from which strings stay raw.
const rawThreshold = 1024

// String decodes the text.
func (r rawText) String() string {
	if !r.escaped {
		return string(r.raw)
	}
	return decodeEscaped(r.raw)
}

// str reads a string starting at the opening quote: a string, or a rawText
// when it is long.
func (p *jsonParser) str() (any, error) {
	p.i++ // "
	start := p.i
	escaped := false
	b := p.b
	for {
		// One pass over the run up to the next quote, backslash or
		// (invalid) control character.
		j := p.i
		for j < len(b) && !stringStop[b[j]] {
			j++
		}
		if j >= len(b) {
			return nil, p.errorf("unterminated string")
		}
		p.i = j
		switch c := b[j]; {
		case c == '"':
			p.i++
			raw := b[start:j]
			switch {
			case len(raw) >= rawThreshold:
				return rawText{raw: raw, escaped: escaped}, nil
			case escaped:
				return decodeEscaped(raw), nil
			}
			return string(raw), nil
		case c < 0x20:
			return nil, p.errorf("control character in string")
		}
		escaped = true
		p.i++ // backslash
		if p.i >= len(b) {
			return nil, p.errorf("unterminated escape")
		}
		switch c := b[p.i]; c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			p.i++
		case 'u':
			p.i++
			if _, err := p.hex4(); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf("bad escape \\%c", c)
		}
	}
}

// key reads an object key (always decoded).
func (p *jsonParser) key() (string, error) {
	v, err := p.str()
	if err != nil {
		return "", err
	}
	if r, ok := v.(rawText); ok {
		return r.String(), nil
	}
	return v.(string), nil
}

// decodeEscaped decodes the escapes of a string str has validated.
func decodeEscaped(raw []byte) string {
	buf := jsonesc.AppendUnescaped(make([]byte, 0, len(raw)), raw)
	// buf is this string's own and never written again.
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

func (p *jsonParser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("bad \\u escape")
	}
	p.i += 4
	return rune(v), nil
}

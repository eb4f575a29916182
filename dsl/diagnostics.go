package dsl

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/internal/textwrap"

	"github.com/hashicorp/hcl/v2"
)

// diagWidth is the column diagnostic details are wrapped at.
const diagWidth = 78

// maxSnippetLines bounds the source lines shown for one diagnostic.
const maxSnippetLines = 3

// WriteDiagnostics prints diags in the style of HCL's text writer, with the
// position as file:line:column, the source lines and a caret underline
// under the exact characters. Values of variables are never printed, so
// secrets cannot leak through a diagnostic. files supplies the sources.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	return writeDiagnostics(w, files, diags, color, hidden{})
}

// hidden is what snippets must not show: secret values anywhere, and the
// source ranges of sensitive expressions.
type hidden struct {
	secrets []string
	ranges  []hcl.Range
}

// line returns text, the source line [start, end) of file, with hidden
// ranges (sorted) and secrets replaced by redactedText.
func (h hidden) line(file string, src []byte, start, end int, text string) string {
	if start < 0 || end > len(src) || start > end || string(src[start:end]) != text {
		return scrub(text, h.secrets)
	}
	var b strings.Builder
	at := start
	for _, r := range h.ranges {
		if r.Filename != file || r.End.Byte <= at || r.Start.Byte >= end {
			continue
		}
		b.Write(src[at:max(at, r.Start.Byte)])
		b.WriteString(redactedText)
		at = min(end, r.End.Byte)
	}
	b.Write(src[at:end])
	return scrub(b.String(), h.secrets)
}

// writeDiagnostics is WriteDiagnostics hiding secrets: a source line that
// holds one is printed redacted and without its caret line, which would no
// longer line up.
func writeDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool, secrets hidden) error {
	var b bytes.Buffer
	for _, d := range diags {
		writeDiagnostic(&b, files, d, color, secrets)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

const (
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiReset  = "\x1b[0m"
)

func writeDiagnostic(b *bytes.Buffer, files map[string]*hcl.File, d *hcl.Diagnostic, color bool, secrets hidden) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	summary := escapeControls(d.Summary)
	switch d.Severity {
	case hcl.DiagWarning:
		fmt.Fprintf(b, "%s: %s\n", paint(ansiYellow, "Warning"), paint(ansiBold, summary))
	default:
		fmt.Fprintf(b, "%s: %s\n", paint(ansiRed, "Error"), paint(ansiBold, summary))
	}
	if s := d.Subject; s != nil {
		where := fmt.Sprintf("%s:%d:%d", escapeControls(s.Filename), s.Start.Line, s.Start.Column)
		file := files[s.Filename]
		ctx := ""
		if file != nil && file.Nav != nil {
			if cs, ok := file.Nav.(interface{ ContextString(int) string }); ok {
				ctx = cs.ContextString(s.Start.Byte)
			}
		}
		b.WriteString("\n  on " + where)
		if ctx != "" {
			b.WriteString(", in " + escapeControls(ctx))
		}
		b.WriteString(":\n")
		if file != nil {
			writeSnippet(b, file.Bytes, *s, color, secrets)
		}
	}
	if d.Detail != "" {
		b.WriteByte('\n')
		for _, para := range strings.Split(d.Detail, "\n") {
			b.WriteString(wrap(escapeControls(para), diagWidth))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
}

// writeSnippet prints the subject's lines with their numbers and a caret
// line under the subject's characters on its first line.
func writeSnippet(b *bytes.Buffer, src []byte, s hcl.Range, color bool, secrets hidden) {
	if s.Start.Byte < 0 || s.Start.Byte > len(src) || s.Start.Line < 1 {
		return
	}
	lines := bytes.Split(src, []byte("\n"))
	first := s.Start.Line
	last := max(first, s.End.Line)
	if s.End.Byte > s.Start.Byte && s.End.Column == 1 && s.End.Line > first {
		last-- // a range ending at a line's start does not cover it
	}
	last = min(last, first+maxSnippetLines-1, len(lines))
	width := len(fmt.Sprint(last))
	at := s.Start.Byte - prefixLen(src, s.Start.Byte) // where line n starts
	for n := first; n <= last && n <= len(lines); n++ {
		text := strings.TrimRight(string(lines[n-1]), "\r")
		shown := secrets.line(s.Filename, src, at, at+len(text), text)
		at += len(lines[n-1]) + 1
		fmt.Fprintf(b, "  %*d: %s\n", width, n, escapeControls(shown))
		if n != first || shown != text {
			continue
		}
		lineStart := s.Start.Byte - prefixLen(src, s.Start.Byte)
		startOff := s.Start.Byte - lineStart
		endOff := len(text)
		if s.End.Line == first && s.End.Byte-lineStart <= len(text) {
			endOff = s.End.Byte - lineStart
		}
		if startOff > len(text) {
			startOff = len(text)
		}
		// The caret line follows the escaped text, as printed.
		var pad strings.Builder
		for _, r := range escapeControls(text[:startOff]) {
			if r == '\t' {
				pad.WriteByte('\t')
			} else {
				pad.WriteByte(' ')
			}
		}
		carets := max(1, utf8.RuneCountInString(escapeControls(text[startOff:max(startOff, endOff)])))
		marks := strings.Repeat("^", carets)
		if color {
			marks = ansiRed + marks + ansiReset
		}
		fmt.Fprintf(b, "  %*s  %s%s\n", width, "", pad.String(), marks)
	}
}

// escapeControls spells out every character of s that could drive a
// terminal — C0 and C1 controls but the tab, DEL, bidirectional overrides —
// and every byte that is not UTF-8, as \x1b or \u202e.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, unsafeOnTerminal) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafeOnTerminal(r):
			b.WriteString(s[i : i+size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

func unsafeOnTerminal(r rune) bool {
	return r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) || r == utf8.RuneError
}

// prefixLen is how many bytes of src's line precede offset.
func prefixLen(src []byte, offset int) int {
	i := bytes.LastIndexByte(src[:offset], '\n')
	return offset - (i + 1)
}

// wrap breaks s into lines of at most width columns at spaces.
func wrap(s string, width int) string { return textwrap.Words(strings.Fields(s), width, "") }

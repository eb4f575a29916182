// Package textwrap breaks prose into lines for a terminal: the one word
// wrapper of the scenario language's diagnostics and the terminal summary.
package textwrap

import (
	"strings"
	"unicode/utf8"
)

// Words lays words out in lines of at most width runes, joined by single
// spaces; a word longer than width stands alone on its line. Every line
// after the first starts with indent, which counts toward the width. There
// is no trailing newline.
func Words(words []string, width int, indent string) string {
	var b strings.Builder
	col := 0
	for i, w := range words {
		n := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case col+1+n > width:
			b.WriteString("\n" + indent)
			col = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}

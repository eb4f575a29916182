package dsl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// maxNesting bounds how deeply brackets, braces, parentheses, strings and
// template sequences may nest. The HCL parsers recurse once per level and
// would exhaust the stack (a fatal error, not a panic) on hostile input
// long before memory runs out; no scenario needs a tenth of this.
const maxNesting = 256

// checkNesting reports HCL source (a file, or one expression when expr is
// set) nested deeper than maxNesting, before a parser sees it. It lexes,
// which never recurses.
func checkNesting(src []byte, filename string, expr bool) hcl.Diagnostics {
	lex := hclsyntax.LexConfig
	if expr {
		lex = hclsyntax.LexExpression
	}
	tokens, _ := lex(src, filename, hcl.InitialPos)
	depth := 0
	for _, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			if depth > maxNesting {
				return tooDeep(tok.Range)
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(0, depth-1)
		}
	}
	return nil
}

// checkJSONNesting is checkNesting for a JSON -var-file.
func checkJSONNesting(src []byte, filename string) hcl.Diagnostics {
	depth, inString := 0, false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case inString && c == '\\':
			i++ // the escaped byte cannot end the string
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > maxNesting {
				start := posAt(src, i)
				end := hcl.Pos{Line: start.Line, Column: start.Column + 1, Byte: i + 1}
				return tooDeep(hcl.Range{Filename: filename, Start: start, End: end})
			}
		case c == '}' || c == ']':
			depth = max(0, depth-1)
		}
	}
	return nil
}

// posAt is the line and column of byte offset off in src.
func posAt(src []byte, off int) hcl.Pos {
	p := hcl.Pos{Line: 1, Column: 1, Byte: off}
	for _, r := range string(src[:off]) {
		if r == '\n' {
			p.Line, p.Column = p.Line+1, 1
		} else {
			p.Column++
		}
	}
	return p
}

func tooDeep(rng hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Nested too deeply",
		Detail: fmt.Sprintf("Brackets, braces, parentheses, strings and ${…} sequences may nest at most %d deep; this one opens level %d. Nothing in a scenario needs that many.",
			maxNesting, maxNesting+1),
		Subject: rangeOf(rng),
	}}
}

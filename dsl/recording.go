package dsl

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// What results.json records of a configuration's text. Every place that
// holds a secret is replaced by redactedText, except a sensitive expression
// that only refers to values the recording does not hold itself — var.key
// of a sensitive variable, a local built from one, env("NAME") (or
// env("NAME", ""), whose empty default holds nothing), and string
// templates and function calls of those — which holds no secret and is
// kept as written, so that the recorded text runs again once those values
// are given anew (exec -from). A template's literal text beside such
// references is kept only when it cannot be part of the secret: whitespace,
// and a leading HTTP authorization scheme word ("Bearer ${var.token}");
// any other literal ("${var.user}:password", "${var.key}-suffix") makes
// the whole expression be replaced, as a literal secret is.

// sensitiveExpr records that expr, and the value it produced, are secrets,
// keeping expr to judge at recording time whether its text may stay.
func (l *loader) sensitiveExpr(expr hcl.Expression, val cty.Value) {
	l.sensitive(expr.Range(), val)
	l.sensitiveExprs[expr.Range()] = expr
}

// redactedRanges are the ranges of the file at path that the recording
// replaces.
func (l *loader) redactedRanges(path string) []hcl.Range {
	var out []hcl.Range
	for _, r := range rangesIn(l.sensitives, path) {
		if expr, ok := l.sensitiveExprs[r]; ok {
			out = append(out, l.secretRanges(expr)...)
			continue
		}
		out = append(out, r)
	}
	return out
}

// secretRanges are the parts of a sensitive expression the recording
// replaces: none when it may be kept as written, the values of an object
// that may not (its keys are names), else the whole expression.
func (l *loader) secretRanges(expr hcl.Expression) []hcl.Range {
	if oc, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		var out []hcl.Range
		for _, item := range oc.Items {
			out = append(out, l.secretRanges(item.ValueExpr)...)
		}
		return out
	}
	if l.recordable(expr) {
		return nil
	}
	return []hcl.Range{expr.Range()}
}

// recordable reports whether a sensitive expression's text reveals nothing
// of its value: it is made of references and the literal text around them
// in a string template, and at least one reference is to a value the
// recording hides. A literal anywhere else (a quoted key, an env() default,
// an argument of base64decode) may be the secret or encode it.
func (l *loader) recordable(expr hcl.Expression) bool {
	hidden := 0
	return l.onlyReferences(expr, &hidden) && hidden > 0
}

// onlyReferences reports whether expr is built of references only (see
// recordable), counting in hidden those to values the recording hides.
func (l *loader) onlyReferences(expr hcl.Expression, hidden *int) bool {
	switch e := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		root := e.Traversal.RootName()
		if l.hiddenRef(e.Traversal) {
			*hidden++
		}
		return root == "var" || root == "local"
	case *hclsyntax.TemplateExpr:
		// "literal" alone is a literal; "Bearer ${var.key}" is text around
		// a reference, kept only when that text cannot be part of the secret.
		refs := false
		for i, p := range e.Parts {
			if lit, ok := p.(*hclsyntax.LiteralValueExpr); ok {
				if !harmlessLiteral(lit, i == 0) {
					return false
				}
				continue
			}
			if refs = true; !l.onlyReferences(p, hidden) {
				return false
			}
		}
		return refs
	case *hclsyntax.TemplateWrapExpr:
		return l.onlyReferences(e.Wrapped, hidden)
	case *hclsyntax.ParenthesesExpr:
		return l.onlyReferences(e.Expression, hidden)
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "env" {
			// env("NAME") names where the secret is, and so does
			// env("NAME", ""); env("NAME", "default") may hold one.
			ok := (len(e.Args) == 1 || len(e.Args) == 2 && isEmptyText(e.Args[1])) &&
				!e.ExpandFinal && isLiteralText(e.Args[0])
			if ok {
				*hidden++
			}
			return ok
		}
		for _, a := range e.Args {
			if !l.onlyReferences(a, hidden) {
				return false
			}
		}
		return true
	}
	return false
}

// hiddenRef reports whether tr refers to a value the recording does not
// hold: a variable recorded as (sensitive), or a local computed from a
// secret.
func (l *loader) hiddenRef(tr hcl.Traversal) bool {
	name, ok := traversalAttr(tr)
	if !ok {
		return false
	}
	switch tr.RootName() {
	case "var":
		v := l.vars[name]
		return v != nil && l.recordedValue(v, l.secretList()) == redactedText
	case "local":
		_, marked := unmarkSensitive(l.values[name])
		return marked
	}
	return false
}

// authSchemes are the HTTP authorization scheme words a template may
// start with beside a hidden reference ("Bearer ${var.token}"), lower case.
var authSchemes = map[string]bool{"basic": true, "bearer": true, "digest": true, "token": true, "apikey": true}

// harmlessLiteral reports whether a template's literal part cannot be part
// of a secret: only whitespace, or, first in the template, an HTTP
// authorization scheme word followed by whitespace.
func harmlessLiteral(lit *hclsyntax.LiteralValueExpr, first bool) bool {
	if lit.Val.Type() != cty.String || lit.Val.IsNull() {
		return false
	}
	text := lit.Val.AsString()
	if strings.TrimSpace(text) == "" {
		return true
	}
	scheme, rest, ok := strings.Cut(strings.TrimLeft(text, " "), " ")
	return first && ok && strings.TrimSpace(rest) == "" && authSchemes[strings.ToLower(scheme)]
}

// isEmptyText reports whether expr is the empty string, "".
func isEmptyText(expr hclsyntax.Expression) bool {
	if !isLiteralText(expr) {
		return false
	}
	v, diags := expr.Value(nil)
	return !diags.HasErrors() && v.Type() == cty.String && v.AsString() == ""
}

// isLiteralText reports whether expr is a quoted string without
// interpolations.
func isLiteralText(expr hclsyntax.Expression) bool {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	return ok && t.IsStringLiteral()
}

// recordedValue is a variable's value as results.json records it: its
// text (JSON for other types than string), or redactedText for a sensitive
// variable and for one whose value holds a secret (a plain variable that
// feeds api_key or a header).
func (l *loader) recordedValue(v *variable, secrets []string) string {
	var s string
	switch {
	case v.sensitive:
		return redactedText
	case v.value == cty.NilVal:
	case v.value.Type() == cty.String && !v.value.IsNull():
		s = v.value.AsString()
	case v.value.IsWhollyKnown():
		if b, err := ctyjson.Marshal(v.value, v.value.Type()); err == nil {
			s = string(b)
		}
	}
	if s != "" && scrub(s, secrets) != s {
		return redactedText
	}
	return s
}

// Loading a recording (Options.FromRecording).

// isPlaceholder reports whether expr is redactedText standing for a whole
// expression: "(sensitive)" parses as a parenthesised reference.
func isPlaceholder(expr hcl.Expression) bool {
	p, ok := expr.(*hclsyntax.ParenthesesExpr)
	if !ok {
		return false
	}
	st, ok := p.Expression.(*hclsyntax.ScopeTraversalExpr)
	return ok && len(st.Traversal) == 1 && st.Traversal.RootName() == placeholderName
}

// placeholderName is the name redactedText reads as in an expression.
const placeholderName = "sensitive"

// unrestorable returns an error at every place of the recorded
// configuration files where a secret was replaced that cannot be given
// again: every redactedText outside comments but a variable's default,
// which only makes the variable one whose value must be given.
func (l *loader) unrestorable(files []*hcl.File) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, s := range l.configs {
		defaults := placeholderDefaults(files[i])
		for _, rng := range placeholders(s) {
			if defaults[rng.Start.Byte] {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Secret not in the recording",
				Detail: "The recording has " + redactedText + " here in place of a secret written in the file (or, in a recording made before references to secrets were kept, of an expression that referred to one), and a recording never holds secrets, so it cannot run again. " +
					"Move the secret into a sensitive variable (variable \"NAME\" { sensitive = true }) and refer to it here (var.NAME), run the configuration from its files, then reproduce that run.",
				Subject: rangeOf(rng),
			})
		}
	}
	return diags
}

// placeholders finds redactedText in a file's tokens, comments aside: as
// an expression, or inside a string.
func placeholders(s Source) []hcl.Range {
	tokens, _ := hclsyntax.LexConfig(s.Text, s.Path, hcl.InitialPos)
	var out []hcl.Range
	for i, tok := range tokens {
		switch {
		case tok.Type == hclsyntax.TokenComment:
		case tok.Type == hclsyntax.TokenIdent && string(tok.Bytes) == placeholderName &&
			i > 0 && i+1 < len(tokens) && tokens[i-1].Type == hclsyntax.TokenOParen && tokens[i+1].Type == hclsyntax.TokenCParen:
			out = append(out, hcl.RangeBetween(tokens[i-1].Range, tokens[i+1].Range))
		case (tok.Type == hclsyntax.TokenQuotedLit || tok.Type == hclsyntax.TokenStringLit) && strings.Contains(string(tok.Bytes), redactedText):
			out = append(out, tok.Range)
		}
	}
	return out
}

// placeholderDefaults are the start offsets of variable defaults that
// read redactedText.
func placeholderDefaults(file *hcl.File) map[int]bool {
	out := map[int]bool{}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return out
	}
	for _, b := range body.Blocks {
		if a := b.Body.Attributes["default"]; b.Type == "variable" && a != nil && isPlaceholder(a.Expr) {
			out[a.Expr.Range().Start.Byte] = true
		}
	}
	return out
}

package dsl

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

var partKinds = map[string]spec.PartKind{
	"document":    spec.PartDocument,
	"document_id": spec.PartDocumentID,
	"user":        spec.PartUser,
	"round":       spec.PartRound,
}

// template compiles a message expression into parts: ${document},
// ${document_id}, ${user} and ${round} written directly in a string
// template become parts the runtime fills in; everything else is evaluated
// now into literal text.
func (l *loader) template(expr hcl.Expression, what string) (spec.Template, bool) {
	var parts []hclsyntax.Expression
	switch e := expr.(type) {
	case *hclsyntax.TemplateWrapExpr:
		parts = []hclsyntax.Expression{e.Wrapped}
	case *hclsyntax.TemplateExpr:
		parts = e.Parts
	default:
		s, ok := l.templateText(expr, what)
		if !ok {
			return nil, false
		}
		return literal(nil, s), true
	}
	var out spec.Template
	ok := true
	for _, p := range parts {
		if name, isName := isTemplateTraversal(p); isName {
			out = append(out, spec.Part{Kind: partKinds[name]})
			continue
		}
		s, partOK := l.templateText(p, what)
		ok = ok && partOK
		out = literal(out, s)
	}
	return out, ok
}

// templateText evaluates a part of a template to text.
func (l *loader) templateText(e hcl.Expression, what string) (string, bool) {
	val, ok := l.eval(e)
	if !ok {
		return "", false
	}
	if val.IsNull() {
		l.errorf(e.Range(), "Invalid template value", "%s must not be null.", what)
		return "", false
	}
	s, err := convert.Convert(val, cty.String)
	if err != nil {
		l.errorf(e.Range(), "Invalid template value", "%s must be text: %s.", what, err)
		return "", false
	}
	return s.AsString(), true
}

// literal appends text to t, merging it into a trailing literal part.
func literal(t spec.Template, s string) spec.Template {
	if s == "" {
		return t
	}
	if n := len(t); n > 0 && t[n-1].Kind == spec.PartLiteral {
		t[n-1].Text += s
		return t
	}
	return append(t, spec.Part{Kind: spec.PartLiteral, Text: s})
}

// templateList compiles questions: a list written out compiles element by
// element; any other expression must evaluate to a list of strings.
func (l *loader) templateList(a *hcl.Attribute) ([]spec.Template, bool) {
	if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
		out := make([]spec.Template, 0, len(tc.Exprs))
		allOK := true
		for i, e := range tc.Exprs {
			t, ok := l.template(e, a.Name+"["+strconv.Itoa(i)+"]")
			allOK = allOK && ok
			out = append(out, t)
		}
		return out, allOK
	}
	val, present, ok := l.typed(a, cty.List(cty.String))
	if !present {
		return nil, ok
	}
	out := []spec.Template{}
	for _, v := range val.AsValueSlice() {
		if v.IsNull() {
			l.errorf(a.Expr.Range(), "Invalid value", "%s must not contain null.", a.Name)
			return nil, false
		}
		out = append(out, literal(nil, v.AsString()))
	}
	return out, true
}

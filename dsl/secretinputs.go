package dsl

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// secretInputs are the input variables and locals that a secret-bearing
// expression refers to, directly or through locals: the target's api_key
// and header values, a metrics block's bearer_token and header values,
// and the userinfo part of base_url and of a metrics url. Each is a secret
// as a sensitive variable is: a variable used in part of a header or of an
// api_key holds part of the credential. They are found from the text,
// before anything is evaluated, so a variable is sensitive from its
// declaration on.
type secretInputs struct {
	vars, locals map[string]bool
}

// findSecretInputs finds the secretInputs of a configuration's blocks.
func findSecretInputs(blocks hcl.Blocks) secretInputs {
	refs := secretInputs{vars: map[string]bool{}, locals: map[string]bool{}}
	localExprs := map[string]hcl.Expression{}
	var queue []hcl.Traversal
	for _, b := range blocks {
		body, ok := b.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		switch b.Type {
		case "locals":
			for name, a := range body.Attributes {
				localExprs[name] = a.Expr
			}
		case "target":
			queue = append(queue, secretTraversals(body, "api_key", "base_url")...)
			for _, mb := range body.Blocks {
				if mb.Type == "metrics" {
					queue = append(queue, secretTraversals(mb.Body, "bearer_token", "url")...)
				}
			}
		}
	}
	for len(queue) > 0 {
		tr := queue[0]
		queue = queue[1:]
		name, ok := traversalAttr(tr)
		switch {
		case !ok:
		case tr.RootName() == "var":
			refs.vars[name] = true
		case tr.RootName() == "local" && !refs.locals[name] && localExprs[name] != nil:
			refs.locals[name] = true
			queue = append(queue, localExprs[name].Variables()...)
		}
	}
	return refs
}

// secretTraversals are the references of body's secret-bearing
// attributes: the token attribute whole, the header values, and the
// userinfo of the URL attribute.
func secretTraversals(body *hclsyntax.Body, token, urlAttr string) []hcl.Traversal {
	var out []hcl.Traversal
	if a := body.Attributes[token]; a != nil {
		out = append(out, a.Expr.Variables()...)
	}
	if a := body.Attributes["headers"]; a != nil {
		if oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range oc.Items {
				out = append(out, item.ValueExpr.Variables()...)
			}
		} else {
			out = append(out, a.Expr.Variables()...)
		}
	}
	if a := body.Attributes[urlAttr]; a != nil {
		out = append(out, userinfoTraversals(a.Expr)...)
	}
	return out
}

// userinfoTraversals are the references written in the userinfo part of
// a URL template ("https://${var.user}:${var.password}@host/v1"). A URL
// given whole by a reference is judged by its value instead: its
// credentials become secrets when it is read.
func userinfoTraversals(expr hclsyntax.Expression) []hcl.Traversal {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok {
		return nil
	}
	// Lay the template out as text, each interpolation as one NUL byte.
	var text strings.Builder
	var at []int
	for _, p := range t.Parts {
		if lit, ok := p.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			text.WriteString(lit.Val.AsString())
			continue
		}
		at = append(at, text.Len())
		text.WriteByte(0)
	}
	start, end := userinfoSpan(text.String())
	var out []hcl.Traversal
	i := 0
	for _, p := range t.Parts {
		if lit, ok := p.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			continue
		}
		if at[i] >= start && at[i] < end {
			out = append(out, p.Variables()...)
		}
		i++
	}
	return out
}

// userinfoSpan is where a URL's userinfo lies in s: after "://", before
// the last "@" of the authority; empty when there is none.
func userinfoSpan(s string) (start, end int) {
	i := strings.Index(s, "://")
	if i < 0 {
		return 0, 0
	}
	start = i + 3
	authority := s[start:]
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	}
	k := strings.LastIndex(authority, "@")
	if k < 0 {
		return 0, 0
	}
	return start, start + k
}

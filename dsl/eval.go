package dsl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// templateNames are the names only message templates may use, as ${name}.
var templateNames = map[string]bool{"document": true, "document_id": true, "user": true, "round": true}

// blockKinds are the block types a scenario refers to by kind.NAME.
var blockKinds = map[string]bool{"target": true, "corpus": true, "script": true}

func (l *loader) evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   l.varObject(),
			"local": cty.EmptyObjectVal,
			"shard": l.opts.Shard.value(),
		},
		Functions: l.functions(l.baseDir),
	}
}

// ctxFor is the context to evaluate an expression at rng in: l.ctx, with
// file() reading relative paths from the directory of rng's file.
func (l *loader) ctxFor(rng hcl.Range) *hcl.EvalContext {
	dir := dirOf(rng)
	if dir == l.baseDir {
		return l.ctx
	}
	ctx, ok := l.dirCtx[dir]
	if !ok {
		ctx = l.ctx.NewChild()
		ctx.Functions = map[string]function.Function{"file": l.fileFunc(dir)}
		l.dirCtx[dir] = ctx
	}
	return ctx
}

// suggest proposes the closest of candidates to a misspelt name.
func suggest(name string, candidates []string) string {
	return metrics.Suggest(name, candidates)
}

// checkRefs reports references that expressions cannot use: undeclared
// variables and locals, template names outside templates, and block
// references outside a scenario's target/corpus/script attributes.
func (l *loader) checkRefs(expr hcl.Expression) bool {
	ok := true
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch {
		case root == "var" || root == "local":
			attr, isAttr := traversalAttr(tr)
			if !isAttr {
				l.errorf(rng, "Invalid reference", "A reference to %s needs an attribute name, like %s.NAME.", root, root)
				ok = false
				continue
			}
			known, kind := l.varOrder, "input variable"
			if root == "local" {
				known, kind = l.localNames(), "local value"
			}
			if !contains(known, attr) {
				detail := fmt.Sprintf("No %s named %q is declared.", kind, attr)
				if s := suggest(attr, known); s != "" {
					detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
				}
				l.errorf(rng, "Reference to undeclared "+kind, "%s", detail)
				ok = false
			}
		case root == "shard":
			if attr, isAttr := traversalAttr(tr); !isAttr || (attr != "index" && attr != "count") {
				l.errorf(rng, "Invalid reference", "shard has two attributes: shard.index (this run's part of the sweep, from 0) and shard.count (how many parts; 1 when the sweep is not sharded).")
				ok = false
			}
		case templateNames[root]:
			l.errorf(rng, "Invalid use of "+root,
				"%s is not a value: it can only appear directly as ${%s} inside the opening, questions or system template, where the runtime fills it in per session (not in a function call, a conditional, an attribute access or another attribute).", root, root)
			ok = false
		case blockKinds[root] || root == "scenario":
			l.errorf(rng, "Invalid reference",
				"%s refers to a block; block references can only be the whole value of a scenario's target, corpus or script attribute.", traversalText(tr))
			ok = false
		default:
			// The template names too: "${documnet}" is a slip for ${document}.
			names := []string{"var", "local", "shard", "document", "document_id", "user", "round"}
			detail := fmt.Sprintf("There is no variable named %q.", root)
			if s := suggest(root, names); s != "" {
				detail += fmt.Sprintf(" Did you mean %s?", s)
			} else {
				detail += " Expressions can read var.NAME, local.NAME and shard.index/shard.count."
			}
			l.errorf(rng, "Unknown variable", "%s", detail)
			ok = false
		}
	}
	return ok
}

func traversalAttr(tr hcl.Traversal) (string, bool) {
	if len(tr) < 2 {
		return "", false
	}
	switch s := tr[1].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

func traversalText(tr hcl.Traversal) string {
	var b strings.Builder
	for i, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		default:
			b.WriteString("[…]")
		}
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// eval evaluates expr. The result is unmarked; if it carried the sensitive
// mark, its range is queued for redaction and its text becomes a secret.
// ok is false when the expression had errors or is not wholly known.
func (l *loader) eval(expr hcl.Expression) (cty.Value, bool) {
	if !l.checkRefs(expr) {
		return cty.DynamicVal, false
	}
	val, diags := expr.Value(l.ctxFor(expr.Range()))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	if val.ContainsMarked() {
		var marked bool
		val, marked = unmarkSensitive(val)
		if marked {
			l.sensitiveExpr(expr, val)
		}
	}
	if !val.IsWhollyKnown() {
		return val, false
	}
	return val, true
}

// unmarkSensitive strips every mark and reports whether one was sensitive.
func unmarkSensitive(val cty.Value) (cty.Value, bool) {
	out, pvm := val.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		if pm.Marks.Has(sensitiveMark) {
			return out, true
		}
	}
	return out, false
}

// sensitive records that the text at rng, and the value it produced, are
// secrets.
func (l *loader) sensitive(rng hcl.Range, val cty.Value) {
	if _, ok := l.srcs[rng.Filename]; ok {
		l.sensitives = append(l.sensitives, rng)
	}
	l.addSecrets(val)
}

// addSecrets records every string inside val as a secret.
func (l *loader) addSecrets(val cty.Value) {
	val, _ = val.UnmarkDeep()
	_ = cty.Walk(val, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String && v.AsString() != "" {
			l.secrets[v.AsString()] = true
		}
		return true, nil
	})
}

// addURLSecrets makes secrets of the credentials of every URL in val (a
// variable's value): a list of replicas' URLs names each replica's
// credentials, though a run sends only one replica's, and the recorded
// text of its default must not show the others'.
func (l *loader) addURLSecrets(val cty.Value) {
	val, _ = val.UnmarkDeep()
	_ = cty.Walk(val, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String && strings.Contains(v.AsString(), "@") {
			l.addURLCredentials(v.AsString())
		}
		return true, nil
	})
}

// maxInt bounds whole numbers: beyond it, products of grid values overflow.
const maxInt = 1 << 40

// localNames lists the declared locals, sorted.
func (l *loader) localNames() []string {
	names := make([]string, 0, len(l.localDefs))
	for n := range l.localDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// decodeLocals evaluates every locals block in dependency order, reporting
// cycles.
func (l *loader) decodeLocals(blocks []*hcl.Block) {
	var order []string
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		names := make([]string, 0, len(attrs))
		for n := range attrs {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte })
		for _, n := range names {
			if prev, ok := l.localDefs[n]; ok {
				l.errorf(attrs[n].NameRange, "Duplicate local value",
					"local.%s was already defined at %s. A name is defined once per configuration.", n, where(prev.NameRange))
				continue
			}
			l.localDefs[n] = attrs[n]
			order = append(order, n)
		}
	}
	// state is 0 for locals not visited yet.
	const (
		visiting = iota + 1
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch state[name] {
		case done:
			return
		case visiting:
			i := len(stack) - 1
			for i > 0 && stack[i] != name {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			for j := range cycle {
				cycle[j] = "local." + cycle[j]
			}
			a := l.localDefs[stack[len(stack)-1]]
			l.errorf(a.Expr.Range(), "Cycle in local values",
				"These local values refer to each other in a loop: %s.", strings.Join(cycle, " → "))
			for _, n := range stack[i:] {
				l.values[n] = cty.DynamicVal
			}
			return
		}
		state[name] = visiting
		stack = append(stack, name)
		a := l.localDefs[name]
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" {
				continue
			}
			if dep, ok := traversalAttr(tr); ok && l.localDefs[dep] != nil {
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		if _, failed := l.values[name]; failed {
			return
		}
		l.ctx.Variables["local"] = l.localObject()
		if !l.checkRefs(a.Expr) {
			l.values[name] = cty.DynamicVal
			return
		}
		// Locals keep their marks so sensitivity follows them to their uses.
		val, diags := a.Expr.Value(l.ctxFor(a.Expr.Range()))
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			val = cty.DynamicVal
		}
		l.values[name] = l.secretLocal(name, a.Expr, val)
	}
	for _, n := range order {
		visit(n)
	}
	l.ctx.Variables["local"] = l.localObject()
}

// secretLocal is the value of the local name, defined by expr: marked
// sensitive, its text judged as a secret's, when a secret-bearing
// expression refers to it (see secretInputs).
func (l *loader) secretLocal(name string, expr hcl.Expression, val cty.Value) cty.Value {
	if !l.secretInputs.locals[name] {
		return val
	}
	unmarked, _ := unmarkSensitive(val)
	l.sensitiveExpr(expr, unmarked)
	return val.Mark(sensitiveMark)
}

func (l *loader) localObject() cty.Value {
	vals := map[string]cty.Value{}
	for n := range l.localDefs {
		if v, ok := l.values[n]; ok {
			vals[n] = v
		} else {
			vals[n] = cty.DynamicVal
		}
	}
	return cty.ObjectVal(vals)
}

// isTemplateTraversal reports whether e is exactly one of the template
// names, as in "${document}".
func isTemplateTraversal(e hclsyntax.Expression) (string, bool) {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 1 {
		return "", false
	}
	name := st.Traversal.RootName()
	return name, templateNames[name]
}

package dsl

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// typed evaluates attribute a and converts it to ty. present is false when
// a is absent or null (the attribute takes its default), and ok false after
// an error.
func (l *loader) typed(a *hcl.Attribute, ty cty.Type) (val cty.Value, present, ok bool) {
	if a == nil {
		return cty.NilVal, false, true
	}
	val, ok = l.eval(a.Expr)
	if !ok {
		return cty.NilVal, false, false
	}
	if val.IsNull() {
		return cty.NilVal, false, true
	}
	out, err := convert.Convert(val, ty)
	if err != nil {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s.", a.Name, typeError(err, ty))
		return cty.NilVal, false, false
	}
	if !out.IsWhollyKnown() {
		return cty.NilVal, false, false
	}
	return out, true, true
}

// typeError words a conversion error, naming the wanted type.
func typeError(err error, ty cty.Type) string {
	msg := err.Error()
	switch {
	case ty == cty.Number:
		return "a number is required"
	case ty == cty.Bool:
		return "a bool (true or false) is required"
	case ty == cty.String:
		return "a string is required"
	}
	return msg
}

func (l *loader) stringAttr(a *hcl.Attribute, def string) string {
	val, present, _ := l.typed(a, cty.String)
	if !present {
		return def
	}
	return val.AsString()
}

func (l *loader) boolAttr(a *hcl.Attribute, def bool) bool {
	val, present, _ := l.typed(a, cty.Bool)
	if !present {
		return def
	}
	return val.True()
}

func (l *loader) floatAttr(a *hcl.Attribute, def float64) float64 {
	val, present, _ := l.typed(a, cty.Number)
	if !present {
		return def
	}
	f, _ := val.AsBigFloat().Float64()
	return f
}

// intAttr reads a whole number no smaller than lo.
func (l *loader) intAttr(a *hcl.Attribute, def, lo int) int {
	val, present, _ := l.typed(a, cty.Number)
	if !present {
		return def
	}
	n, ok := l.wholeNumber(val, a.Expr.Range(), a.Name, lo)
	if !ok {
		return def
	}
	return n
}

// wholeNumber checks that val is a whole number in [lo, maxInt].
func (l *loader) wholeNumber(val cty.Value, rng hcl.Range, what string, lo int) (int, bool) {
	bf := val.AsBigFloat()
	if !bf.IsInt() {
		l.errorf(rng, "Invalid value", "%s must be a whole number, not %s.", what, bf.Text('g', 10))
		return 0, false
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n > maxInt || n < -maxInt {
		l.errorf(rng, "Invalid value", "%s = %s is out of range.", what, bf.Text('g', 10))
		return 0, false
	}
	if int(n) < lo {
		l.errorf(rng, "Invalid value", "%s must be at least %d, not %d.", what, lo, n)
		return 0, false
	}
	return int(n), true
}

// durationAttr reads a duration written as a string ("10s", "5m").
func (l *loader) durationAttr(a *hcl.Attribute, def time.Duration) time.Duration {
	val, present, _ := l.typed(a, cty.String)
	if !present {
		return def
	}
	d, ok := l.parseDuration(val.AsString(), a.Expr.Range(), a.Name)
	if !ok {
		return def
	}
	return d
}

func (l *loader) parseDuration(s string, rng hcl.Range, what string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		l.errorf(rng, "Invalid duration",
			"%s = %s is not a duration: write a number with a unit, such as \"500ms\", \"10s\", \"5m\" or \"1h30m\".", what, l.shown(s))
		return 0, false
	}
	if d < 0 {
		l.errorf(rng, "Invalid duration", "%s must not be negative.", what)
		return 0, false
	}
	return d, true
}

// shown quotes a value for a diagnostic, unless it is a secret.
func (l *loader) shown(s string) string {
	if l.secrets[s] {
		return redactedText
	}
	return fmt.Sprintf("%q", s)
}

// oneOf reads a string that must be one of choices.
func (l *loader) oneOf(a *hcl.Attribute, def string, choices ...string) string {
	s := l.stringAttr(a, def)
	if a == nil || contains(choices, s) {
		return s
	}
	detail := fmt.Sprintf("%s must be one of %s, not %s.", a.Name, quoteList(choices), l.shown(s))
	if g := suggest(s, choices); g != "" {
		detail += fmt.Sprintf(" Did you mean %q?", g)
	}
	l.errorf(a.Expr.Range(), "Invalid value", "%s", detail)
	return def
}

func quoteList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = fmt.Sprintf("%q", c)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func (l *loader) stringList(a *hcl.Attribute) []string {
	val, present, _ := l.typed(a, cty.List(cty.String))
	if !present {
		return nil
	}
	out := []string{}
	for _, v := range val.AsValueSlice() {
		if v.IsNull() {
			l.errorf(a.Expr.Range(), "Invalid value", "%s must not contain null.", a.Name)
			return nil
		}
		out = append(out, v.AsString())
	}
	return out
}

// intList reads a list of whole numbers no smaller than lo.
func (l *loader) intList(a *hcl.Attribute, lo int) ([]int, bool) {
	val, present, ok := l.typed(a, cty.List(cty.Number))
	if !present {
		return nil, ok
	}
	out := []int{}
	for i, v := range val.AsValueSlice() {
		if v.IsNull() {
			l.errorf(a.Expr.Range(), "Invalid value", "%s must not contain null.", a.Name)
			return nil, false
		}
		n, ok := l.wholeNumber(v, a.Expr.Range(), fmt.Sprintf("%s[%d]", a.Name, i), lo)
		if !ok {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func (l *loader) stringMap(a *hcl.Attribute) map[string]string {
	val, present, _ := l.typed(a, cty.Map(cty.String))
	if !present {
		return nil
	}
	out := map[string]string{}
	for k, v := range val.AsValueMap() {
		if v.IsNull() {
			l.errorf(a.Expr.Range(), "Invalid value", "%s[%q] must not be null.", a.Name, k)
			continue
		}
		out[k] = v.AsString()
	}
	return out
}

// jsonObject reads an object of JSON-compatible values (extra_body).
func (l *loader) jsonObject(a *hcl.Attribute) map[string]any {
	val, present, _ := l.typed(a, cty.DynamicPseudoType)
	if !present {
		return nil
	}
	if !val.Type().IsObjectType() && !val.Type().IsMapType() {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type", "%s must be an object, like { ignore_eos = true }.", a.Name)
		return nil
	}
	out, _ := toJSON(val).(map[string]any)
	return out
}

// toJSON converts a known cty value to encoding/json's shapes.
func toJSON(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if n, acc := bf.Int64(); acc == big.Exact {
				return n
			}
		}
		f, _ := bf.Float64()
		return f
	case ty.IsObjectType() || ty.IsMapType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			out[k] = toJSON(e)
		}
		return out
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := []any{}
		for _, e := range v.AsValueSlice() {
			out = append(out, toJSON(e))
		}
		return out
	}
	return nil
}

package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"reflect"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"
)

// jsFunc marks JavaScript code for the option encoder. Only values of type
// types.FuncStr, which only this function makes, ever become code.
func jsFunc(code string) types.FuncStr { return opts.FuncOpts(code) }

// funcStrType is the type whose values optionJS turns into code.
var funcStrType = reflect.TypeFor[types.FuncStr]()

// optioner is any go-echarts chart.
type optioner interface {
	JSON() map[string]interface{}
}

// optionJS encodes a chart's option as a JavaScript object literal, after
// patch (if any) has set what go-echarts' types cannot express.
//
// go-echarts' own renderer strips the function marker, and the quotes next
// to it, wherever it occurs in the encoded option, so a string from the
// results that carried the marker (an error kind, an SLO name) would become
// script. Here only the functions mrqa wrote become code: the option is
// searched for values of type types.FuncStr, and a JSON string is unquoted
// only when it is a whole value equal to one of them. Every other string,
// marker or not, stays a string.
func optionJS(c optioner, patch func(m map[string]any)) (template.JS, error) {
	m := c.JSON()
	// go-echarts always writes these; empty ones only add noise.
	delete(m, "toolbox")
	delete(m, "title")
	m["animation"] = false
	// Collected before and after patch, and before alignAxisNames: both
	// patchSeries (inside patch) and alignAxisNames re-encode part of the
	// option, which turns the functions there into plain strings.
	fns := map[string]bool{}
	collectFuncs(reflect.ValueOf(m), fns)
	if patch != nil {
		patch(m)
		collectFuncs(reflect.ValueOf(m), fns)
	}
	alignAxisNames(m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", fmt.Errorf("chart option: %w", err)
	}
	s := inlineFuncs(string(bytes.TrimSpace(buf.Bytes())), fns)
	// Text from results lands in JS strings; keep it from closing the script.
	s = strings.ReplaceAll(s, "</", `<\/`)
	s = strings.ReplaceAll(s, "<!--", `<\!--`)
	return template.JS(s), nil
}

// collectFuncs adds every types.FuncStr value reachable from v to into.
func collectFuncs(v reflect.Value, into map[string]bool) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			collectFuncs(v.Elem(), into)
		}
	case reflect.String:
		if v.Type() == funcStrType {
			into[v.String()] = true
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			collectFuncs(it.Value(), into)
		}
	case reflect.Slice, reflect.Array:
		if plainKind(v.Type().Elem().Kind()) {
			return // numbers: nothing to find, and series can be long
		}
		for i := range v.Len() {
			collectFuncs(v.Index(i), into)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collectFuncs(v.Field(i), into)
			}
		}
	}
}

// plainKind reports whether values of kind k can hold no string.
func plainKind(k reflect.Kind) bool {
	return k == reflect.Bool || k >= reflect.Int && k <= reflect.Complex128
}

// inlineFuncs copies the encoded option js, unquoting each JSON string value
// that is one of fns (marker included) into the code between its markers.
// Strings are found by scanning, escapes honoured, so a marker or a quote
// inside a string can never be mistaken for a boundary; object keys are
// never unquoted.
func inlineFuncs(js string, fns map[string]bool) string {
	var b strings.Builder
	b.Grow(len(js))
	for i := 0; i < len(js); {
		q := strings.IndexByte(js[i:], '"')
		if q < 0 {
			b.WriteString(js[i:])
			break
		}
		b.WriteString(js[i : i+q])
		start := i + q
		i = stringEnd(js, start)
		tok := js[start:i]
		isKey := i < len(js) && js[i] == ':'
		if code, ok := funcCode(tok, fns); ok && !isKey {
			b.WriteString(code)
		} else {
			b.WriteString(tok)
		}
	}
	return b.String()
}

// stringEnd returns the index just past the JSON string starting at js[start].
func stringEnd(js string, start int) int {
	for k := start + 1; k < len(js); k++ {
		switch js[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return len(js)
}

// funcCode returns the code of a JSON string token whose value is one of fns.
func funcCode(tok string, fns map[string]bool) (string, bool) {
	open, closing := `"`+funcMarker, funcMarker+`"`
	if len(tok) < len(open)+len(closing) || !strings.HasPrefix(tok, open) || !strings.HasSuffix(tok, closing) {
		return "", false
	}
	var v string
	if json.Unmarshal([]byte(tok), &v) != nil || !fns[v] {
		return "", false
	}
	return tok[len(open) : len(tok)-len(closing)], true
}

// patchSeries rewrites each series as a plain map so fields that go-echarts'
// types lack can be set.
func patchSeries(m map[string]any, fn func(s map[string]any)) {
	b, err := json.Marshal(m["series"])
	if err != nil {
		return
	}
	var series []map[string]any
	if json.Unmarshal(b, &series) != nil {
		return
	}
	for _, s := range series {
		fn(s)
	}
	m["series"] = series
}

// styleSeries is patchSeries for go-echarts series with long data: fn sees
// each series (and its index) encoded without its data, which is put back
// as it was rather than encoded and decoded again.
func styleSeries(m map[string]any, fn func(i int, s map[string]any)) {
	ms, ok := m["series"].(charts.MultiSeries)
	if !ok {
		i := 0
		patchSeries(m, func(s map[string]any) { fn(i, s); i++ })
		return
	}
	out := make([]map[string]any, len(ms))
	for i, se := range ms {
		data := se.Data
		se.Data = nil
		b, err := json.Marshal(se)
		if err != nil || json.Unmarshal(b, &out[i]) != nil {
			return
		}
		fn(i, out[i])
		out[i]["data"] = data
	}
	m["series"] = out
}

// alignAxisNames keeps the names of value axes, written above each axis,
// inside the chart: a long name ("input tok/s (simulated)") centred on an
// axis near the edge would run off it. The first axis's name starts at the
// axis, the second's (on the right) ends there; names placed elsewhere
// (nameLocation set) are left alone.
func alignAxisNames(m map[string]any) {
	b, err := json.Marshal(m["yAxis"])
	if err != nil {
		return
	}
	var axes []map[string]any
	if json.Unmarshal(b, &axes) != nil || len(axes) == 0 {
		return
	}
	for i, a := range axes {
		if a["name"] == nil || a["nameLocation"] != nil {
			continue
		}
		align := "left"
		if i > 0 {
			align = "right"
		}
		a["nameTextStyle"] = map[string]any{"align": align}
	}
	m["yAxis"] = axes
}

// funcMarker is how go-echarts marks a JavaScript function inside a JSON
// string (opts.FuncOpts): "__f__function(v){…}__f__".
const funcMarker = "__f__"

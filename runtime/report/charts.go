package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// funcMarker is how go-echarts marks a JavaScript function inside a JSON
// string (opts.FuncOpts): "__f__function(v){…}__f__".
const funcMarker = "__f__"

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
	// Collected before and after patch: patchSeries re-encodes series,
	// which turns their functions into plain strings.
	fns := map[string]bool{}
	collectFuncs(reflect.ValueOf(m), fns)
	if patch != nil {
		patch(m)
		collectFuncs(reflect.ValueOf(m), fns)
	}
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

// round4 keeps chart numbers short and stable in the page.
func round4(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	mag := math.Pow(10, 4-math.Ceil(math.Log10(math.Abs(f))))
	return math.Round(f*mag) / mag
}

// heatScale is the shared colour scale of heatmaps: log10 of ttft_p95 seconds.
type heatScale struct{ Lo, Hi float64 }

// heatScaleOf spans the finite, positive ttft_p95 values of all results.
func heatScaleOf(rs ...*results.Results) heatScale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		for _, p := range r.Points {
			v := secKey(p.Metrics.TTFTP95)
			if v > 0 && !math.IsInf(v, 1) {
				lo = math.Min(lo, math.Log10(v))
				hi = math.Max(hi, math.Log10(v))
			}
		}
	}
	if math.IsInf(lo, 1) { // nothing finite: an arbitrary 100 ms – 1 s scale
		return heatScale{-1, 0}
	}
	lo = math.Floor(lo*10) / 10
	hi = math.Ceil(hi*10) / 10
	if hi-lo < 0.2 {
		lo, hi = lo-0.1, hi+0.1
	}
	return heatScale{round4(lo), round4(hi)}
}

// heatPalette runs from fast (blue) to slow (red); pass/fail is marked
// separately so the colour only ever means ttft_p95.
var heatPalette = []string{"#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#fee090", "#fdae61", "#f46d43", "#d73027", "#a50026"}

type heatItem struct {
	Value     [3]float64 `json:"value"` // C index, S index, log10 ttft_p95 s
	Label     string     `json:"lbl"`
	Tip       string     `json:"tip"`
	ItemStyle *heatStyle `json:"itemStyle,omitempty"`
}

type heatStyle struct {
	// Color is a colour, or for implied cells page.js's hatch pattern.
	Color       types.FuncStr `json:"color,omitempty"`
	BorderColor string        `json:"borderColor,omitempty"`
	BorderWidth float64       `json:"borderWidth,omitempty"`
	BorderType  string        `json:"borderType,omitempty"`
}

const (
	passBorder = "#1a7f37"
	bestBorder = "#111111"
)

// heatmapOption is the C×S heatmap of ttft_p95: measured cells coloured on
// the log scale, passing cells outlined, the best one starred, implied cells
// hatched grey and labelled "implied".
func heatmapOption(r *results.Results, scale heatScale) (template.JS, error) {
	cs, ss := axes(r)
	ci := map[int]int{}
	for i, c := range cs {
		ci[c] = i
	}
	si := map[int]int{}
	for i, s := range ss {
		si[s] = i
	}
	var measured []heatItem
	for _, p := range sortedPoints(r) {
		m := &p.Metrics
		v := secKey(m.TTFTP95)
		lv := scale.Hi
		if v > 0 && !math.IsInf(v, 1) {
			lv = round4(math.Min(math.Max(math.Log10(v), scale.Lo), scale.Hi))
		} else if v <= 0 {
			lv = scale.Lo
		}
		best := isBest(r, p.Concurrent, p.Sequential)
		label := fmtDur(m.TTFTP95) + " " + passMark(p.Passed)
		if best {
			label = "★ " + label
		}
		it := heatItem{Value: [3]float64{float64(ci[p.Concurrent]), float64(si[p.Sequential]), lv}, Label: label, Tip: pointTip(r, p)}
		switch {
		case best:
			it.ItemStyle = &heatStyle{BorderColor: bestBorder, BorderWidth: 4}
		case p.Passed:
			it.ItemStyle = &heatStyle{BorderColor: passBorder, BorderWidth: 2}
		}
		measured = append(measured, it)
	}
	var implied []heatItem
	if r.Search != nil {
		for _, ip := range r.Search.Implied {
			word := "fail"
			if ip.Passed {
				word = "pass"
			}
			implied = append(implied, heatItem{
				Value: [3]float64{float64(ci[ip.Concurrent]), float64(si[ip.Sequential]), 0},
				Label: "implied " + passMark(ip.Passed),
				Tip: fmt.Sprintf("<b>C=%d, S=%d</b> (%d sessions)<br>implied %s by the frontier search: not measured",
					ip.Concurrent, ip.Sequential, ip.Concurrent*ip.Sequential, word),
				ItemStyle: &heatStyle{Color: jsFunc(`mrqaHatch()`), BorderColor: "#9e9e9e", BorderWidth: 1, BorderType: "dashed"},
			})
		}
	}
	edges := sloEdges(r, ci, si)
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "item", Formatter: jsFunc(`function(p){return p.data&&p.data.tip||'';}`)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C (concurrent users)", NameLocation: "middle", NameGap: 28,
			Data: intStrings(cs), SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Name: "S (sessions per user)", NameLocation: "middle", NameGap: 32,
			Data: intStrings(ss), SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithGridOpts(opts.Grid{Left: "48", Right: "8", Top: "8", Bottom: "84"}),
	)
	hm.AddSeries("ttft_p95", nil)
	hm.MultiSeries[0].Data = measured
	if len(implied) > 0 {
		hm.AddSeries("implied", nil)
		hm.MultiSeries[1].Data = implied
	}
	return optionJS(hm, func(m map[string]any) {
		m["visualMap"] = []any{map[string]any{
			"type": "continuous", "seriesIndex": 0, "dimension": 2,
			"min": scale.Lo, "max": scale.Hi, "calculable": false, "orient": "horizontal",
			"left": "center", "bottom": 0, "itemHeight": 120, "precision": 3,
			"text":      []string{"slow " + fmtSec(math.Pow(10, scale.Hi)), fmtSec(math.Pow(10, scale.Lo)) + " fast"},
			"formatter": jsFunc(`function(v){return mrqaDur(Math.pow(10,v));}`),
			"inRange":   map[string]any{"color": heatPalette},
		}}
		// go-echarts' label type has no text outline, which keeps labels
		// readable on every colour of the scale.
		patchSeries(m, func(s map[string]any) {
			s["label"] = map[string]any{"show": true, "color": "#111", "fontSize": 11,
				"textBorderColor": "#fff", "textBorderWidth": 3, "formatter": jsFunc(`function(p){return p.data.lbl;}`)}
		})
		if len(edges) > 0 {
			// The pass/fail boundary: a custom series drawing each cell edge
			// that separates a passing cell from a failing one (page.js's
			// mrqaEdge), above the cells and inert to the mouse.
			series, _ := m["series"].([]map[string]any)
			m["series"] = append(series, map[string]any{
				"type": "custom", "name": "SLO boundary", "coordinateSystem": "cartesian2d",
				"renderItem": jsFunc(`mrqaEdge`), "encode": map[string]any{"x": 0, "y": 1},
				"data": edges, "silent": true, "z": 5, "tooltip": map[string]any{"show": false},
			})
		}
	})
}

// Sides of a cell a boundary edge lies on, as sloEdges and mrqaEdge use them.
const (
	edgeRight = 0 // between the cell and its neighbour at the next C
	edgeTop   = 1 // between the cell and its neighbour at the next S
)

// sloEdges lists the cell edges between a passing and a failing cell of the
// heatmap, measured or implied, as [C index, S index, side] in grid order.
// Cells with no outcome (not run, not implied) border nothing, so a boundary
// is drawn only where the results show one.
func sloEdges(r *results.Results, ci, si map[int]int) [][3]int {
	passed := map[[2]int]bool{}
	for _, p := range r.Points {
		passed[[2]int{ci[p.Concurrent], si[p.Sequential]}] = p.Passed
	}
	if r.Search != nil {
		for _, ip := range r.Search.Implied {
			passed[[2]int{ci[ip.Concurrent], si[ip.Sequential]}] = ip.Passed
		}
	}
	var out [][3]int
	for i := range len(ci) {
		for j := range len(si) {
			here, ok := passed[[2]int{i, j}]
			if !ok {
				continue
			}
			if next, ok := passed[[2]int{i + 1, j}]; ok && next != here {
				out = append(out, [3]int{i, j, edgeRight})
			}
			if next, ok := passed[[2]int{i, j + 1}]; ok && next != here {
				out = append(out, [3]int{i, j, edgeTop})
			}
		}
	}
	return out
}

// pointTip is a point's tooltip: escaped HTML.
func pointTip(r *results.Results, p *results.Point) string {
	m := &p.Metrics
	var b strings.Builder
	fmt.Fprintf(&b, "<b>C=%d, S=%d</b> (%d sessions)", p.Concurrent, p.Sequential, p.Concurrent*p.Sequential)
	if isBest(r, p.Concurrent, p.Sequential) {
		b.WriteString(" ★ best")
	}
	fmt.Fprintf(&b, "<br>ttft p50 %s · p95 %s · p99 %s", fmtDur(m.TTFTP50), fmtDur(m.TTFTP95), fmtDur(m.TTFTP99))
	fmt.Fprintf(&b, "<br>samples %d · errors %d (%s)", m.Samples, m.Errors, fmtPct(m.ErrorRate))
	for _, o := range p.SLOs {
		fmt.Fprintf(&b, "<br>%s %s", html.EscapeString(o.Name), html.EscapeString(outcomeMark(o.Outcome)))
	}
	return b.String()
}

func intStrings(xs []int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Itoa(x)
	}
	return out
}

// legendSelection picks which per-point series start visible when there are
// too many to read at once: the row of points sharing the best point's S
// (or the smallest S), which shows how concurrency moves the curve.
func legendSelection(r *results.Results, ps []*results.Point) map[string]bool {
	const maxShown = 12
	if len(ps) <= maxShown {
		return nil
	}
	s := ps[0].Sequential
	for _, p := range ps {
		s = min(s, p.Sequential)
	}
	if r.Best != nil {
		s = r.Best.Sequential
	}
	sel := map[string]bool{}
	for _, p := range ps {
		sel[pointLabel(p.Concurrent, p.Sequential)] = p.Sequential == s
	}
	return sel
}

const (
	durAxisLabel = `function(v){return mrqaDur(v);}`
	durValueFmt  = `function(v){return v==null?'—':mrqaDur(v);}`
)

// turnsOption plots ttft_p95 by turn, one line per point; turn 0 is the
// opening turn, which carries the whole document.
func turnsOption(r *results.Results, ps []*results.Point) (template.JS, error) {
	maxTurn := 0
	for _, p := range ps {
		for _, t := range p.Turns {
			maxTurn = max(maxTurn, t.Turn)
		}
	}
	cats := make([]string, maxTurn+1)
	for i := range cats {
		cats[i] = strconv.Itoa(i)
	}
	cats[0] = "0 (opening)"
	ln := charts.NewLine()
	ln.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis", ValueFormatter: jsFunc(durValueFmt)}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0", Selected: legendSelection(r, ps)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "turn", NameLocation: "middle", NameGap: 26, Data: cats}),
		charts.WithYAxisOpts(opts.YAxis{Type: "log", Name: "ttft p95", AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "16", Top: "56", Bottom: "40"}),
	)
	for _, p := range ps {
		data := make([]any, maxTurn+1)
		for _, t := range p.Turns {
			v := float64(t.TTFTP95)
			if t.Turn >= 0 && t.Turn <= maxTurn && v > 0 && !math.IsInf(v, 1) {
				data[t.Turn] = round4(v)
			}
		}
		ln.AddSeries(pointLabel(p.Concurrent, p.Sequential), nil, charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(false)}))
		ln.MultiSeries[len(ln.MultiSeries)-1].Data = data
	}
	return optionJS(ln, nil)
}

// cdfOption plots each point's steady-state TTFT distribution. Quantiles at
// +∞ (failed turns) are left off, so a curve that stops short of 100% shows
// the share of turns that never got a first token.
func cdfOption(r *results.Results, ps []*results.Point) (template.JS, error) {
	ln := charts.NewLine()
	ln.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis", Formatter: jsFunc(
			`function(ps){var s='';for(var i=0;i<ps.length&&i<12;i++){var v=ps[i].value;s+=ps[i].marker+ps[i].seriesName+': p'+v[1]+' '+mrqaDur(v[0])+'<br>';}return s;}`)}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0", Selected: legendSelection(r, ps)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "log", Name: "steady-state TTFT", NameLocation: "middle", NameGap: 26,
			AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "percentile", Min: 0, Max: 100}),
		charts.WithGridOpts(opts.Grid{Left: "48", Right: "24", Top: "56", Bottom: "40"}),
	)
	for _, p := range ps {
		var data [][2]float64
		for q, v := range p.CDF {
			f := float64(v)
			if f > 0 && !math.IsInf(f, 1) {
				data = append(data, [2]float64{round4(f), float64(q)})
			}
		}
		ln.AddSeries(pointLabel(p.Concurrent, p.Sequential), nil, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
		ln.MultiSeries[len(ln.MultiSeries)-1].Data = data
	}
	return optionJS(ln, nil)
}

// throughputOption shows input and output tokens/s per point, on two axes
// because input (whole conversations) dwarfs output.
func throughputOption(ps []*results.Point) (template.JS, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C×S", NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "input tok/s"}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "64", Top: "48", Bottom: "40"}),
	)
	bar.ExtendYAxis(opts.YAxis{Type: "value", Name: "output tok/s", SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	in := make([]float64, len(ps))
	out := make([]float64, len(ps))
	for i, p := range ps {
		in[i] = round4(p.Metrics.InputTokensPerS)
		out[i] = round4(p.Metrics.OutputTokensPerS)
	}
	bar.AddSeries("input tokens/s", nil)
	bar.MultiSeries[0].Data = in
	bar.AddSeries("output tokens/s", nil)
	bar.MultiSeries[1].Data = out
	bar.MultiSeries[1].YAxisIndex = 1
	return optionJS(bar, nil)
}

// errorsOption stacks each point's failed requests by kind.
func errorsOption(ps []*results.Point, kinds []string) (template.JS, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C×S", NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "failed requests", MinInterval: 1}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "16", Top: "48", Bottom: "40"}),
	)
	for _, k := range kinds {
		data := make([]int, len(ps))
		for i, p := range ps {
			data[i] = p.Errors[k]
		}
		bar.AddSeries(k, nil)
		s := &bar.MultiSeries[len(bar.MultiSeries)-1]
		s.Data = data
		s.Stack = "errors"
	}
	return optionJS(bar, nil)
}

// percentBars is a bar chart over the points with a 0–100 % value axis.
func percentBars(ps []*results.Point, yName string) *charts.Bar {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis", ValueFormatter: jsFunc(`function(v){return v==null?'—':v+'%';}`)}),
		charts.WithLegendOpts(opts.Legend{Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C×S", NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: yName, Min: 0, Max: 100}),
		charts.WithGridOpts(opts.Grid{Left: "48", Right: "16", Top: "48", Bottom: "40"}),
	)
	return bar
}

// serverCacheOption shows KV-cache usage and the prefix-cache hit rate.
func serverCacheOption(ps []*results.Point) (template.JS, error) {
	bar := percentBars(ps, "%")
	series := []struct {
		name string
		get  func(*results.ServerSummary) *float64
	}{
		{"KV cache usage max", func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax }},
		{"KV cache usage mean", func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMean }},
		{"prefix cache hit rate", func(s *results.ServerSummary) *float64 { return s.PrefixCacheHitRate }},
	}
	for _, se := range series {
		data := make([]any, len(ps))
		for i, p := range ps {
			if p.Server != nil {
				if v := se.get(p.Server); v != nil {
					data[i] = round4(*v * 100)
				}
			}
		}
		bar.AddSeries(se.name, nil)
		bar.MultiSeries[len(bar.MultiSeries)-1].Data = data
	}
	return optionJS(bar, nil)
}

// serverQueueOption shows preemptions (bars) and queue time p95 (line).
func serverQueueOption(ps []*results.Point) (template.JS, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C×S", NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "preemptions", MinInterval: 1}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "64", Top: "48", Bottom: "40"}),
	)
	bar.ExtendYAxis(opts.YAxis{Type: "value", Name: "queue p95", SplitLine: &opts.SplitLine{Show: opts.Bool(false)},
		AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}})
	pre := make([]any, len(ps))
	queue := make([]any, len(ps))
	for i, p := range ps {
		if s := p.Server; s != nil {
			if s.Preemptions != nil {
				pre[i] = round4(*s.Preemptions)
			}
			if s.QueueTimeP95 != nil {
				queue[i] = round4(*s.QueueTimeP95)
			}
		}
	}
	bar.AddSeries("preemptions", nil)
	bar.MultiSeries[0].Data = pre
	bar.AddSeries("queue time p95", nil)
	q := &bar.MultiSeries[1]
	q.Data = queue
	q.Type = types.ChartLine
	q.YAxisIndex = 1
	return optionJS(bar, nil)
}

func labels(ps []*results.Point) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = pointLabel(p.Concurrent, p.Sequential)
	}
	return out
}

// errorKinds lists the error kinds seen at any point, sorted.
func errorKinds(ps []*results.Point) []string {
	seen := map[string]bool{}
	for _, p := range ps {
		for k, n := range p.Errors {
			if n > 0 {
				seen[k] = true
			}
		}
	}
	return sortedKeys(seen)
}

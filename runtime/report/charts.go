package report

import (
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// round4 keeps chart numbers short and stable in the page.
func round4(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	mag := math.Pow(10, 4-math.Ceil(math.Log10(math.Abs(f))))
	return math.Round(f*mag) / mag
}

const (
	passBorder = "#1a7f37"
	bestBorder = "#111111"
)

// Sides of a cell a boundary edge lies on, as sloEdges and mrqaEdge use them.
const (
	edgeRight = 0 // between the cell and its neighbour at the next C
	edgeTop   = 1 // between the cell and its neighbour at the next S
)

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
		sel[label(p)] = p.Sequential == s
	}
	return sel
}

const (
	durAxisLabel = `function(v){return mrqaDur(v);}`
	durValueFmt  = `function(v){return v==null?'—':mrqaDur(v);}`
)

// pointKeyNote says how the per-point lines of the latency charts are told
// apart.
const pointKeyNote = "Colour is C (concurrent users); line dash and marker are S (sessions per user)."

// pointStyle is how one point's line is drawn in the latency charts: a
// colour for each value of C (ci is its index among the run's Cs; the first
// seven are Okabe and Ito's colour-blind-safe set) and a dash and a marker
// for each value of S. Ten values of each are told apart; more repeat.
func pointStyle(ci, si int) (colour string, dash any, symbol string) {
	const (
		cross = "path://M2,0L5,3L8,0L10,2L7,5L10,8L8,10L5,7L2,10L0,8L3,5L0,2Z"
		plus  = "path://M4,0H6V4H10V6H6V10H4V6H0V4H4Z"
	)
	colours := [...]string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#8c564b", "#7f7f7f", "#bcbd22"}
	dashes := [...]any{"solid", "dashed", "dotted", []int{12, 4, 2, 4}, []int{2, 8}}
	symbols := [...]string{"circle", "rect", "triangle", "diamond", cross, "emptyCircle", "emptyRect", "emptyTriangle", "emptyDiamond", plus}
	return colours[ci%len(colours)], dashes[si%len(dashes)], symbols[si%len(symbols)]
}

// stylePoints gives each series of a per-point chart (one per point of ps,
// in order) its pointStyle.
func stylePoints(m map[string]any, r *results.Results, ps []*results.Point) {
	cs, ss := axes(r)
	styleSeries(m, func(i int, s map[string]any) {
		p := ps[i]
		ci, si := slices.Index(cs, p.Concurrent), slices.Index(ss, p.Sequential)
		if p.Rate > 0 {
			ci, si = i, 0 // one axis: a colour per rate
		}
		colour, dash, symbol := pointStyle(ci, si)
		s["itemStyle"] = map[string]any{"color": colour}
		s["lineStyle"] = map[string]any{"color": colour, "type": dash, "width": 2}
		s["symbol"] = symbol
		s["symbolSize"] = 7
	})
}

// pointLegend is the legend of a per-point chart: one scrolling row above
// the plot, the points in order of C, then S, each drawn as its line.
func pointLegend(r *results.Results, ps []*results.Point) opts.Legend {
	return opts.Legend{Type: "scroll", Top: "0", ItemWidth: 34, Selected: legendSelection(r, ps)}
}

// finite reports whether a latency is one a chart can plot.
func finite(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// turnsEmpty says why the TTFT-by-turn chart would be empty; "" when it
// has something to draw.
func turnsEmpty(ps []*results.Point) string {
	turns := false
	for _, p := range ps {
		for _, t := range p.Turns {
			turns = true
			if finite(float64(t.TTFTP95)) {
				return ""
			}
		}
	}
	if !turns {
		return "These results have no per-turn figures, so there is no TTFT by turn."
	}
	return "No turn succeeded, so there is no TTFT by turn."
}

// cdfEmpty says why the TTFT distribution would be empty; "" when it has
// something to draw.
func cdfEmpty(ps []*results.Point) string {
	cdf := false
	for _, p := range ps {
		for _, v := range p.CDF {
			cdf = true
			if finite(float64(v)) {
				return ""
			}
		}
	}
	if !cdf {
		return "These results have no TTFT distribution."
	}
	return "No steady-state turn succeeded, so there is no TTFT distribution."
}

// throughputEmpty says why the throughput chart would be empty.
func throughputEmpty(ps []*results.Point) string {
	for _, p := range ps {
		if p.Metrics.InputTokensPerS > 0 || p.Metrics.OutputTokensPerS > 0 {
			return ""
		}
	}
	return "No point counted a token, so there is no throughput."
}

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
		charts.WithLegendOpts(pointLegend(r, ps)),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "turn", NameLocation: "middle", NameGap: 26, Data: cats}),
		charts.WithYAxisOpts(opts.YAxis{Type: "log", Name: simName("ttft p95", simulated(r)), AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "16", Top: "56", Bottom: "40"}),
	)
	for _, p := range ps {
		data := make([]any, maxTurn+1)
		for _, t := range p.Turns {
			v := float64(t.TTFTP95)
			if t.Turn >= 0 && t.Turn <= maxTurn && finite(v) {
				data[t.Turn] = round4(v)
			}
		}
		ln.AddSeries(label(p), nil, charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(false)}))
		ln.MultiSeries[len(ln.MultiSeries)-1].Data = data
	}
	return optionJS(ln, func(m map[string]any) { stylePoints(m, r, ps) })
}

// cdfOption plots each point's steady-state TTFT distribution. Quantiles at
// +∞ (failed turns) are left off, so a curve that stops short of 100% shows
// the share of turns that never got a first token.
func cdfOption(r *results.Results, ps []*results.Point) (template.JS, error) {
	ln := charts.NewLine()
	ln.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis", Formatter: jsFunc(
			`function(ps){var s='';for(var i=0;i<ps.length&&i<12;i++){var v=ps[i].value;s+=ps[i].marker+ps[i].seriesName+': p'+v[1]+' '+mrqaDur(v[0])+'<br>';}return s;}`)}),
		charts.WithLegendOpts(pointLegend(r, ps)),
		charts.WithXAxisOpts(opts.XAxis{Type: "log", Name: simName("steady-state TTFT", simulated(r)), NameLocation: "middle", NameGap: 26,
			AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "percentile", Min: 0, Max: 100}),
		charts.WithGridOpts(opts.Grid{Left: "48", Right: "24", Top: "56", Bottom: "40"}),
	)
	for _, p := range ps {
		var data [][2]float64
		for q, v := range p.CDF {
			if f := float64(v); finite(f) {
				data = append(data, [2]float64{round4(f), float64(q)})
			}
		}
		ln.AddSeries(label(p), nil, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
		ln.MultiSeries[len(ln.MultiSeries)-1].Data = data
	}
	return optionJS(ln, func(m map[string]any) { stylePoints(m, r, ps) })
}

// throughputOption shows input and output tokens/s per point, on two axes
// because input (whole conversations) dwarfs output; sim marks the seconds
// as simulated.
func throughputOption(ps []*results.Point, sim bool) (template.JS, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: axisName(ps), NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: simName("input tok/s", sim)}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "64", Top: "48", Bottom: "40"}),
	)
	bar.ExtendYAxis(opts.YAxis{Type: "value", Name: simName("output tok/s", sim), SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
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
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: axisName(ps), NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
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
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: axisName(ps), NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: yName, Min: 0, Max: 100}),
		charts.WithGridOpts(opts.Grid{Left: "48", Right: "16", Top: "48", Bottom: "40"}),
	)
	return bar
}

// figure is one server figure per point, as a chart series: nil where a
// point lacks it. Missing says why when no point has it.
type figure struct {
	Name    string
	Data    []any
	Missing string
}

// present reports whether any point has the figure.
func (f figure) present() bool {
	return slices.ContainsFunc(f.Data, func(v any) bool { return v != nil })
}

// perPoint collects one server figure per point, scaled by k.
func perPoint(ps []*results.Point, get func(*results.ServerSummary) *float64, k float64) []any {
	data := make([]any, len(ps))
	for i, p := range ps {
		if p.Server != nil {
			if v := get(p.Server); v != nil {
				data[i] = round4(*v * k)
			}
		}
	}
	return data
}

// presentFigures splits figures into those some point has and the sentences
// saying why the others are missing (each sentence once).
func presentFigures(fs []figure) ([]figure, string) {
	var keep []figure
	var why []string
	for _, f := range fs {
		if f.present() {
			keep = append(keep, f)
		} else if !slices.Contains(why, f.Missing) {
			why = append(why, f.Missing)
		}
	}
	return keep, strings.Join(why, " ")
}

// cacheFigures are the per-point cache chart's series.
func cacheFigures(ps []*results.Point) []figure {
	const noKV = "No KV-cache usage: the server's /metrics has no KV-cache usage gauge."
	return []figure{
		{"KV cache usage max", perPoint(ps, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax }, 100), noKV},
		{"KV cache usage mean", perPoint(ps, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMean }, 100), noKV},
		{"prefix cache hit rate", perPoint(ps, func(s *results.ServerSummary) *float64 { return s.PrefixCacheHitRate }, 100),
			"No prefix-cache hit rate: the server's /metrics has no prefix-cache counters."},
	}
}

// noPreemptions is what the page says where the server exports no
// preemption counter.
const noPreemptions = "No preemption data: the server's /metrics has no preemption counter."

// queueFigures are the per-point preemption and queue-time series.
func queueFigures(ps []*results.Point) []figure {
	return []figure{
		{"preemptions", perPoint(ps, func(s *results.ServerSummary) *float64 { return s.Preemptions }, 1), noPreemptions},
		{"queue time p95", perPoint(ps, func(s *results.ServerSummary) *float64 { return s.QueueTimeP95 }, 1),
			"No queue time: the server's /metrics has no queue-time histogram."},
	}
}

// serverCacheOption shows KV-cache usage and the prefix-cache hit rate, the
// figures some point has.
func serverCacheOption(ps []*results.Point, fs []figure) (template.JS, error) {
	bar := percentBars(ps, "%")
	for _, f := range fs {
		bar.AddSeries(f.Name, nil)
		bar.MultiSeries[len(bar.MultiSeries)-1].Data = f.Data
	}
	return optionJS(bar, nil)
}

// serverQueueOption shows preemptions (bars) and queue time p95 (a line on
// its own axis), whichever of them some point has; sim marks the queue time
// as simulated.
func serverQueueOption(ps []*results.Point, fs []figure, sim bool) (template.JS, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: axisName(ps), NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "64", Top: "48", Bottom: "40"}),
	)
	axis := func(f figure) opts.YAxis {
		if f.Name == "preemptions" {
			return opts.YAxis{Type: "value", Name: "preemptions", MinInterval: 1}
		}
		return opts.YAxis{Type: "value", Name: simName("queue p95", sim), AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}
	}
	for i, f := range fs {
		y := axis(f)
		if i == 0 {
			bar.SetGlobalOptions(charts.WithYAxisOpts(y))
		} else {
			y.SplitLine = &opts.SplitLine{Show: opts.Bool(false)}
			bar.ExtendYAxis(y)
		}
		bar.AddSeries(f.Name, nil)
		se := &bar.MultiSeries[i]
		se.Data = f.Data
		se.YAxisIndex = i
		if f.Name != "preemptions" {
			se.Type = types.ChartLine
		}
	}
	return optionJS(bar, nil)
}

// axisName names the axis of per-point categories: "C×S", or the rate.
func axisName(ps []*results.Point) string {
	if len(ps) > 0 && ps[0].Rate > 0 {
		return "rate (sessions/min)"
	}
	return "C×S"
}

// keyNote says how the per-point lines of the latency charts are told
// apart: by C and S on a grid, by colour alone on a rate axis.
func keyNote(r *results.Results) string {
	if isOpen(r) {
		return "Each colour is an arrival rate."
	}
	return pointKeyNote
}

func labels(ps []*results.Point) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = label(p)
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

package report

import (
	"html/template"
	"math"
	"strconv"

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

package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

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
			"text":      []string{simName("slow "+fmtSec(math.Pow(10, scale.Hi)), simulated(r)), fmtSec(math.Pow(10, scale.Lo)) + " fast"},
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
	fmt.Fprintf(&b, "<br>%s", simName(fmt.Sprintf("ttft p50 %s · p95 %s · p99 %s", fmtDur(m.TTFTP50), fmtDur(m.TTFTP95), fmtDur(m.TTFTP99)), simulated(r)))
	fmt.Fprintf(&b, "<br>samples %d · errors %d (%s)", m.Samples, m.Errors, fmtPct(m.ErrorRate))
	for _, o := range p.SLOs {
		fmt.Fprintf(&b, "<br>%s %s", html.EscapeString(o.Name), html.EscapeString(outcomeMark(o.Outcome)))
	}
	return b.String()
}

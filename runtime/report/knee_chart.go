package report

import (
	"html/template"
	"slices"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// failFill colours a failing point's bar; passBorder a passing one's.
const failFill = "#b3261e"

// hasLoad reports whether some point recorded its working set.
func hasLoad(ps []*results.Point) bool {
	return slices.ContainsFunc(ps, func(p *results.Point) bool { return p.Load != nil && p.Load.WorkingSetTokens > 0 })
}

// loadPoints orders the points by sessions (the smaller C first among
// equals), the order in which a working set grows.
func loadPoints(ps []*results.Point) []*results.Point {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b *results.Point) int {
		if d := sessionsOf(a) - sessionsOf(b); d != 0 {
			return d
		}
		return a.Concurrent - b.Concurrent
	})
	return out
}

// workingSetOption draws each point's working set as a bar (green passed,
// red failed) against the KV capacity the server stated, a horizontal line.
func workingSetOption(r *results.Results, ps []*results.Point) (template.JS, error) {
	ps = loadPoints(ps)
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "C×S, by sessions", NameLocation: "middle", NameGap: 26, Data: labels(ps)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "tokens"}),
		charts.WithGridOpts(opts.Grid{Left: "72", Right: "24", Top: "40", Bottom: "40"}),
	)
	bar.AddSeries("working set (tokens)", nil)
	capacity := kvCapacity(r)
	return optionJS(bar, func(m map[string]any) {
		patchSeries(m, func(s map[string]any) {
			data := make([]map[string]any, len(ps))
			for i, p := range ps {
				color := failFill
				if p.Passed {
					color = passBorder
				}
				var v any = "-" // no working set recorded
				if p.Load != nil && p.Load.WorkingSetTokens > 0 {
					v = p.Load.WorkingSetTokens
				}
				data[i] = map[string]any{"value": v, "itemStyle": map[string]any{"color": color}}
			}
			s["data"] = data
			if capacity > 0 {
				s["markLine"] = map[string]any{
					"symbol": "none", "silent": true,
					"label":     map[string]any{"formatter": "KV capacity " + fmtTokens(capacity), "position": "insideEndTop"},
					"lineStyle": map[string]any{"color": "#111111", "type": "dashed", "width": 2},
					"data":      []map[string]any{{"yAxis": capacity}},
				}
			}
		})
	})
}

// workingSetNote says what the chart shows and, when the server did not
// state its capacity, that the line is missing for that reason.
func workingSetNote(r *results.Results) string {
	s := "Each point's working set: for every session, its conversation at its longest (prompt + answer), summed over the point's sessions. Keeping every session's prefix cached takes this much KV cache. Green passed, red failed."
	if kvCapacity(r) > 0 {
		return s + " The dashed line is the KV cache's capacity as the server stated it (vLLM's cache_config_info, SGLang's max_total_num_tokens)."
	}
	return s + " The server did not state its KV capacity (vLLM's cache_config_info, SGLang's max_total_num_tokens), so there is no line to compare with."
}

// workingSetCell is a point's working set in the per-point table.
func workingSetCell(p *results.Point) cell {
	if p.Load == nil || p.Load.WorkingSetTokens == 0 {
		return cell{Text: "—", Sort: "-1", Title: "not recorded"}
	}
	c := cell{Text: fmtTokens(float64(p.Load.WorkingSetTokens)), Sort: strconv.Itoa(p.Load.WorkingSetTokens),
		Title: strconv.Itoa(p.Load.WorkingSetTokens) + " tokens"}
	if p.Load.LowerBound {
		c.Text = "≥ " + c.Text
		c.Title += ", at least: some session's last turn failed"
	}
	return c
}

package report

import (
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// maxLinePoints caps the points of one time-series line: a run of hours
// scraped every second would otherwise put tens of thousands of points per
// line into the page.
const maxLinePoints = 2000

// maxAreaLabels is the most point boundaries labelled on a time-series chart;
// with more, a label shows only when its area is hovered.
const maxAreaLabels = 24

// tsLine is one line of a server time-series chart.
type tsLine struct {
	Name string
	Unit string // "%", "s", "/s" or "" (a count)
	Axis int
	X, Y []float64 // seconds since the run started; values in Unit
	// Missing says why the line is absent when no scrape had its figure.
	Missing string
}

// tsChart is one time-series chart of the server-metrics section.
type tsChart struct {
	ID, Title, Note string
	Axes            []tsAxis
	Lines           []tsLine
	// Empty, when set, says why no line has data: the page shows it in
	// the chart's place.
	Empty string
}

type tsAxis struct {
	Name, Unit string
	Max        float64 // 0: automatic
}

// runOrigin is the zero of the time axis: the run's start, else the first scrape.
func runOrigin(r *results.Results) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	return r.ServerSeries.Samples[0].T
}

// elapsed converts times to seconds since t0, to a tenth of a second.
func elapsed(ts []time.Time, t0 time.Time) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = math.Round(t.Sub(t0).Seconds()*10) / 10
	}
	return out
}

func scaled(vs []float64, f float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v * f
	}
	return out
}

// timeline is a stored name over time, scaled by f.
func timeline(ser *promscrape.Series, name string, t0 time.Time, f float64) ([]float64, []float64) {
	ts, vs := ser.Timeline(name)
	return elapsed(ts, t0), scaled(vs, f)
}

// hitRateTimeline is the prefix-cache hit rate per scrape interval, from the
// hits and queries counters' rates at the same scrapes (intervals with no
// query are left out), or the server's own gauge when it exports only that.
func hitRateTimeline(ser *promscrape.Series, t0 time.Time) ([]float64, []float64) {
	ht, hv := ser.Timeline(promscrape.PrefixCacheHits)
	qt, qv := ser.Timeline(promscrape.PrefixCacheQueries)
	if len(qt) == 0 {
		return timeline(ser, promscrape.PrefixCacheHitRateGauge, t0, 100)
	}
	hits := make(map[int64]float64, len(ht))
	for i, t := range ht {
		hits[t.UnixNano()] = hv[i]
	}
	var ts []time.Time
	var vs []float64
	for i, t := range qt {
		h, ok := hits[t.UnixNano()]
		if !ok || qv[i] <= 0 {
			continue
		}
		ts = append(ts, t)
		vs = append(vs, math.Min(1, h/qv[i])*100)
	}
	return elapsed(ts, t0), vs
}

// downsample keeps at most limit points of a line: the smallest and largest
// value of each of (limit-2)/2 consecutive runs, in time order, so peaks (a
// KV cache at its ceiling, a burst of waiting requests) survive, and the
// first and last points, so the line spans what the data does.
func downsample(xs, ys []float64, limit int) ([]float64, []float64) {
	n := len(xs)
	if n <= limit || limit < 4 {
		return xs, ys
	}
	buckets := (limit - 2) / 2
	ox := make([]float64, 0, limit)
	oy := make([]float64, 0, limit)
	for b := range buckets {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		if lo >= hi {
			continue
		}
		imin, imax := lo, lo
		for i := lo + 1; i < hi; i++ {
			if ys[i] < ys[imin] {
				imin = i
			}
			if ys[i] > ys[imax] {
				imax = i
			}
		}
		first, second := min(imin, imax), max(imin, imax)
		if b == 0 && first != 0 {
			ox, oy = append(ox, xs[0]), append(oy, ys[0])
		}
		ox, oy = append(ox, xs[first]), append(oy, ys[first])
		if second != first {
			ox, oy = append(ox, xs[second]), append(oy, ys[second])
		}
		if b == buckets-1 && second != n-1 {
			ox, oy = append(ox, xs[n-1]), append(oy, ys[n-1])
		}
	}
	return ox, oy
}

// shapeLine readies a line for the page: it is cut where the scrapes left
// a hole (more than gapFactor typical intervals with no value: the server was
// idle between points, or down), each piece downsampled in proportion to its
// length so the whole keeps at most limit points, and a NaN y marks each cut.
func shapeLine(xs, ys []float64, limit int) ([]float64, []float64) {
	const gapFactor = 2.5
	n := len(xs)
	if n < 3 {
		return xs, ys
	}
	diffs := make([]float64, n-1)
	for i := 1; i < n; i++ {
		diffs[i-1] = xs[i] - xs[i-1]
	}
	slices.Sort(diffs)
	step := diffs[len(diffs)/2]
	var cuts []int // indices that start a new piece
	for i := 1; i < n; i++ {
		if step > 0 && xs[i]-xs[i-1] > gapFactor*step {
			cuts = append(cuts, i)
		}
	}
	budget := limit - len(cuts) // the cut markers count too
	if budget < 4*(len(cuts)+1) {
		// Too fragmented to keep every cut within the limit: no cuts.
		return downsample(xs, ys, limit)
	}
	var ox, oy []float64
	start := 0
	for k := 0; k <= len(cuts); k++ {
		end := n
		if k < len(cuts) {
			end = cuts[k]
		}
		share := max(4, budget*(end-start)/n)
		px, py := downsample(xs[start:end], ys[start:end], share)
		if k > 0 {
			ox, oy = append(ox, (xs[start-1]+xs[start])/2), append(oy, math.NaN())
		}
		ox, oy = append(ox, px...), append(oy, py...)
		start = end
	}
	return ox, oy
}

// serverTimeCharts lists the time-series charts of the scrapes; none when
// no scrape succeeded (the section's intro says how many failed). A line no
// scrape had is left out and its chart's note says so; a chart with no line
// left says why in its Empty.
func serverTimeCharts(r *results.Results) []tsChart {
	ser := r.ServerSeries
	if ser == nil || !slices.ContainsFunc(ser.Samples, func(s promscrape.Sample) bool { return s.Err == "" }) {
		return nil
	}
	t0 := runOrigin(r)
	sim := simulated(r)
	line := func(name, unit string, axis int, missing string, xs, ys []float64) tsLine {
		return tsLine{Name: name, Unit: unit, Axis: axis, X: xs, Y: ys, Missing: missing}
	}
	kvX, kvY := timeline(ser, promscrape.KVCacheUsage, t0, 100)
	hrX, hrY := hitRateTimeline(ser, t0)
	runX, runY := timeline(ser, promscrape.RequestsRunning, t0, 1)
	waitX, waitY := timeline(ser, promscrape.RequestsWaiting, t0, 1)
	preX, preY := timeline(ser, promscrape.Preemptions, t0, 1)
	qX, qY := timeline(ser, promscrape.QueueTime, t0, 1)
	tX, tY := timeline(ser, promscrape.TTFT, t0, 1)
	var all []tsChart
	if isOpen(r) {
		all = append(all, sessionsTimeChart(r, t0, kvX, kvY))
	}
	all = append(all, []tsChart{
		{ID: "mrqa-server-ts-cache", Title: "KV cache and prefix cache over the run",
			Note:  "KV-cache usage as scraped; prefix-cache hit rate per scrape interval (hits ÷ queries over the interval). Shaded bands are the grid points (green passed, red failed).",
			Empty: "No KV-cache or prefix-cache data over the run: the server's /metrics has neither.",
			Axes:  []tsAxis{{Name: "%", Unit: "%", Max: 100}},
			Lines: []tsLine{
				line("KV cache usage", "%", 0, "No KV-cache usage: the server's /metrics has no KV-cache usage gauge.", kvX, kvY),
				line("prefix cache hit rate", "%", 0, "No prefix-cache hit rate: the server's /metrics has no prefix-cache counters or hit-rate gauge.", hrX, hrY)}},
		{ID: "mrqa-server-ts-load", Title: "Requests and preemptions over the run",
			Note:  "Requests the server was running and holding in its queue at each scrape, and preemptions per second between scrapes.",
			Empty: "No request or preemption data over the run: the server's /metrics has no running or waiting requests gauge and no preemption counter.",
			Axes:  []tsAxis{{Name: "requests"}, {Name: simName("preemptions/s", sim), Unit: "/s"}},
			Lines: []tsLine{
				line("running", "", 0, "No running requests: the server's /metrics has no running-requests gauge.", runX, runY),
				line("waiting", "", 0, "No waiting requests: the server's /metrics has no waiting-requests gauge.", waitX, waitY),
				line("preemptions/s", "/s", 1, noPreemptions, preX, preY)}},
		{ID: "mrqa-server-ts-latency", Title: "Server-side queue time and TTFT over the run",
			Note:  "Mean of the server's own histograms per scrape interval (intervals with no finished request are left out).",
			Empty: "No server-side queue time or TTFT over the run: the server's /metrics has neither histogram.",
			Axes:  []tsAxis{{Name: simName("seconds", sim), Unit: "s"}},
			Lines: []tsLine{
				line("queue time (mean)", "s", 0, "No queue time: the server's /metrics has no queue-time histogram.", qX, qY),
				line("server TTFT (mean)", "s", 0, "No server-side TTFT: the server's /metrics has no TTFT histogram.", tX, tY)}},
	}...)
	for i := range all {
		all[i] = keepDrawn(all[i])
	}
	return all
}

// keepDrawn readies a chart's lines that have data for the page, notes the
// ones that have none, and drops the axes no line is left on.
func keepDrawn(c tsChart) tsChart {
	var keep []tsLine
	for _, l := range c.Lines {
		if len(l.X) == 0 {
			if !strings.Contains(c.Note, l.Missing) {
				c.Note += " " + l.Missing
			}
			continue
		}
		l.X, l.Y = shapeLine(l.X, l.Y, maxLinePoints)
		keep = append(keep, l)
	}
	c.Lines = keep
	if len(keep) == 0 {
		return c
	}
	c.Empty = ""
	c.Axes = usedAxes(c.Axes, keep)
	return c
}

// usedAxes keeps the axes some line is on, in order, and renumbers the
// lines' axes to match.
func usedAxes(axes []tsAxis, lines []tsLine) []tsAxis {
	var out []tsAxis
	index := map[int]int{}
	for i, a := range axes {
		if slices.ContainsFunc(lines, func(l tsLine) bool { return l.Axis == i }) {
			index[i] = len(out)
			out = append(out, a)
		}
	}
	for j := range lines {
		lines[j].Axis = index[lines[j].Axis]
	}
	return out
}

// timeAxisName names the time axis of the server's time series.
func timeAxisName(sim bool) string {
	if sim {
		return "simulated time since the run started"
	}
	return "time since the run started"
}

// timeTick picks a round tick spacing (seconds) giving at most about ten
// ticks over span.
func timeTick(span float64) float64 {
	for _, t := range []float64{10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200} {
		if span/t <= 10 {
			return t
		}
	}
	return 86400 * math.Ceil(span/86400/10)
}

// pointAreas are the grid points' spans on the time axis, tinted by outcome
// and named "C×S", as echarts markArea data.
func pointAreas(r *results.Results, ps []*results.Point, t0 time.Time) []any {
	var out []any
	for _, p := range ps {
		if p.Started.IsZero() || p.Duration <= 0 {
			continue
		}
		start := math.Round(p.Started.Sub(t0).Seconds()*10) / 10
		end := math.Round((p.Started.Sub(t0).Seconds()+p.Duration)*10) / 10
		color := "rgba(179,38,30,0.08)"
		if p.Passed {
			color = "rgba(26,127,55,0.10)"
		}
		if isBestPoint(r, p) {
			color = "rgba(26,127,55,0.22)"
		}
		out = append(out, []any{
			map[string]any{"name": label(p), "xAxis": start, "itemStyle": map[string]any{"color": color}},
			map[string]any{"xAxis": end},
		})
	}
	return out
}

// timeChartOption renders one server time-series chart with the points'
// boundaries marked.
func timeChartOption(r *results.Results, ps []*results.Point, c tsChart) (template.JS, error) {
	t0 := runOrigin(r)
	areas := pointAreas(r, ps, t0)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range c.Lines {
		for _, x := range l.X {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	for _, p := range ps {
		if !p.Started.IsZero() && p.Duration > 0 {
			s := p.Started.Sub(t0).Seconds()
			lo, hi = math.Min(lo, s), math.Max(hi, s+p.Duration)
		}
	}
	if hi <= lo { // a single scrape: give the axis some width
		hi = lo + 1
	}
	tick := timeTick(hi - lo)
	// The units go into the formatter's source, which the option encoder
	// keeps verbatim inside a JSON string: single quotes only.
	var units []string
	for _, l := range c.Lines {
		units = append(units, "'"+template.JSEscapeString(l.Name)+"':'"+template.JSEscapeString(l.Unit)+"'")
	}
	ub := "{" + strings.Join(units, ",") + "}"
	ln := charts.NewLine()
	ln.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis", Formatter: jsFunc(`function(ps){return mrqaTimeTip(ps,` + ub + `);}`)}),
		charts.WithLegendOpts(opts.Legend{Type: "scroll", Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: strconv.Itoa(8 + 56*max(1, len(c.Axes)-1)), Top: "48", Bottom: "64"}),
	)
	for _, l := range c.Lines {
		data := make([][2]any, len(l.X))
		for i := range l.X {
			data[i] = [2]any{l.X[i], round4(l.Y[i])}
			if math.IsNaN(l.Y[i]) {
				data[i][1] = nil // breaks the line
			}
		}
		ln.AddSeries(l.Name, nil, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), YAxisIndex: l.Axis}))
		ln.MultiSeries[len(ln.MultiSeries)-1].Data = data
	}
	return optionJS(ln, func(m map[string]any) {
		m["xAxis"] = []any{map[string]any{
			"type": "value", "name": timeAxisName(simulated(r)), "nameLocation": "middle", "nameGap": 26,
			// Ticks fall on round times: the axis starts on one.
			"min": math.Floor(lo/tick) * tick, "max": math.Ceil(hi), "interval": tick,
			"axisLabel": map[string]any{"formatter": jsFunc(`function(v){return mrqaElapsed(v);}`), "hideOverlap": true},
			"splitLine": map[string]any{"show": false},
		}}
		var ys []any
		for i, a := range c.Axes {
			y := map[string]any{"type": "value", "name": a.Name, "min": 0}
			if a.Max > 0 {
				y["max"] = a.Max
			}
			switch a.Unit {
			case "s":
				y["axisLabel"] = map[string]any{"formatter": jsFunc(durAxisLabel)}
			}
			if i > 0 {
				y["splitLine"] = map[string]any{"show": false}
			}
			if i > 1 { // a third axis stands right of the second
				y["position"], y["offset"] = "right", 56*(i-1)
			}
			ys = append(ys, y)
		}
		m["yAxis"] = ys
		// Only a slider: an "inside" zoom would take the mouse wheel and
		// touch drags that should scroll the page.
		m["dataZoom"] = []any{map[string]any{"type": "slider", "xAxisIndex": 0, "height": 16, "bottom": 4, "filterMode": "none", "labelFormatter": jsFunc(`function(v){return mrqaElapsed(v);}`)}}
		patchSeries(m, func(s map[string]any) {
			s["lineStyle"] = map[string]any{"width": 1.5}
			s["symbol"] = "none"
		})
		if len(areas) > 0 {
			series, _ := m["series"].([]map[string]any)
			if len(series) > 0 {
				// Upright labels, reading down from the top of each band, fit
				// narrow bands (a phone) without running into each other.
				label := map[string]any{"show": len(areas) <= maxAreaLabels, "position": "insideTop", "rotate": -90,
					"align": "left", "verticalAlign": "middle", "fontSize": 10, "color": "#57606a", "distance": 4}
				series[0]["markArea"] = map[string]any{
					"silent": len(areas) <= maxAreaLabels, "label": label,
					"emphasis": map[string]any{"label": map[string]any{"show": true, "position": "insideTop", "fontSize": 11, "color": "#1b1f24"}},
					"data":     areas,
				}
			}
		}
	})
}

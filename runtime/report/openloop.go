package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// An open-loop sweep (a users block) has points on one axis, the arrival
// rate, instead of a C × S grid: its table, answer and charts are its own,
// and the knee is explained between two rates.

// isOpen reports whether r is an open-loop sweep.
func isOpen(r *results.Results) bool {
	if r.RateSearch != nil {
		return true
	}
	for i := range r.Points {
		if r.Points[i].Rate > 0 {
			return true
		}
	}
	return false
}

// openKnee explains an open-loop sweep's limit with the grid's rules,
// comparing the highest passing rate with the lowest failing one above it.
// The working set is left out: summed over every session of a point it is
// not what the cache holds at once.
func openKnee(r *results.Results) *Knee {
	k := &Knee{Below: bestPoint(r)}
	if k.Below == nil {
		k.Above = lowestRate(r)
		if k.Above == nil {
			return nil
		}
		ev := newEvidence(r, nil, k.Above)
		k.Cause = CauseUnknown
		if ev.failuresDecided() {
			k.Cause = CauseFailures
		}
		k.Text = fmt.Sprintf("Even the lowest rate run (%s) failed: %s. %s", pointName(k.Above), ev.failedSLOs(), ev.ttftSentence())
		k.Move = "Run lower rates to find the limit."
		return k
	}
	k.Above = lowestFailAbove(r, k.Below.Rate)
	if k.Above == nil {
		k.Cause = CauseBeyondGrid
		k.Text = fmt.Sprintf("No rate above %s failed: the limit lies beyond the rates run.", pointName(k.Below))
		k.Move = "Add higher rates (or raise the search's max_rate) to find the limit."
		return k
	}
	explainBetween(r, k)
	return k
}

func lowestRate(r *results.Results) *results.Point {
	var out *results.Point
	for i := range r.Points {
		if p := &r.Points[i]; p.Rate > 0 && (out == nil || p.Rate < out.Rate) {
			out = p
		}
	}
	return out
}

// lowestFailAbove is the failing rate point (judged on a measurement) with
// the lowest rate above rate.
func lowestFailAbove(r *results.Results, rate float64) *results.Point {
	var out *results.Point
	for i := range r.Points {
		p := &r.Points[i]
		if p.Rate > rate && !p.Passed && !p.Undecided() && (out == nil || p.Rate < out.Rate) {
			out = p
		}
	}
	return out
}

// rateText is a rate for people: "30/min".
func rateText(rate float64) string { return results.FormatRate(rate) + "/min" }

// openConclusion is conclusion's sentence for an open-loop sweep: the
// highest passing rate and the failure that brackets it.
func openConclusion(r *results.Results) (text, kind string) {
	slo := sloText(r)
	rs := r.RateSearch
	if b := r.Best; b != nil {
		text = fmt.Sprintf("Best: %s arriving sessions with %s.", rateText(b.Rate), slo)
		switch {
		case rs != nil && rs.Fail != nil:
			text += fmt.Sprintf(" The next rate measured, %s, failed.", rateText(*rs.Fail))
		default:
			text += " No rate run failed: the limit is higher."
		}
		if !r.Complete && r.Stopped != "" {
			text += fmt.Sprintf(" The sweep stopped early (%s) after %d points: this is the best so far.", r.Stopped, len(r.Points))
		}
		return text, "pass"
	}
	lowest := 0.0
	for _, p := range r.Points {
		if lowest == 0 || p.Rate < lowest {
			lowest = p.Rate
		}
	}
	return fmt.Sprintf("No rate passed the SLOs (%s): the limit is below the lowest rate run (%s).", slo, rateText(lowest)), "fail"
}

// termOpenTable is the terminal's table for an open-loop sweep: per rate,
// the sessions, TTFT and errors.
func termOpenTable(w io.Writer, r *results.Results, ps []*results.Point) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate/min\tstarted\tdropped\tactive_mean\tactive_max\tttft_p50(s)\tttft_p95(s)\tttft_p99(s)\terrors\tSLO\t")
	for _, p := range ps {
		m := &p.Metrics
		slo := passMark(p.Passed)
		if p.Undecided() {
			slo = "? no data"
		}
		if r.Best != nil && r.Best.Rate == p.Rate {
			slo = "★ " + slo
		}
		u := p.Users
		if u == nil {
			u = &results.Users{}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%d\t%s\t%s\t%s\t%s\t%s\t\n", results.FormatRate(p.Rate),
			u.Started, u.Dropped, u.ActiveMean, u.ActiveMax,
			termTTFT(m, m.TTFTP50), termTTFT(m, m.TTFTP95), termTTFT(m, m.TTFTP99), termErrors(m.Errors, m.ErrorRate), slo)
	}
	tw.Flush()
}

// termOpenAnswer is the terminal's answer line for an open-loop sweep.
func termOpenAnswer(w io.Writer, r *results.Results) {
	if r.Stopped != "" {
		fmt.Fprintf(w, "Sweep stopped early (%s): %d points ran.\n", r.Stopped, len(r.Points))
	}
	best := "0  => no rate passed the SLOs"
	if r.Best != nil {
		best = rateText(r.Best.Rate)
	}
	fmt.Fprintf(w, "Max arrival rate where %s: %s\n", sloText(r), best)
	text, _ := openConclusion(r)
	fmt.Fprintln(w, text)
}

// rateTable is the page's table for an open-loop sweep: per rate, the
// verdict, the sessions, TTFT and errors, and the server's figures.
func rateTable(r *results.Results, ps []*results.Point) table {
	kvCol, hitCol := serverColumns(ps)
	head := []string{"rate/min", verdictHead, "started", "dropped", "active_mean", "active_max", "session_s", "samples"}
	head = append(head, durationColumns()...)
	head = append(head, "error_rate")
	if kvCol {
		head = append(head, metrics.NameKVCacheUsageMax)
	}
	if hitCol {
		head = append(head, metrics.NamePrefixCacheHitRate)
	}
	t := table{Head: head, Pin: 2}
	if simulated(r) {
		t.Units = unitsOf(append(durationColumns(), "session_s"), simulatedUnit)
	}
	num := func(n int) cell { return cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)} }
	dur := func(d time.Duration) cell { return cell{Text: fmtDur(d), Sort: sortKey(secKey(d))} }
	for _, p := range ps {
		m := &p.Metrics
		u := p.Users
		if u == nil {
			u = &results.Users{}
		}
		verdict, class := pointVerdict(r, p)
		cells := []cell{{Text: results.FormatRate(p.Rate), Sort: sortKey(p.Rate)}, verdict,
			num(u.Started), num(u.Dropped), {Text: strconv.FormatFloat(u.ActiveMean, 'f', 1, 64), Sort: sortKey(u.ActiveMean)},
			num(u.ActiveMax), {Text: fmtSec(u.DurationMean), Sort: sortKey(u.DurationMean)}, num(m.Samples),
			dur(m.TTFTP50), dur(m.TTFTP95), dur(m.TTFTP99), dur(m.TTFCP95), dur(m.ITLP95),
			{Text: fmtPct(m.ErrorRate), Sort: sortKey(m.ErrorRate), Title: fmt.Sprintf("%d of %d requests", m.Errors, m.Requests)},
		}
		if kvCol {
			cells = append(cells, pctCell(serverValue(p, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax })))
		}
		if hitCol {
			cells = append(cells, pctCell(serverValue(p, func(s *results.ServerSummary) *float64 { return s.PrefixCacheHitRate })))
		}
		t.Rows = append(t.Rows, row{Class: class, Cells: cells})
	}
	return t
}

// rateOption plots TTFT p95 against the arrival rate, with the sessions
// active on average on a second axis: past the knee both climb.
func rateOption(r *results.Results, ps []*results.Point) (template.JS, error) {
	ln := charts.NewLine()
	ln.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Top: "0"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "arrival rate (sessions/min)", NameLocation: "middle", NameGap: 26}),
		charts.WithYAxisOpts(opts.YAxis{Type: "log", Name: simName("ttft p95", simulated(r)), AxisLabel: &opts.AxisLabel{Formatter: jsFunc(durAxisLabel)}}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "64", Top: "48", Bottom: "40"}),
	)
	ln.ExtendYAxis(opts.YAxis{Type: "value", Name: "active sessions (mean)", SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	var ttft, active [][2]float64
	for _, p := range ps {
		if v := p.Metrics.TTFTP95.Seconds(); finite(v) {
			ttft = append(ttft, [2]float64{p.Rate, round4(v)})
		}
		if p.Users != nil {
			active = append(active, [2]float64{p.Rate, round4(p.Users.ActiveMean)})
		}
	}
	ln.AddSeries("ttft_p95", nil)
	ln.MultiSeries[0].Data = ttft
	ln.AddSeries("active sessions (mean)", nil)
	ln.MultiSeries[1].Data = active
	ln.MultiSeries[1].YAxisIndex = 1
	return optionJS(ln, nil)
}

// rateFacts is the page's line about the rate axis, in place of the grid.
func rateFacts(r *results.Results) string {
	rates := make([]string, 0, len(r.Points))
	for _, p := range sortedPoints(r) {
		rates = append(rates, results.FormatRate(p.Rate))
	}
	text := fmt.Sprintf("open loop; rate search: %d rates measured (%s sessions/min)", len(rates), strings.Join(rates, ", "))
	if rs := r.RateSearch; rs != nil && rs.Settled {
		text += ", the limit bracketed within 5 %"
	}
	return text
}

// sessionsTimeChart puts an open-loop sweep's sessions, TTFT and KV-cache
// usage on one time axis: arrivals and active sessions per timeline bucket
// of each point, the steady TTFT p95 of the turns started in it, and the
// scraped KV usage (kvX, kvY; empty when not scraped).
func sessionsTimeChart(r *results.Results, t0 time.Time, kvX, kvY []float64) tsChart {
	var ax, ay, sx, sy, tx, ty []float64
	for _, p := range sortedByStart(r) {
		tl := p.Users.Timeline
		at := p.Started.Sub(t0).Seconds()
		for b := range tl.Active {
			x := math.Round((at+(float64(b)+0.5)*tl.Step)*10) / 10
			ax, ay = append(ax, x), append(ay, float64(tl.Arrivals[b])*60/tl.Step)
			sx, sy = append(sx, x), append(sy, tl.Active[b])
			v := float64(tl.TTFTP95[b])
			if v <= 0 || math.IsInf(v, 1) {
				v = math.NaN() // no steady turn, or failed ones: a gap
			}
			tx, ty = append(tx, x), append(ty, v)
		}
		// A gap at the point's end: a line never joins two rates.
		end := math.Round((at+p.Duration)*10) / 10
		ax, sx, tx = append(ax, end), append(sx, end), append(tx, end)
		ay, sy, ty = append(ay, math.NaN()), append(sy, math.NaN()), append(ty, math.NaN())
	}
	c := tsChart{ID: "mrqa-server-ts-sessions", Title: "Sessions, TTFT and KV cache over the run",
		Note:  "Per bucket of each point's timeline: sessions arriving (per minute, dropped ones included) and active on average, the steady TTFT p95 of the turns that started in it, and the KV-cache usage as scraped. Shaded bands are the rates.",
		Empty: "No point recorded its timeline.",
		Axes:  []tsAxis{{Name: "sessions"}, {Name: simName("ttft p95", simulated(r)), Unit: "s"}, {Name: "KV %", Unit: "%", Max: 100}},
		Lines: []tsLine{
			{Name: "arrivals/min", Axis: 0, X: ax, Y: ay},
			{Name: "active sessions", Axis: 0, X: sx, Y: sy},
			{Name: "ttft p95 (steady)", Unit: "s", Axis: 1, X: tx, Y: ty},
			{Name: "KV cache usage", Unit: "%", Axis: 2, X: kvX, Y: kvY, Missing: "No KV-cache usage: the server's /metrics has no KV-cache usage gauge."},
		}}
	return keepDrawn(c)
}

// sortedByStart is an open-loop sweep's points that recorded a timeline,
// in the order they ran.
func sortedByStart(r *results.Results) []*results.Point {
	var ps []*results.Point
	for i := range r.Points {
		if p := &r.Points[i]; p.Users != nil && p.Users.Timeline != nil && !p.Started.IsZero() {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *results.Point) int { return a.Started.Compare(b.Started) })
	return ps
}

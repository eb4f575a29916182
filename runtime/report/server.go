package report

import (
	"fmt"
	"html/template"
	"math"

	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// maxOpenDecomp is the most TTFT-decomposition lines shown unfolded.
const maxOpenDecomp = 16

// serverView is the server-metrics section.
type serverView struct {
	Intro  string
	Decomp []string // one TTFT-decomposition line per point that has one
	// DecompNote explains the lines; DecompOpen shows them unfolded (a
	// long list starts folded, the chart below says the same at a glance).
	DecompNote string
	DecompOpen bool
	Table      *table // nil when no point has a summary
	Series     []*chartView
	Split      *chartView // TTFT decomposition per point
	Cache      *chartView // per-point bars
	Queue      *chartView
}

// hasServerData says whether the page gets a server-metrics section.
func hasServerData(r *results.Results, ps []*results.Point) bool {
	return hasServer(ps) || (r.ServerSeries != nil && len(r.ServerSeries.Samples) > 0)
}

// serverIntro says what was scraped, and how often it failed.
func serverIntro(r *results.Results) string {
	s := "What the target's Prometheus /metrics said during the run."
	ser := r.ServerSeries
	if (ser == nil || len(ser.Samples) == 0) && r.Merged != nil {
		return s + " Only per-point summaries are shown: a merged sweep's scrapes are drawn over time only when its shards scraped one server one after another, and these form no single timeline (each shard folder's server_metrics.json keeps its own)."
	}
	if ser == nil || len(ser.Samples) == 0 {
		return s + " Only per-point summaries were recorded."
	}
	n, failed := len(ser.Samples), 0
	for _, smp := range ser.Samples {
		if smp.Err != "" {
			failed++
		}
	}
	s += fmt.Sprintf(" %d scrape%s", n, plural(n))
	if ser.URL != "" {
		s += " of " + safeURL(ser.URL)
	}
	if n > 1 {
		span := ser.Samples[n-1].T.Sub(ser.Samples[0].T).Seconds()
		s += ", about every " + fmtSec(span/float64(n-1))
		if simulated(r) {
			s += " of simulated time"
		}
	}
	s += fmt.Sprintf("; %d failed (a failed scrape leaves a gap, never stops the sweep).", failed)
	return s
}

// decompLines are the per-point "how much of the TTFT was queueing" lines,
// and whether any share exceeds 1 (the server's queue figure covers opening
// turns too, the steady mean does not).
func decompLines(ps []*results.Point) ([]string, bool) {
	var out []string
	over := false
	for _, p := range ps {
		s := p.Server
		if s == nil || s.QueueShare == nil {
			continue
		}
		over = over || *s.QueueShare > 1
		q := math.Min(math.Max(*s.QueueShare, 0), 1)
		line := fmt.Sprintf("%s: %s of the mean TTFT was queueing at the server", label(p), fmtPct(q))
		if s.QueueTimeMean != nil {
			line += " (mean queue time " + fmtSec(*s.QueueTimeMean) + ")"
		}
		out = append(out, line+".")
	}
	return out, over
}

func hasQueueShare(ps []*results.Point) bool {
	for _, p := range ps {
		if p.Server != nil && p.Server.QueueShare != nil {
			return true
		}
	}
	return false
}

// splitOption stacks, per point, the share of the mean TTFT spent queueing at
// the server and the rest.
func splitOption(ps []*results.Point) (template.JS, error) {
	bar := percentBars(ps, "% of mean TTFT")
	queue := make([]any, len(ps))
	rest := make([]any, len(ps))
	for i, p := range ps {
		if p.Server != nil && p.Server.QueueShare != nil {
			q := math.Min(math.Max(*p.Server.QueueShare, 0), 1)
			queue[i] = round4(q * 100)
			rest[i] = round4((1 - q) * 100)
		}
	}
	for _, s := range []struct {
		name  string
		data  []any
		color string
	}{{"queueing at the server", queue, "#d73027"}, {"prefill and the rest", rest, "#74add1"}} {
		bar.AddSeries(s.name, nil)
		se := &bar.MultiSeries[len(bar.MultiSeries)-1]
		se.Data = s.data
		se.Stack = "ttft"
		se.ItemStyle = &opts.ItemStyle{Color: s.color}
	}
	return optionJS(bar, nil)
}

// serverSection builds the server-metrics section and its charts, in the
// order the page shows them.
func serverSection(r *results.Results, ps []*results.Point) (*serverView, []chartView, error) {
	sim := simulated(r)
	sv := &serverView{Intro: serverIntro(r)}
	var over bool
	sv.Decomp, over = decompLines(ps)
	sv.DecompNote = "From the server's queue-time histogram over each point, compared with the client's mean TTFT over the same requests (every turn, the opening ones included, as the server counts them); the rest was prefill and the way to the first token."
	if over {
		sv.DecompNote += " A share above 100% (shown as 100%) means the server's window held requests the client did not time, such as the preflight."
	}
	if sim {
		sv.DecompNote += " Times are simulated."
	}
	sv.DecompOpen = len(sv.Decomp) <= maxOpenDecomp
	var out []chartView
	switch {
	case hasQueueShare(ps):
		c, err := newChart("mrqa-server-split", "Where the TTFT went", "Per point, the share of the mean TTFT (every turn) that the server's queue-time histogram says was spent waiting in its queue; the rest is prefill and the way to the first token.",
			300, func() (template.JS, error) { return splitOption(ps) })
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	case hasServer(ps):
		out = append(out, chartView{ID: "mrqa-server-split", Title: "Where the TTFT went",
			Empty: "No TTFT decomposition: the server's /metrics has no queue-time histogram."})
	}
	for _, tc := range serverTimeCharts(r) {
		if tc.Empty != "" {
			out = append(out, chartView{ID: tc.ID, Title: tc.Title, Empty: tc.Empty})
			continue
		}
		c, err := newChart(tc.ID, tc.Title, tc.Note, 340, func() (template.JS, error) { return timeChartOption(r, ps, tc) })
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	if !hasServer(ps) {
		return sv, out, nil
	}
	t := serverTable(ps, sim)
	sv.Table = &t
	points, err := serverPointCharts(ps, sim)
	return sv, append(out, points...), err
}

// serverPointCharts are the per-point bar charts of the server's figures.
// A figure no point has is left out and named in the chart's note; a chart
// left with none is replaced by a sentence.
func serverPointCharts(ps []*results.Point, sim bool) ([]chartView, error) {
	charts := []struct {
		id, title, empty string
		figures          []figure
		build            func([]figure) (template.JS, error)
	}{
		{"mrqa-server-cache", "KV cache and prefix cache per point", "No KV-cache or prefix-cache figures: the server's /metrics had neither at any point.",
			cacheFigures(ps), func(fs []figure) (template.JS, error) { return serverCacheOption(ps, fs) }},
		{"mrqa-server-queue", "Preemptions and queue time per point", "No preemption or queue-time figures: the server's /metrics had neither at any point.",
			queueFigures(ps), func(fs []figure) (template.JS, error) { return serverQueueOption(ps, fs, sim) }},
	}
	var out []chartView
	for _, c := range charts {
		keep, missing := presentFigures(c.figures)
		if len(keep) == 0 {
			out = append(out, chartView{ID: c.id, Title: c.title, Empty: c.empty})
			continue
		}
		cv, err := newChart(c.id, c.title, missing, 320, func() (template.JS, error) { return c.build(keep) })
		if err != nil {
			return nil, err
		}
		out = append(out, cv)
	}
	return out, nil
}

// newChart builds a chart's option into its view.
func newChart(id, title, note string, height int, build func() (template.JS, error)) (chartView, error) {
	js, err := build()
	if err != nil {
		return chartView{}, fmt.Errorf("chart %s: %w", id, err)
	}
	return chartView{ID: id, Title: title, Note: note, Height: height, Option: js}, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

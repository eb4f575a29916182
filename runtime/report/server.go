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
		line := fmt.Sprintf("%s: %s of the mean TTFT was queueing at the server", pointLabel(p.Concurrent, p.Sequential), fmtPct(q))
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
	sv := &serverView{Intro: serverIntro(r)}
	var over bool
	sv.Decomp, over = decompLines(ps)
	sv.DecompNote = "From the server's queue-time histogram over each point, compared with the client's mean TTFT over the same requests (every turn, the opening ones included, as the server counts them); the rest was prefill and the way to the first token."
	if over {
		sv.DecompNote += " A share above 100% (shown as 100%) means the server's window held requests the client did not time, such as the preflight."
	}
	sv.DecompOpen = len(sv.Decomp) <= maxOpenDecomp
	var out []chartView
	add := func(id, title, note string, height int, build func() (template.JS, error)) error {
		js, err := build()
		if err != nil {
			return fmt.Errorf("chart %s: %w", id, err)
		}
		out = append(out, chartView{ID: id, Title: title, Note: note, Height: height, Option: js})
		return nil
	}
	if hasQueueShare(ps) {
		if err := add("mrqa-server-split", "Where the TTFT went", "Per point, the share of the mean TTFT (every turn) that the server's queue-time histogram says was spent waiting in its queue; the rest is prefill and the way to the first token.",
			300, func() (template.JS, error) { return splitOption(ps) }); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range serverTimeCharts(r) {
		if err := add(c.ID, c.Title, c.Note, 340, func() (template.JS, error) { return timeChartOption(r, ps, c) }); err != nil {
			return nil, nil, err
		}
	}
	if hasServer(ps) {
		t := serverTable(ps)
		sv.Table = &t
		if err := add("mrqa-server-cache", "KV cache and prefix cache per point", "", 320, func() (template.JS, error) { return serverCacheOption(ps) }); err != nil {
			return nil, nil, err
		}
		if err := add("mrqa-server-queue", "Preemptions and queue time per point", "", 320, func() (template.JS, error) { return serverQueueOption(ps) }); err != nil {
			return nil, nil, err
		}
	}
	return sv, out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

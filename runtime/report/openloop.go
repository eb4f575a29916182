package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// An open-loop sweep (a users block) has points on one axis, the arrival
// rate, instead of a C × S grid: its table, answer and charts are its own,
// and the knee explanation, which compares grid points, is not given.

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

// openKnee says plainly that the explanation covers grids only: nothing
// in it is measured evidence about an open-loop sweep.
func openKnee(r *results.Results) *Knee {
	return &Knee{Cause: CauseOpenLoop, Below: bestPoint(r),
		Text: "The explanation of the limit covers closed-loop sweeps (a grid of C × S) only; for this open-loop sweep it is not analysed. The table shows, per arrival rate, the sessions active at once and TTFT."}
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
			termSec(m.TTFTP50), termSec(m.TTFTP95), termSec(m.TTFTP99), termErrors(m.Errors, m.ErrorRate), slo)
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

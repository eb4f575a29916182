package report

import (
	"fmt"
	"strconv"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// conclusion is the one sentence the data supports about the sweep: the
// best point, or why there is none, and what points that could not be
// judged (no data, an expression that failed) leave open. kind is a CSS
// class: pass, fail or nodata. The page's headline and the terminal say it
// the same way.
func conclusion(r *results.Results) (text, kind string) {
	if len(r.Points) == 0 {
		return "No point has run yet.", "fail"
	}
	var undecided []*results.Point
	for i := range r.Points {
		if r.Points[i].Undecided() {
			undecided = append(undecided, &r.Points[i])
		}
	}
	why := ""
	if len(undecided) > 0 {
		why = " (" + undecided[0].FirstReason() + ")"
	}
	slo := sloText(r)
	if b := r.Best; b != nil {
		text = fmt.Sprintf("Best: %d sessions (C=%d, S=%d%s) with %s.", b.Concurrent*b.Sequential, b.Concurrent, b.Sequential, harmonicNote(r), slo)
		if n := countBeyond(undecided, b); n > 0 {
			text += fmt.Sprintf(" %d point%s beyond it could not be judged%s, so the limit may be higher.", n, plural(n), why)
		}
		return text, "pass"
	}
	if len(undecided) == len(r.Points) {
		return fmt.Sprintf("No conclusion: none of the %d points could be judged against %s%s.", len(r.Points), slo, why), "nodata"
	}
	if smallest := smallestPoint(r); smallest != nil && !smallest.Undecided() {
		text = fmt.Sprintf("No point passed the SLOs (%s): the limit is below the smallest point run (C=%d, S=%d).", slo, smallest.Concurrent, smallest.Sequential)
	} else {
		text = fmt.Sprintf("No point passed the SLOs (%s), but the smallest point could not be judged: there is no lower limit to state.", slo)
	}
	if n := len(undecided); n > 0 {
		text += fmt.Sprintf(" %d of %d points could not be judged%s.", n, len(r.Points), why)
	}
	return text, "fail"
}

// harmonicNote names the score when the best point is ranked by it.
func harmonicNote(r *results.Results) string {
	if r.Score != "harmonic" || r.Best == nil {
		return ""
	}
	return ", harmonic score 2CS/(C+S) = " + strconv.FormatFloat(r.Best.Score, 'f', 2, 64)
}

// countBeyond counts the points, among pts, with more sessions than b.
func countBeyond(pts []*results.Point, b *results.Best) int {
	n := 0
	for _, p := range pts {
		if p.Concurrent*p.Sequential > b.Concurrent*b.Sequential {
			n++
		}
	}
	return n
}

// smallestPoint is the point run at the smallest C and the smallest S of
// all points run, or nil when that combination did not run.
func smallestPoint(r *results.Results) *results.Point {
	c, s := r.Points[0].Concurrent, r.Points[0].Sequential
	for _, p := range r.Points {
		c, s = min(c, p.Concurrent), min(s, p.Sequential)
	}
	for i := range r.Points {
		if r.Points[i].Concurrent == c && r.Points[i].Sequential == s {
			return &r.Points[i]
		}
	}
	return nil
}

package report

import (
	"fmt"
	"strconv"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/spec"
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
	if isOpen(r) {
		return openConclusion(r)
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
	u := unrunOf(r)
	if b := r.Best; b != nil {
		atLeast := ""
		if u.above(r.Score, bestPoint(r)) > 0 {
			atLeast = "at least "
		}
		text = fmt.Sprintf("Best: %s%d sessions (C=%d, S=%d%s) with %s.", atLeast, b.Concurrent*b.Sequential, b.Concurrent, b.Sequential, harmonicNote(r), slo)
		if n := countBeyond(r, undecided, b); n > 0 {
			text += fmt.Sprintf(" %d point%s that would rank above it could not be judged%s, so the limit may be higher.", n, plural(n), why)
		}
		if n := u.above(r.Score, bestPoint(r)); n > 0 {
			text += fmt.Sprintf(" %d point%s that would rank above it did not run (%s), so the limit may be higher.", n, plural(n), u.why)
		} else if !r.Complete && r.Stopped != "" {
			text += fmt.Sprintf(" The sweep stopped early (%s) after %d points: this is the best so far.", r.Stopped, len(r.Points))
		}
		return text, "pass"
	}
	if len(undecided) == len(r.Points) {
		return fmt.Sprintf("No conclusion: none of the %d points could be judged against %s%s.", len(r.Points), slo, why), "nodata"
	}
	if len(u.points) > 0 {
		text = fmt.Sprintf("No point that ran passed the SLOs (%s), and %s did not run (%s): the limit is not known.", slo, countText(len(u.points), "point"), u.why)
		if n := len(undecided); n > 0 {
			text += fmt.Sprintf(" %d of %d points that ran could not be judged%s.", n, len(r.Points), why)
		}
		return text, "fail"
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
	if r.Score != spec.ScoreHarmonic || r.Best == nil {
		return ""
	}
	return ", harmonic score 2CS/(C+S) = " + strconv.FormatFloat(r.Best.Score, 'f', 2, 64)
}

// countBeyond counts the points that would rank above the best by the
// scenario's score but could not be judged: those run without a verdict
// (undecided), and those a frontier search implied to fail only because
// they dominate such a point.
func countBeyond(r *results.Results, undecided []*results.Point, b *results.Best) int {
	best := [2]int{b.Concurrent, b.Sequential}
	n := 0
	for _, p := range undecided {
		if search.Better(r.Score, [2]int{p.Concurrent, p.Sequential}, best) {
			n++
		}
	}
	if r.Search == nil {
		return n
	}
	for _, ip := range r.Search.Implied {
		k := [2]int{ip.Concurrent, ip.Sequential}
		if ip.Passed || !search.Better(r.Score, k, best) {
			continue
		}
		for _, u := range undecided {
			if k[0] >= u.Concurrent && k[1] >= u.Sequential {
				n++
				break
			}
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

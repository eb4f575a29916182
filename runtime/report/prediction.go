package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// predictionLine says that a run on a simulator profile file predicts
// rather than measures, and from what the profile was calibrated; "" for
// any other run.
func predictionLine(r *results.Results) string {
	pf := r.Target.ProfileFile
	if pf == nil {
		return ""
	}
	if pf.Source == "" {
		return fmt.Sprintf("Prediction: simulator on profile file %s, which records no calibration", pf.Path)
	}
	return fmt.Sprintf("Prediction: simulator calibrated from %s on %s (profile file %s)", pf.Source, calibratedDate(pf.Calibrated), pf.Path)
}

// calibratedDate is the calendar date of an RFC 3339 time, or the text as
// it is when it is not one.
func calibratedDate(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02")
}

// versusView sets a predicted run beside a measured run of the same
// scenario, point by point.
type versusView struct {
	Measured string // the measured run's scenario and start
	Best     string // the best point of each
	Agree    string // how many points' verdicts agree
	Table    table
}

// versusPoint is one C, S (or, open-loop, one rate) and the two runs'
// points there (nil: not run).
type versusPoint struct {
	c, s          int
	rate          float64
	pred, measure *results.Point
}

// buildVersus pairs the points of the predicted run with the measured
// run's by C and S; points only one run has are shown with "—" for the
// other.
func buildVersus(pred, measured *results.Results) *versusView {
	v := &versusView{
		Measured: fmt.Sprintf("%s, started %s", measured.Scenario, fmtTime(measured.Started)),
		Best:     fmt.Sprintf("Best point: predicted %s; measured %s.", bestText(pred.Best), bestText(measured.Best)),
		Table: table{Head: []string{"C", "S", "sessions", "predicted ttft_p95", "predicted SLO",
			"measured ttft_p95", "measured SLO", "verdicts"}, Pin: 3},
	}
	agree, both := 0, 0
	for _, vp := range pairPoints(pred, measured) {
		v.Table.Rows = append(v.Table.Rows, versusRow(vp))
		if vp.pred != nil && vp.measure != nil {
			both++
			if vp.pred.Passed == vp.measure.Passed {
				agree++
			}
		}
	}
	v.Agree = fmt.Sprintf("The prediction's verdict agrees with the measurement at %d of the %d points both ran.", agree, both)
	return v
}

// pairPoints lists every C, S either run has, in C then S order.
func pairPoints(pred, measured *results.Results) []versusPoint {
	type key struct {
		c, s int
		rate float64
	}
	byKey := map[key]*versusPoint{}
	var out []*versusPoint
	add := func(p *results.Point, predicted bool) {
		k := key{p.Concurrent, p.Sequential, p.Rate}
		vp := byKey[k]
		if vp == nil {
			vp = &versusPoint{c: k.c, s: k.s, rate: k.rate}
			byKey[k] = vp
			out = append(out, vp)
		}
		if predicted {
			vp.pred = p
		} else {
			vp.measure = p
		}
	}
	for _, p := range sortedPoints(pred) {
		add(p, true)
	}
	for _, p := range sortedPoints(measured) {
		add(p, false)
	}
	sorted := make([]versusPoint, len(out))
	for i, vp := range out {
		sorted[i] = *vp
	}
	slices.SortFunc(sorted, func(a, b versusPoint) int { return cmp.Or(a.c-b.c, a.s-b.s, cmp.Compare(a.rate, b.rate)) })
	return sorted
}

func versusRow(vp versusPoint) row {
	num := func(n int) cell { return cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)} }
	r := row{Cells: []cell{num(vp.c), num(vp.s), num(vp.c * vp.s)}}
	if vp.rate > 0 {
		r.Cells = []cell{{Text: "—", Sort: "0"}, {Text: "—", Sort: "0"}, {Text: rateText(vp.rate), Sort: sortKey(vp.rate)}}
	}
	r.Cells = append(r.Cells, versusCells(vp.pred)...)
	r.Cells = append(r.Cells, versusCells(vp.measure)...)
	switch {
	case vp.pred == nil || vp.measure == nil:
		r.Cells = append(r.Cells, cell{Text: "—"})
	case vp.pred.Passed == vp.measure.Passed:
		r.Cells = append(r.Cells, cell{Text: "agree", Class: "pass"})
	default:
		r.Cells = append(r.Cells, cell{Text: "differ", Class: "fail"})
		r.Class = "differ"
	}
	return r
}

// versusCells are a point's ttft_p95 and verdict, "—" when it did not run.
func versusCells(p *results.Point) []cell {
	if p == nil {
		return []cell{{Text: "—", Sort: "-1"}, {Text: "—"}}
	}
	class := "fail"
	if p.Passed {
		class = "pass"
	}
	return []cell{{Text: fmtDur(p.Metrics.TTFTP95), Sort: sortKey(secKey(p.Metrics.TTFTP95))},
		{Text: passMark(p.Passed), Class: class}}
}

// TerminalVersus prints the predicted run beside the measured one: one
// line per point and the best point of each.
func TerminalVersus(w io.Writer, pred, measured *results.Results) {
	v := buildVersus(pred, measured)
	fmt.Fprintf(w, "Predicted (%s) beside measured (%s):\n", pred.Scenario, v.Measured)
	fmt.Fprintf(w, "%3s %3s %12s %4s %12s %4s  %s\n", "C", "S", "pred p95", "SLO", "meas p95", "SLO", "verdicts")
	for _, r := range v.Table.Rows {
		c := r.Cells
		fmt.Fprintf(w, "%3s %3s %12s %4s %12s %4s  %s\n", c[0].Text, c[1].Text, c[3].Text, c[4].Text, c[5].Text, c[6].Text, c[7].Text)
	}
	fmt.Fprintln(w, v.Best)
	fmt.Fprintln(w, v.Agree)
}

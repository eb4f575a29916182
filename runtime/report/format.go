package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// fmtDur writes a duration for people: three significant figures at most,
// "∞" for a percentile that failed turns pushed to infinity.
func fmtDur(d time.Duration) string {
	if d == metrics.Inf {
		return "∞"
	}
	return fmtSec(d.Seconds())
}

// fmtSec is fmtDur for seconds; page.js's mrqaDur mirrors it.
func fmtSec(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "∞"
	case math.IsNaN(s):
		return "—"
	case s == 0:
		return "0"
	case s < 0.001:
		return trimFloat(s*1e6, 0) + " µs"
	case s < 0.01:
		return trimFloat(s*1e3, 2) + " ms"
	case s < 0.1:
		return trimFloat(s*1e3, 1) + " ms"
	case s < 1:
		return trimFloat(s*1e3, 0) + " ms"
	case s < 10:
		return trimFloat(s, 2) + " s"
	case s < 100:
		return trimFloat(s, 1) + " s"
	}
	return trimFloat(s, 0) + " s"
}

func trimFloat(f float64, prec int) string {
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// fmtPct writes a ratio as a percentage.
func fmtPct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	case f < 0.1:
		return trimFloat(f*100, 1) + "%"
	}
	return trimFloat(f*100, 0) + "%"
}

// fmtNum writes a throughput-like number with at most one decimal.
func fmtNum(f float64) string {
	switch {
	case f >= 100:
		return trimFloat(f, 0)
	case f >= 10:
		return trimFloat(f, 1)
	}
	return trimFloat(f, 2)
}

// secKey is a duration's numeric sort key and chart value: seconds, with
// infinity kept (callers decide how to plot it).
func secKey(d time.Duration) float64 {
	if d == metrics.Inf {
		return math.Inf(1)
	}
	return d.Seconds()
}

// sortKey writes a float for a data-v attribute; infinity sorts last.
func sortKey(f float64) string {
	if math.IsInf(f, 1) {
		return "1e308"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// pointLabel names a point compactly, as the chart categories do.
func pointLabel(c, s int) string { return fmt.Sprintf("%d×%d", c, s) }

// label names a point in charts and tables: "2×3", or "30/min" for an
// open-loop point.
func label(p *results.Point) string {
	if p.Rate > 0 {
		return rateText(p.Rate)
	}
	return pointLabel(p.Concurrent, p.Sequential)
}

// sortedPoints returns the measured points ordered by C, then S.
func sortedPoints(r *results.Results) []*results.Point {
	ps := make([]*results.Point, len(r.Points))
	for i := range r.Points {
		ps[i] = &r.Points[i]
	}
	slices.SortStableFunc(ps, func(a, b *results.Point) int {
		return cmp.Or(cmp.Compare(a.Concurrent, b.Concurrent), cmp.Compare(a.Sequential, b.Sequential), cmp.Compare(a.Rate, b.Rate))
	})
	return ps
}

// axes returns the sorted distinct C and S values of the grid, the measured
// points and the implied points.
func axes(r *results.Results) (cs, ss []int) {
	cs = append(cs, r.Grid.Concurrent...)
	ss = append(ss, r.Grid.Sequential...)
	for _, p := range r.Points {
		cs = append(cs, p.Concurrent)
		ss = append(ss, p.Sequential)
	}
	if r.Search != nil {
		for _, p := range r.Search.Implied {
			cs = append(cs, p.Concurrent)
			ss = append(ss, p.Sequential)
		}
	}
	slices.Sort(cs)
	slices.Sort(ss)
	return slices.Compact(cs), slices.Compact(ss)
}

// sloText joins the SLO conditions as the seed's "where" clause does.
func sloText(r *results.Results) string {
	if len(r.SLOs) == 0 {
		return "(no SLO)"
	}
	parts := make([]string, len(r.SLOs))
	for i, s := range r.SLOs {
		parts[i] = s.Condition
	}
	return strings.Join(parts, " && ")
}

// bestPoint finds the measured point named by Best.
func bestPoint(r *results.Results) *results.Point {
	if r.Best == nil {
		return nil
	}
	for i := range r.Points {
		p := &r.Points[i]
		if p.Concurrent == r.Best.Concurrent && p.Sequential == r.Best.Sequential && p.Rate == r.Best.Rate {
			return p
		}
	}
	return nil
}

// isBestPoint reports whether p is the best point, on a grid or a rate.
func isBestPoint(r *results.Results, p *results.Point) bool {
	return isBest(r, p.Concurrent, p.Sequential) && r.Best.Rate == p.Rate
}

func isBest(r *results.Results, c, s int) bool {
	return r.Best != nil && r.Best.Concurrent == c && r.Best.Sequential == s
}

// sortedKeys returns a map's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// outcomeMark is the check or cross for an SLO outcome.
func outcomeMark(o metrics.Outcome) string {
	switch o {
	case metrics.Pass:
		return "✓"
	case metrics.NoData:
		return "✗ (no data)"
	}
	return "✗"
}

func passMark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// simulatedUnit is the line under a duration column's name on the virtual
// clock.
const simulatedUnit = "simulated"

// simulated reports whether the run was on the simulator's virtual clock:
// its latencies, spans, rates and time axes are simulated seconds.
func simulated(r *results.Results) bool { return r.Target.Clock == spec.ClockVirtual }

// simName marks an axis or legend name as simulated time when sim is set.
func simName(name string, sim bool) string {
	if sim {
		return name + " (simulated)"
	}
	return name
}

// wbr escapes a column name and lets it break after each underscore that
// joins two words, so a long metric name wraps instead of widening its
// column.
func wbr(s string) template.HTML {
	var b strings.Builder
	for i, r := range s {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '_' && i > 0 && i+1 < len(s) && wordByte(s[i-1]) && wordByte(s[i+1]) {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

// wordByte reports whether b is an ASCII letter or digit.
func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// clockLine says, on the virtual clock, which times on the page are
// simulated; empty on the real clock.
func clockLine(r *results.Results) string {
	if !simulated(r) {
		return ""
	}
	return "Virtual clock: every latency, span, rate per second and time axis on this page is simulated time on the simulator's clock, not wall-clock time; only the run's start and finish and the cooldown are wall-clock."
}

package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mrqa-dev/mrqa/internal/textwrap"
	"github.com/mrqa-dev/mrqa/runtime/clientcheck"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Terminal writes the end-of-run summary: the seed-style table of every
// point (implied ones marked) with a legend for its cache columns, the
// "Max (C x S) where …" line, why the limit is there and what would move
// it, and one ✓/✗ line per SLO (and for expect). Write errors are ignored,
// as for any terminal output.
func Terminal(w io.Writer, r *results.Results) {
	if r == nil {
		return
	}
	cols := termColumnsOf(sortedPoints(r))
	cols.simulated = r.Target.Clock == spec.ClockVirtual
	if isOpen(r) {
		termOpenTable(w, r, cols.points)
		cols.cached, cols.kv, cols.prefix = false, false, false
	} else {
		termTable(w, r, cols)
	}
	termLegend(w, cols)
	fmt.Fprintln(w)
	if line := predictionLine(r); line != "" {
		fmt.Fprintln(w, line)
	}
	if isOpen(r) {
		termOpenAnswer(w, r)
	} else {
		termAnswer(w, r)
	}
	termKnee(w, r)
	termSLOs(w, r)
}

// termColumns says which optional columns the table has: each only when
// some point has the figure.
type termColumns struct {
	points             []*results.Point
	cached, kv, prefix bool
	simulated          bool // the run was on the virtual clock: its seconds are simulated
}

func termColumnsOf(ps []*results.Point) termColumns {
	c := termColumns{points: ps}
	c.kv, c.prefix = serverColumns(ps)
	for _, p := range ps {
		c.cached = c.cached || !p.Metrics.NoData.Has("cached_tokens_ratio")
	}
	return c
}

func termTable(w io.Writer, r *results.Results, cols termColumns) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "C\tS\tsessions\tsamples\tttft_p50(s)\tttft_p95(s)\tttft_p99(s)\terrors\t"
	optional := 0
	for _, c := range []struct {
		on   bool
		name string
	}{{cols.cached, "cached"}, {cols.kv, "kv_max"}, {cols.prefix, "prefix_hit"}} {
		if c.on {
			head += c.name + "\t"
			optional++
		}
	}
	fmt.Fprintln(tw, head+"SLO\t")
	for _, p := range cols.points {
		fmt.Fprintln(tw, termRow(r, p, cols))
	}
	if r.Search != nil {
		dashes := strings.Repeat("-\t", 5+optional)
		for _, ip := range r.Search.Implied {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%simplied %s\t\n",
				ip.Concurrent, ip.Sequential, ip.Concurrent*ip.Sequential, dashes, passMark(ip.Passed))
		}
	}
	tw.Flush()
}

func termRow(r *results.Results, p *results.Point, cols termColumns) string {
	m := &p.Metrics
	slo := passMark(p.Passed)
	if p.Undecided() {
		slo = "? no data"
	}
	if isBest(r, p.Concurrent, p.Sequential) {
		slo = "★ " + slo
	}
	opt := ""
	if cols.cached {
		v := &m.CachedTokensRatio
		if m.NoData.Has("cached_tokens_ratio") {
			v = nil
		}
		opt += termPct(v) + "\t"
	}
	if cols.kv {
		opt += termPct(serverValue(p, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax })) + "\t"
	}
	if cols.prefix {
		opt += termPct(serverValue(p, func(s *results.ServerSummary) *float64 { return s.PrefixCacheHitRate })) + "\t"
	}
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s%s\t",
		p.Concurrent, p.Sequential, p.Concurrent*p.Sequential, m.Samples,
		termTTFT(m, m.TTFTP50), termTTFT(m, m.TTFTP95), termTTFT(m, m.TTFTP99),
		termErrors(m.Errors, m.ErrorRate), opt, slo)
}

// termLegend says what each cache column is: two of them are hit ratios
// measured on different sides, and they differ.
func termLegend(w io.Writer, cols termColumns) {
	if cols.simulated {
		fmt.Fprintln(w, "  (s)         simulated seconds: the run was on the simulator's virtual clock")
	}
	if cols.cached {
		fmt.Fprintln(w, "  cached      cached_tokens_ratio: share of follow-up prompt tokens the server's usage reported cached")
	}
	if cols.kv {
		fmt.Fprintln(w, "  kv_max      kv_cache_usage_max: the fullest the server's /metrics saw its KV cache during the point")
	}
	if cols.prefix {
		fmt.Fprintln(w, "  prefix_hit  prefix_cache_hit_rate: prefix-cache hits ÷ lookups in the server's /metrics, openings included")
	}
}

// termAnswer writes the seed's "Max (C x S)" line and what qualifies it.
func termAnswer(w io.Writer, r *results.Results) {
	if r.Stopped != "" {
		fmt.Fprintf(w, "Sweep stopped early (%s): %d points ran.\n", r.Stopped, len(r.Points))
	}
	if line := unrunLine(r); line != "" {
		fmt.Fprintln(w, line)
	}
	slo := sloText(r)
	qualified := anyUndecided(r) || unrunOf(r).above(r.Score, bestPoint(r)) > 0
	fmt.Fprintln(w, answerLine(r, slo))
	if text, kind := conclusion(r); qualified || (r.Best == nil && kind == "nodata") {
		fmt.Fprintln(w, text)
	}
	if pts, worst := clientLimitedSummary(r); len(pts) > 0 {
		fmt.Fprintf(w, "warning: %d point%s may be client-limited (%s): %s; rerun on a quieter client machine before trusting them\n",
			len(pts), plural(len(pts)), worst, strings.Join(pts, ", "))
	}
	if s := r.Search; s != nil && s.ExtendedBest != nil {
		fmt.Fprintf(w, "  within the declared grid: %s; extended past it: %s\n",
			bestText(s.InGridBest), bestText(s.ExtendedBest))
	}
}

// termKnee writes why the limit is where it is, wrapped for a terminal.
func termKnee(w io.Writer, r *results.Results) {
	k := explainKnee(r)
	if k == nil {
		return
	}
	fmt.Fprint(w, wrapText("Why: "+k.Text, termWidth, "  "))
	if k.Move != "" {
		fmt.Fprint(w, wrapText("To move the limit: "+k.Move, termWidth, "  "))
	}
}

// termWidth is the width the terminal summary's prose is wrapped to.
const termWidth = 100

// wrapText breaks text into lines of at most width characters (a longer
// word stands alone), indenting every line after the first. A number
// keeps its unit ("671 ms") on its line.
func wrapText(text string, width int, indent string) string {
	var words []string
	for _, word := range strings.Fields(text) {
		if n := len(words); n > 0 && isUnit(word) && strings.IndexAny(words[n-1][len(words[n-1])-1:], "0123456789") == 0 {
			words[n-1] += " " + word
			continue
		}
		words = append(words, word)
	}
	return textwrap.Words(words, width, indent) + "\n"
}

func isUnit(word string) bool {
	switch strings.TrimRight(word, ".,;:)") {
	case "s", "ms", "µs":
		return true
	}
	return false
}

// termSLOs writes one line per SLO, with the reasons it could not be
// judged where it could not, and the expect line.
func termSLOs(w io.Writer, r *results.Results) {
	best := bestPoint(r)
	for _, s := range r.SLOs {
		held := 0
		for _, p := range r.Points {
			if sloOutcome(&p, s.Name) == metrics.Pass {
				held++
			}
		}
		mark := passMark(held > 0)
		where := ""
		if best != nil {
			mark = passMark(sloOutcome(best, s.Name) == metrics.Pass)
			where = fmt.Sprintf(", at %s: %s", bestWhere(best), sloOutcome(best, s.Name))
		}
		fmt.Fprintf(w, "%s %s: %s  (held at %d of %d points%s)\n", mark, s.Name, s.Condition, held, len(r.Points), where)
		for _, why := range sloReasons(r, s.Name) {
			fmt.Fprintf(w, "    %s\n", why)
		}
	}
	switch {
	case r.Expect != "" && r.Shard != nil:
		fmt.Fprintf(w, "- expect: %s  (%s)\n", r.Expect, shardExpect)
	case r.ExpectOutcome == metrics.NotJudged:
		fmt.Fprintf(w, "- expect: %s  (%s)\n", r.Expect, notJudgedText(r))
	case r.Expect != "":
		fmt.Fprintf(w, "%s expect: %s  (%s)\n", passMark(r.ExpectOutcome == metrics.Pass), r.Expect, expectWord(r.ExpectOutcome))
	}
}

// notJudgedText says why a sweep's expect was not judged: "not judged: 5
// points did not run".
func notJudgedText(r *results.Results) string {
	return "not judged: " + countText(len(r.NotRun()), "point") + " did not run"
}

// shardExpect says why a shard's folder has no expect outcome.
const shardExpect = "not judged on a shard: mrqa merge judges it on the whole sweep"

// bestWhere names the best point in the SLO lines: "C=2, S=3" or
// "rate=30/min".
func bestWhere(p *results.Point) string {
	if p.Rate > 0 {
		return p.Name()
	}
	return fmt.Sprintf("C=%d, S=%d", p.Concurrent, p.Sequential)
}

// clientLimitedSummary names the points the client flagged about itself and
// the worst stall among them.
func clientLimitedSummary(r *results.Results) (pts []string, worst string) {
	var lag float64
	for _, p := range sortedPoints(r) {
		if c := p.Client; c != nil && c.Limited {
			pts = append(pts, p.Name())
			lag = max(lag, c.LagMax)
		}
	}
	if lag < clientcheck.StallFloor.Seconds() {
		return pts, "its CPU saturated"
	}
	return pts, "stalls up to " + fmtSec(lag)
}

// anyUndecided reports whether some point could not be judged.
func anyUndecided(r *results.Results) bool {
	for i := range r.Points {
		if r.Points[i].Undecided() {
			return true
		}
	}
	return false
}

// sloReasons lists, once each, why a named SLO was neither passed nor
// failed at some points: "no_data at 4 points: kv_cache_usage_max: ...".
func sloReasons(r *results.Results, name string) []string {
	type key struct {
		outcome metrics.Outcome
		reason  string
	}
	var order []key
	count := map[key]int{}
	for _, p := range r.Points {
		for _, o := range p.SLOs {
			if o.Name != name || o.Outcome.Decided() {
				continue
			}
			k := key{o.Outcome, o.Reason}
			if count[k] == 0 {
				order = append(order, k)
			}
			count[k]++
		}
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s at %d point%s: %s", k.outcome, count[k], plural(count[k]), k.reason))
	}
	return out
}

// sloOutcome finds a named SLO's outcome at a point; a missing one is no_data.
func sloOutcome(p *results.Point, name string) metrics.Outcome {
	for _, o := range p.SLOs {
		if o.Name == name {
			return o.Outcome
		}
	}
	return metrics.NoData
}

func expectWord(o metrics.Outcome) string {
	switch o {
	case metrics.Pass:
		return "held"
	case "":
		return "not evaluated"
	case metrics.NoData:
		return "no data"
	case metrics.Error:
		return "could not be evaluated"
	}
	return "did not hold"
}

func bestText(b *results.Best) string {
	if b == nil {
		return "no passing point"
	}
	if b.Rate > 0 {
		return rateText(b.Rate) + " arriving sessions"
	}
	return fmt.Sprintf("%d sessions (C=%d, S=%d)", b.Concurrent*b.Sequential, b.Concurrent, b.Sequential)
}

// termTTFT is a TTFT percentile for the table: "-" when the point had no
// steady turn to measure (never a 0 that reads as instant).
func termTTFT(m *metrics.Point, d time.Duration) string {
	if m.NoData.Has("ttft_p95") {
		return "-"
	}
	return termSec(d)
}

// termSec writes seconds with millisecond precision, as the seed prints them.
func termSec(d time.Duration) string {
	if d == metrics.Inf {
		return "inf"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// termPct writes a server ratio as a percentage, "-" when absent.
func termPct(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmtPct(*f)
}

func termErrors(n int, rate float64) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, fmtPct(math.Max(rate, 0)))
}

package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

type table struct {
	Head []string
	Rows []row
	// Units puts a line under a column's name: "simulated" under every
	// duration column of a virtual-clock run. Keyed by the name, so columns
	// can be added without keeping a parallel list in step.
	Units map[string]string
	// Pin is how many leading columns stay in view while the table scrolls
	// sideways (page.js pins as many of them as fit in 60% of its width).
	Pin int
}

// head is one column heading as the template writes it.
type head struct {
	Name, Unit, Class string
}

// Heads pairs each column name with its unit line; the verdict column's
// heading is aligned like its cells.
func (t table) Heads() []head {
	out := make([]head, len(t.Head))
	for i, n := range t.Head {
		out[i] = head{Name: n, Unit: t.Units[n]}
		if n == verdictHead {
			out[i].Class = "slo"
		}
	}
	return out
}

type row struct {
	Class string
	Cells []cell
}

type cell struct {
	Text, Sort, Class, Title string
}

// verdictHead names the point table's SLO verdict column.
const verdictHead = "SLO"

// keyColumns lead the point table: the point, its size and its verdict,
// so however many measurement columns follow, the verdict is never pushed
// out of sight.
func keyColumns() []string { return []string{"C", "S", "sessions", verdictHead} }

// durationColumns are the point table's columns that hold durations.
func durationColumns() []string {
	return []string{"ttft_p50", "ttft_p95", "ttft_p99", "ttfc_p95", "itl_p95"}
}

// pointHead is the point table's heading: the key columns, then the seed's
// measurements, then the server's figures when any point has them, then
// the base URL that measured each point when a merged sweep's shards
// named different ones.
func pointHead(wsCol, kvCol, hitCol, urlCol bool) []string {
	h := append(keyColumns(), "samples")
	h = append(h, durationColumns()...)
	h = append(h, "error_rate", "cached_tokens_ratio")
	if wsCol {
		h = append(h, "working_set")
	}
	if kvCol {
		h = append(h, metrics.NameKVCacheUsageMax)
	}
	if hitCol {
		h = append(h, metrics.NamePrefixCacheHitRate)
	}
	if urlCol {
		h = append(h, "base_url")
	}
	return h
}

// perPointURLs lists the base URLs a merged sweep's points record, in
// order of first use; none when one target measured every point.
func perPointURLs(ps []*results.Point) []string {
	var out []string
	for _, p := range ps {
		if u := p.TargetBaseURL; u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// pointTable is the seed-style table, with implied points as marked rows.
func pointTable(r *results.Results, ps []*results.Point) table {
	kvCol, hitCol := serverColumns(ps)
	wsCol := hasLoad(ps)
	urlCol := len(perPointURLs(ps)) > 0
	t := table{Head: pointHead(wsCol, kvCol, hitCol, urlCol), Pin: len(keyColumns())}
	if simulated(r) {
		t.Units = unitsOf(durationColumns(), simulatedUnit)
	}
	num := func(n int) cell { return cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)} }
	dur := func(d time.Duration) cell { return cell{Text: fmtDur(d), Sort: sortKey(secKey(d))} }
	for _, p := range ps {
		m := &p.Metrics
		verdict, class := pointVerdict(r, p)
		cached := cell{Text: fmtPct(m.CachedTokensRatio), Sort: sortKey(m.CachedTokensRatio)}
		if !r.Target.UsageSupported {
			cached = cell{Text: "—", Sort: "-1", Title: "the server sent no usage"}
		}
		cells := []cell{
			num(p.Concurrent), num(p.Sequential), num(p.Concurrent * p.Sequential), verdict, num(m.Samples),
			dur(m.TTFTP50), dur(m.TTFTP95), dur(m.TTFTP99), dur(m.TTFCP95), dur(m.ITLP95),
			{Text: fmtPct(m.ErrorRate), Sort: sortKey(m.ErrorRate), Title: fmt.Sprintf("%d of %d requests", m.Errors, m.Requests)},
			cached,
		}
		if wsCol {
			cells = append(cells, workingSetCell(p))
		}
		if kvCol {
			cells = append(cells, pctCell(serverValue(p, func(s *results.ServerSummary) *float64 { return s.KVCacheUsageMax })))
		}
		if hitCol {
			cells = append(cells, pctCell(serverValue(p, func(s *results.ServerSummary) *float64 { return s.PrefixCacheHitRate })))
		}
		if urlCol {
			u := safeURL(p.TargetBaseURL)
			cells = append(cells, cell{Text: u, Sort: u, Class: "name"})
		}
		t.Rows = append(t.Rows, row{Class: class, Cells: cells})
	}
	if r.Search != nil {
		for _, ip := range r.Search.Implied {
			cells := []cell{num(ip.Concurrent), num(ip.Sequential), num(ip.Concurrent * ip.Sequential),
				{Text: "implied " + passMark(ip.Passed) + " (not measured)", Sort: passSort(ip.Passed), Class: "slo"}}
			for len(cells) < len(t.Head) {
				cells = append(cells, cell{Text: "—", Sort: "-1"})
			}
			t.Rows = append(t.Rows, row{Class: "implied", Cells: cells})
		}
	}
	return t
}

// pointVerdict is a point's SLO cell and its row's class. The cell names
// the SLOs the point missed, marking those that had no data or could not
// be evaluated; hovering it gives each one's reason.
func pointVerdict(r *results.Results, p *results.Point) (cell, string) {
	slo := passMark(p.Passed)
	var missed, why []string
	for _, o := range p.SLOs {
		switch o.Outcome {
		case metrics.Pass:
			continue
		case metrics.Fail:
			missed = append(missed, o.Name)
		default:
			missed = append(missed, o.Name+" ("+strings.ReplaceAll(string(o.Outcome), "_", " ")+")")
		}
		if o.Reason != "" {
			why = append(why, o.Name+": "+o.Reason)
		}
	}
	if len(missed) > 0 {
		slo += " " + strings.Join(missed, ", ")
	}
	class := "fail"
	if p.Passed {
		class = "pass"
	}
	if isBestPoint(r, p) {
		slo = "★ " + slo
		class = "pass best"
	}
	return cell{Text: slo, Sort: passSort(p.Passed), Class: "slo", Title: strings.Join(why, "; ")}, class
}

// unitsOf gives each of names the unit line unit.
func unitsOf(names []string, unit string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = unit
	}
	return m
}

func passSort(ok bool) string {
	if ok {
		return "1"
	}
	return "0"
}

func errorTable(ps []*results.Point, kinds []string) table {
	t := table{Head: append([]string{axisName(ps), "requests", "errors"}, kinds...), Pin: 1}
	for _, p := range ps {
		if p.Metrics.Errors == 0 {
			continue
		}
		cells := []cell{
			{Text: label(p), Sort: pointSort(p)},
			{Text: strconv.Itoa(p.Metrics.Requests), Sort: strconv.Itoa(p.Metrics.Requests)},
			{Text: strconv.Itoa(p.Metrics.Errors), Sort: strconv.Itoa(p.Metrics.Errors)},
		}
		for _, k := range kinds {
			n := p.Errors[k]
			cells = append(cells, cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)})
		}
		t.Rows = append(t.Rows, row{Cells: cells})
	}
	return t
}

// pctCell shows a ratio as a percentage, "—" when absent.
func pctCell(f *float64) cell {
	if f == nil {
		return cell{Text: "—", Sort: "-1", Title: "not in the server's metrics"}
	}
	return cell{Text: fmtPct(*f), Sort: sortKey(*f)}
}

// bucketCell shows a quantile interpolated inside a histogram bucket as what
// the data supports: the bucket, "≤ 300ms" when it starts at 0, else
// "500ms–1s". The interpolated estimate is in the cell's title.
func bucketCell(f *float64, b *metrics.Bounds) cell {
	if f == nil {
		return cell{Text: "—", Sort: "-1"}
	}
	if b == nil {
		return cell{Text: fmtSec(*f), Sort: sortKey(*f)}
	}
	lo, hi := float64(b.Lo), float64(b.Hi)
	text := fmtSec(lo) + "–" + fmtSec(hi)
	switch {
	case math.IsInf(hi, 1):
		text = "> " + fmtSec(lo)
	case lo <= 0:
		text = "≤ " + fmtSec(hi)
	}
	return cell{Text: text, Sort: sortKey(*f),
		Title: "from histogram buckets, opening turns included: the p95 lies in this bucket; interpolated inside it, " + fmtSec(*f)}
}

// serverTable lists each point's server figures; sim marks its durations
// as simulated.
func serverTable(ps []*results.Point, sim bool) table {
	extras := map[string]bool{}
	for _, p := range ps {
		if p.Server != nil {
			for k := range p.Server.Extra {
				extras[k] = true
			}
		}
	}
	ek := sortedKeys(extras)
	durations := []string{"queue p95", "queue mean", "server TTFT p95"}
	t := table{Head: append([]string{axisName(ps), "KV usage max", "KV usage mean", "prefix hit rate", "preemptions", durations[0], durations[1], durations[2], "queueing share", "scrape errors"}, ek...), Pin: 1}
	if sim {
		t.Units = unitsOf(durations, simulatedUnit)
	}
	pct := pctCell
	numc := func(f *float64) cell {
		if f == nil {
			return cell{Text: "—", Sort: "-1"}
		}
		return cell{Text: fmtNum(*f), Sort: sortKey(*f)}
	}
	secs := func(f *float64) cell {
		if f == nil {
			return cell{Text: "—", Sort: "-1"}
		}
		return cell{Text: fmtSec(*f), Sort: sortKey(*f)}
	}
	for _, p := range ps {
		cells := []cell{{Text: label(p), Sort: pointSort(p)}}
		s := p.Server
		if s == nil {
			for range len(t.Head) - 1 {
				cells = append(cells, cell{Text: "—", Sort: "-1"})
			}
			cells[1].Title = "not scraped"
			t.Rows = append(t.Rows, row{Class: "implied", Cells: cells})
			continue
		}
		cells = append(cells, pct(s.KVCacheUsageMax), pct(s.KVCacheUsageMean), pct(s.PrefixCacheHitRate),
			numc(s.Preemptions), bucketCell(s.QueueTimeP95, s.QueueTimeP95Bounds), secs(s.QueueTimeMean), bucketCell(s.ServerTTFTP95, s.ServerTTFTP95Bounds), pct(s.QueueShare),
			cell{Text: strconv.Itoa(s.ScrapeErrors), Sort: strconv.Itoa(s.ScrapeErrors)})
		for _, k := range ek {
			if v, ok := s.Extra[k]; ok {
				cells = append(cells, numc(&v))
			} else {
				cells = append(cells, cell{Text: "—", Sort: "-1"})
			}
		}
		t.Rows = append(t.Rows, row{Cells: cells})
	}
	return t
}

// pointSort orders points in a table: by C then S, or by rate.
func pointSort(p *results.Point) string {
	if p.Rate > 0 {
		return sortKey(p.Rate)
	}
	return strconv.Itoa(p.Concurrent*10000 + p.Sequential)
}

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
}

type row struct {
	Class string
	Cells []cell
}

type cell struct {
	Text, Sort, Class, Title string
}

var pointHead = []string{"C", "S", "sessions", "samples", "ttft_p50", "ttft_p95", "ttft_p99", "ttfc_p95", "itl_p95", "error_rate", "cached_tokens_ratio", "SLO"}

// pointTable is the seed-style table, with implied points as marked rows.
func pointTable(r *results.Results, ps []*results.Point) table {
	kvCol, hitCol := serverColumns(ps)
	wsCol := hasLoad(ps)
	head := slices.Clone(pointHead[:len(pointHead)-1])
	if wsCol {
		head = append(head, "working_set")
	}
	if kvCol {
		head = append(head, metrics.NameKVCacheUsageMax)
	}
	if hitCol {
		head = append(head, metrics.NamePrefixCacheHitRate)
	}
	t := table{Head: append(head, pointHead[len(pointHead)-1])}
	num := func(n int) cell { return cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)} }
	dur := func(d time.Duration) cell { return cell{Text: fmtDur(d), Sort: sortKey(secKey(d))} }
	for _, p := range ps {
		m := &p.Metrics
		slo := passMark(p.Passed)
		var failed []string
		for _, o := range p.SLOs {
			if o.Outcome != metrics.Pass {
				failed = append(failed, o.Name+": "+string(o.Outcome))
			}
		}
		if len(failed) > 0 {
			slo += " " + strings.Join(failed, ", ")
		}
		class := "fail"
		if p.Passed {
			class = "pass"
		}
		if isBest(r, p.Concurrent, p.Sequential) {
			slo = "★ " + slo
			class = "pass best"
		}
		cached := cell{Text: fmtPct(m.CachedTokensRatio), Sort: sortKey(m.CachedTokensRatio)}
		if !r.Target.UsageSupported {
			cached = cell{Text: "—", Sort: "-1", Title: "the server sent no usage"}
		}
		cells := []cell{
			num(p.Concurrent), num(p.Sequential), num(p.Concurrent * p.Sequential), num(m.Samples),
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
		t.Rows = append(t.Rows, row{Class: class, Cells: append(cells, cell{Text: slo, Sort: passSort(p.Passed), Class: "slo"})})
	}
	if r.Search != nil {
		for _, ip := range r.Search.Implied {
			cells := []cell{num(ip.Concurrent), num(ip.Sequential), num(ip.Concurrent * ip.Sequential)}
			for len(cells) < len(t.Head)-1 {
				cells = append(cells, cell{Text: "—", Sort: "-1"})
			}
			t.Rows = append(t.Rows, row{Class: "implied", Cells: append(cells,
				cell{Text: "implied " + passMark(ip.Passed) + " (not measured)", Sort: passSort(ip.Passed), Class: "slo"})})
		}
	}
	return t
}

func passSort(ok bool) string {
	if ok {
		return "1"
	}
	return "0"
}

func errorTable(ps []*results.Point, kinds []string) table {
	t := table{Head: append([]string{"C×S", "requests", "errors"}, kinds...)}
	for _, p := range ps {
		if p.Metrics.Errors == 0 {
			continue
		}
		cells := []cell{
			{Text: pointLabel(p.Concurrent, p.Sequential), Sort: strconv.Itoa(p.Concurrent*10000 + p.Sequential)},
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

func serverTable(ps []*results.Point) table {
	extras := map[string]bool{}
	for _, p := range ps {
		if p.Server != nil {
			for k := range p.Server.Extra {
				extras[k] = true
			}
		}
	}
	ek := sortedKeys(extras)
	t := table{Head: append([]string{"C×S", "KV usage max", "KV usage mean", "prefix hit rate", "preemptions", "queue p95", "queue mean", "server TTFT p95", "queueing share", "scrape errors"}, ek...)}
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
		cells := []cell{{Text: pointLabel(p.Concurrent, p.Sequential), Sort: strconv.Itoa(p.Concurrent*10000 + p.Sequential)}}
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

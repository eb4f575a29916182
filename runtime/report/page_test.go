package report

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// widestFixture has every optional column mrqa's tables can have: the
// server's kv_cache_usage_max and prefix_cache_hit_rate in the point table,
// offload and other raw families in the server table, five SLO conditions
// that the failing points miss all at once (the longest verdicts), implied
// rows, and four-digit session counts.
func widestFixture() *results.Results {
	var specs []pointSpec
	for _, c := range []int{1, 8, 64, 128} {
		for _, s := range []int{1, 4, 16} {
			sp := pointSpec{c: c, s: s, p95: 0.3 + 0.0005*float64(c*s), server: true}
			if c*s >= 256 {
				sp.p95 = 2.75
				sp.errors = map[string]int{metrics.ErrTimeoutFirstToken: c * s / 2}
			}
			specs = append(specs, sp)
		}
	}
	r := fixture("widest-table-scenario", specs, 2)
	r.Grid = results.Grid{Concurrent: []int{1, 8, 64, 128}, Sequential: []int{1, 4, 16}}
	extra := []results.SLO{
		{Name: "kv_capacity", Condition: "kv_cache_usage_max <= 0.9"},
		{Name: "prefix_hits", Condition: "prefix_cache_hit_rate >= 0.5"},
		{Name: "tail_latency", Condition: "ttft_p99 <= 3s"},
	}
	r.SLOs = append(r.SLOs, extra...)
	for i := range r.Points {
		p := &r.Points[i]
		outcomes := []metrics.Outcome{metrics.Pass, metrics.Pass, metrics.Pass}
		if !p.Passed {
			outcomes = []metrics.Outcome{metrics.Fail, metrics.NoData, metrics.Error}
		}
		for j, o := range outcomes {
			p.SLOs = append(p.SLOs, results.SLOOutcome{Name: extra[j].Name, Outcome: o, Reason: "fixture"})
		}
		for _, k := range []string{promscrape.OffloadRequestedTokens, promscrape.OffloadHitTokens, promscrape.OffloadLookupTokens,
			promscrape.OffloadLookupHits, promscrape.OffloadCacheUsage, "vllm:gpu_prefix_cache_queries_total", "vllm:num_preemptions_total"} {
			p.Server.Extra[k] = 123456.75 * float64(p.Concurrent)
		}
	}
	r.Search = &results.Search{Kind: "frontier", InGridBest: r.Best,
		Implied: []results.ImpliedPoint{{Concurrent: 128, Sequential: 32, Passed: false}}}
	r.ServerSeries = fixtureSeries(r, 10*time.Second)
	return r
}

// noPreemptionFixture is the server-metrics run of a server that exports no
// preemption counter: the per-point summaries and the scrapes lack it.
func noPreemptionFixture() *results.Results {
	r := lmcacheFixture()
	for i := range r.Points {
		r.Points[i].Server.Preemptions = nil
	}
	delete(r.ServerSeries.Kinds, promscrape.Preemptions)
	for i := range r.ServerSeries.Samples {
		delete(r.ServerSeries.Samples[i].Values, promscrape.Preemptions)
	}
	return r
}

// noHistogramFixture is the server-metrics run of a server that exports no
// queue-time or TTFT histogram, as the simulator's virtual clock does.
func noHistogramFixture() *results.Results {
	r := lmcacheFixture()
	for i := range r.Points {
		s := r.Points[i].Server
		s.QueueTimeP95, s.QueueTimeP95Bounds, s.QueueTimeMean = nil, nil, nil
		s.ServerTTFTP95, s.ServerTTFTP95Bounds, s.QueueShare = nil, nil, nil
	}
	delete(r.ServerSeries.Kinds, promscrape.QueueTime)
	delete(r.ServerSeries.Kinds, promscrape.TTFT)
	for i := range r.ServerSeries.Samples {
		r.ServerSeries.Samples[i].Histograms = nil
	}
	return r
}

// nothingServedFixture is a sweep where every turn failed at every point: no
// first token, no distribution, no tokens counted, and a server whose
// /metrics has none of the per-point figures.
func nothingServedFixture() *results.Results {
	r := vllmFixture()
	inf := metrics.Seconds(math.Inf(1))
	for i := range r.Points {
		p := &r.Points[i]
		m := &p.Metrics
		m.TTFTP50, m.TTFTP95, m.TTFTP99, m.TTFCP95 = metrics.Inf, metrics.Inf, metrics.Inf, metrics.Inf
		m.InputTokensPerS, m.OutputTokensPerS = 0, 0
		m.Errors, m.ErrorRate = m.Requests, 1
		p.Errors = map[string]int{metrics.ErrTimeoutFirstToken: m.Requests}
		for j := range p.Turns {
			p.Turns[j].TTFTP50, p.Turns[j].TTFTP95 = inf, inf
		}
		for j := range p.CDF {
			p.CDF[j] = inf
		}
		for j := range p.SLOs {
			p.SLOs[j].Outcome = metrics.Fail
		}
		p.Passed = false
		p.Server = &results.ServerSummary{ScrapeErrors: 1}
	}
	r.Best = nil
	return r
}

// pageOption is the option of chart id in a rendered page, as text; the
// test fails when the page does not draw that chart.
func pageOption(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `{id:"`+id+`",option:`)
	if start < 0 {
		t.Fatalf("page draws no chart %s", id)
	}
	rest := page[start+1:]
	if end := strings.Index(rest, `{id:"`); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// pageSeries decodes the series of chart id from a rendered page.
func pageSeries(t *testing.T, page, id string) []map[string]any {
	t.Helper()
	rest := pageOption(t, page, id)
	k := strings.Index(rest, `"series":`)
	if k < 0 {
		t.Fatalf("chart %s has no series", id)
	}
	var series []map[string]any
	if err := json.NewDecoder(strings.NewReader(rest[k+len(`"series":`):])).Decode(&series); err != nil {
		t.Fatalf("chart %s: decode series: %v", id, err)
	}
	return series
}

// TestPointTableVerdictFirst: the SLO verdict follows C, S and sessions, so
// no number of measurement columns can push it out of sight.
func TestPointTableVerdictFirst(t *testing.T) {
	for _, r := range []*results.Results{vllmFixture(), widestFixture()} {
		tb := pointTable(r, sortedPoints(r))
		if got := strings.Join(tb.Head[:4], " "); got != "C S sessions SLO" {
			t.Errorf("%s: point table starts %q, want the verdict right after C, S and sessions", r.Scenario, got)
		}
		for _, row := range tb.Rows {
			if len(row.Cells) != len(tb.Head) || row.Cells[3].Class != "slo" {
				t.Fatalf("%s: a row has %d cells (head %d) and cell 4 of class %q, want the verdict", r.Scenario, len(row.Cells), len(tb.Head), row.Cells[3].Class)
			}
		}
	}
	// A point that missed every SLO, in every way, says so briefly.
	r := widestFixture()
	want := "✗ ttft, errors, kv_capacity, prefix_hits (no data), tail_latency (error)"
	for _, row := range pointTable(r, sortedPoints(r)).Rows {
		if row.Cells[0].Text == "128" && row.Cells[1].Text == "16" {
			if got := row.Cells[3]; got.Text != want || !strings.Contains(got.Title, "prefix_hits: fixture") {
				t.Errorf("verdict %q (title %q), want %q with each reason in the title", got.Text, got.Title, want)
			}
			return
		}
	}
	t.Error("no row for C=128, S=16")
}

// TestTurnsStyle: in the TTFT-by-turn chart (and the distribution beside
// it) each C has a colour of its own and each S a dash and marker of its
// own, and the legend lists the points by C, then S.
func TestTurnsStyle(t *testing.T) {
	vllm, big := vllmFixture(), bigFixture(1000)
	page := renderScenario(t, vllm, Options{})
	bigTurns, err := turnsOption(big, sortedPoints(big))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		r      *results.Results
		series []map[string]any
		symbol bool // markers tell S apart too
	}{
		{"turns 4×4", vllm, pageSeries(t, page, "mrqa-turns"), true},
		{"cdf 4×4", vllm, pageSeries(t, page, "mrqa-cdf"), false},
		{"turns 10×10", big, pageSeries(t, `{id:"big",option:`+string(bigTurns), "big"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := sortedPoints(tt.r)
			if len(tt.series) != len(ps) {
				t.Fatalf("%d series, want one per point (%d)", len(tt.series), len(ps))
			}
			byC, byS := map[int]string{}, map[int]string{}
			for i, s := range tt.series {
				p := ps[i]
				if s["name"] != pointLabel(p.Concurrent, p.Sequential) {
					t.Errorf("series %d is %v, want %s (by C, then S)", i, s["name"], pointLabel(p.Concurrent, p.Sequential))
				}
				line, _ := s["lineStyle"].(map[string]any)
				colour, _ := line["color"].(string)
				dash, _ := json.Marshal(line["type"])
				key := string(dash)
				if tt.symbol {
					key += " " + fmtAny(s["symbol"])
				}
				if colour == "" || line["type"] == nil {
					t.Fatalf("series %s has no colour or dash of its own: %v", s["name"], s)
				}
				if c, ok := byC[p.Concurrent]; ok && c != colour {
					t.Errorf("C=%d drawn in %s and %s", p.Concurrent, c, colour)
				}
				if k, ok := byS[p.Sequential]; ok && k != key {
					t.Errorf("S=%d drawn as %s and %s", p.Sequential, k, key)
				}
				byC[p.Concurrent], byS[p.Sequential] = colour, key
			}
			if n := distinct(byC); n != len(byC) {
				t.Errorf("%d colours for %d values of C: %v", n, len(byC), byC)
			}
			if n := distinct(byS); n != len(byS) {
				t.Errorf("%d line styles for %d values of S: %v", n, len(byS), byS)
			}
		})
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func distinct(m map[int]string) int {
	seen := map[string]bool{}
	for _, v := range m {
		seen[v] = true
	}
	return len(seen)
}

// TestEmptyChartsSaySo: a chart with nothing to draw is replaced by one
// sentence saying why; a series with no data leaves the chart and is named.
func TestEmptyChartsSaySo(t *testing.T) {
	tests := []struct {
		name   string
		r      *results.Results
		absent []string // chart ids the page must not draw
		say    []string
		drawn  map[string][]string // chart id: series and axis names it must not have
	}{
		{"no preemption counter", noPreemptionFixture(), nil,
			[]string{"No preemption data: the server&#39;s /metrics has no preemption counter."},
			map[string][]string{"mrqa-server-queue": {"preemptions"}, "mrqa-server-ts-load": {"preemptions/s", "preemptions/s (simulated)"}}},
		{"nothing succeeded", nothingServedFixture(),
			[]string{"mrqa-turns", "mrqa-cdf", "mrqa-throughput", "mrqa-server-cache", "mrqa-server-queue"},
			[]string{"No turn succeeded, so there is no TTFT by turn.", "No steady-state turn succeeded, so there is no TTFT distribution.",
				"No point counted a token, so there is no throughput.",
				"No KV-cache or prefix-cache figures: the server&#39;s /metrics had neither at any point.",
				"No preemption or queue-time figures: the server&#39;s /metrics had neither at any point."}, nil},
		{"no histograms", noHistogramFixture(), []string{"mrqa-server-ts-latency", "mrqa-server-split"},
			[]string{"No server-side queue time or TTFT over the run: the server&#39;s /metrics has neither histogram.",
				"No TTFT decomposition: the server&#39;s /metrics has no queue-time histogram.",
				"No queue time: the server&#39;s /metrics has no queue-time histogram."},
			map[string][]string{"mrqa-server-queue": {"queue time p95"}}},
		{"imported without turns", sparseFixture(), []string{"mrqa-turns", "mrqa-cdf"},
			[]string{"These results have no per-turn figures, so there is no TTFT by turn.", "These results have no TTFT distribution."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderScenario(t, tt.r, Options{})
			for _, id := range tt.absent {
				if strings.Contains(page, `id="`+id+`"`) || strings.Contains(page, `{id:"`+id+`"`) {
					t.Errorf("page draws %s, which has no data", id)
				}
				if !strings.Contains(page, `id="`+id+`-none"`) {
					t.Errorf("page does not say why %s is missing", id)
				}
			}
			for _, s := range tt.say {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for id, names := range tt.drawn {
				option := pageOption(t, page, id)
				for _, n := range names {
					if strings.Contains(option, `"name":"`+n+`"`) {
						t.Errorf("chart %s draws the empty series %q or its axis", id, n)
					}
				}
			}
		})
	}
}

// TestSimulatedSeconds: on the virtual clock every duration on the page says
// it is simulated; on the real clock nothing does.
func TestSimulatedSeconds(t *testing.T) {
	virtual := func(r *results.Results) *results.Results { r.Target.Clock = spec.ClockVirtual; return r }
	realClock := func(r *results.Results) *results.Results { r.Target.Clock = spec.ClockReal; return r }
	every := []string{
		`id="mrqa-clock"`,
		`ttft_<wbr>p95<span class="unit">simulated</span>`, `itl_<wbr>p95<span class="unit">simulated</span>`,
		`"name":"ttft p95 (simulated)"`, `"name":"steady-state TTFT (simulated)"`,
		`"name":"input tok/s (simulated)"`, `"name":"output tok/s (simulated)"`,
		"Times are simulated (virtual clock).", // the heatmap's note
	}
	server := []string{
		`queue p95<span class="unit">simulated</span>`, `server TTFT p95<span class="unit">simulated</span>`,
		`"name":"simulated time since the run started"`, `"name":"queue p95 (simulated)"`,
		`"name":"seconds (simulated)"`, `"name":"preemptions/s (simulated)"`, "about every 10.0 s of simulated time",
	}
	pages := []struct {
		name string
		page string
		want []string // nil: the real clock, where nothing is simulated
	}{
		{"virtual", renderScenario(t, virtual(vllmFixture()), Options{}),
			append(slices.Clone(every), `"text":["slow 39.8 s (simulated)",`, "p99 ∞ (simulated)")},
		{"virtual with server metrics", renderScenario(t, virtual(lmcacheFixture()), Options{}), append(slices.Clone(every), server...)},
		{"compare virtual with real", renderCompare(t, []*results.Results{virtual(vllmFixture()), realClock(lmcacheFixture())}, Options{}),
			[]string{`<th scope="col">seed-vllm<span class="unit">simulated</span></th><th scope="col">seed-lmcache</th>`,
				`Δ seed-lmcache<span class="unit">mixed clocks</span>`}},
		{"real", renderScenario(t, realClock(vllmFixture()), Options{}), nil},
		{"compare real", renderCompare(t, []*results.Results{realClock(vllmFixture()), realClock(lmcacheFixture())}, Options{}), nil},
		{"real with server metrics", renderScenario(t, realClock(lmcacheFixture()), Options{}), nil},
	}
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			if pg.want == nil {
				if i := strings.Index(pg.page, "simulated"); i >= 0 {
					t.Errorf("a real-clock page says simulated: …%s…", pg.page[max(0, i-80):i+20])
				}
				return
			}
			for _, w := range pg.want {
				if !strings.Contains(pg.page, w) {
					t.Errorf("virtual-clock page lacks %q", w)
				}
			}
		})
	}
}

func TestWbr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ttft_p95", "ttft_<wbr>p95"},
		{"vllm:num_requests_waiting", "vllm:num_<wbr>requests_<wbr>waiting"},
		{"__f__x", "__f__x"}, // only an underscore between two word characters
		{"a<b_c", "a&lt;b_<wbr>c"},
		{"x_", "x_"},
		{"SLO", "SLO"},
	}
	for _, tt := range tests {
		if got := string(wbr(tt.in)); got != tt.want {
			t.Errorf("wbr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

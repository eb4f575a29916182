package report

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

func TestDownsample(t *testing.T) {
	ramp := func(n int) ([]float64, []float64) {
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			xs[i] = float64(i)
			ys[i] = float64((i * 7919) % 1000) // deterministic noise
		}
		return xs, ys
	}
	tests := []struct {
		name     string
		n, limit int
	}{
		{"short line kept whole", 150, 2000},
		{"exactly the limit", 2000, 2000},
		{"ten hours at 1 s", 36_000, 2000},
		{"odd sizes", 12_345, 777},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs, ys := ramp(tt.n)
			// A spike that must survive, and ends that are neither extreme.
			ys[tt.n/3] = 5000
			ys[0], ys[tt.n-1] = 500, 501
			ox, oy := downsample(xs, ys, tt.limit)
			if len(ox) != len(oy) || len(ox) > tt.limit {
				t.Fatalf("%d points (%d ys), want at most %d", len(ox), len(oy), tt.limit)
			}
			if tt.n <= tt.limit && len(ox) != tt.n {
				t.Fatalf("a line within the limit lost points: %d of %d", len(ox), tt.n)
			}
			if tt.n > tt.limit && len(ox) < tt.limit*9/10 {
				t.Errorf("only %d points kept of a %d budget", len(ox), tt.limit)
			}
			if !slices.IsSorted(ox) {
				t.Error("x values out of order")
			}
			if ox[0] != xs[0] || ox[len(ox)-1] != xs[tt.n-1] {
				t.Errorf("line spans %v..%v, want %v..%v", ox[0], ox[len(ox)-1], xs[0], xs[tt.n-1])
			}
			if slices.Max(oy) != 5000 || slices.Min(oy) != slices.Min(ys) {
				t.Errorf("extremes lost: max %v min %v", slices.Max(oy), slices.Min(oy))
			}
		})
	}
}

func TestShapeLine(t *testing.T) {
	// Scrapes every second with two idle holes of 30 s.
	var xs, ys []float64
	for i := range 300 {
		x := float64(i)
		if i >= 100 {
			x += 30
		}
		if i >= 200 {
			x += 30
		}
		xs, ys = append(xs, x), append(ys, float64(i%10))
	}
	tests := []struct {
		name      string
		limit     int
		wantCuts  int
		wantAtMax int
	}{
		{"cut at both holes", 2000, 2, 302},
		{"cut and downsampled", 100, 2, 100},
		{"too fragmented to cut", 11, 0, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ox, oy := shapeLine(xs, ys, tt.limit)
			cuts := 0
			for i, y := range oy {
				if math.IsNaN(y) {
					cuts++
					if !(ox[i] > ox[i-1] && ox[i] < ox[i+1]) {
						t.Errorf("cut at x=%v not between its neighbours %v and %v", ox[i], ox[i-1], ox[i+1])
					}
				}
			}
			if cuts != tt.wantCuts {
				t.Errorf("%d cuts, want %d", cuts, tt.wantCuts)
			}
			if len(ox) > tt.wantAtMax || len(ox) > tt.limit {
				t.Errorf("%d points, want at most %d", len(ox), min(tt.wantAtMax, tt.limit))
			}
		})
	}
}

// series builds a Series from per-scrape values of one counter pair.
func hitSeries(hits, queries []float64) *promscrape.Series {
	ser := &promscrape.Series{Kinds: map[string]string{
		promscrape.PrefixCacheHits: promscrape.KindCounter, promscrape.PrefixCacheQueries: promscrape.KindCounter}}
	for i := range hits {
		ser.Samples = append(ser.Samples, promscrape.Sample{T: fixtureStart.Add(time.Duration(i) * 2 * time.Second),
			Values: map[string]float64{promscrape.PrefixCacheHits: hits[i], promscrape.PrefixCacheQueries: queries[i]}})
	}
	return ser
}

func TestHitRateTimeline(t *testing.T) {
	gauge := &promscrape.Series{Kinds: map[string]string{promscrape.PrefixCacheHitRateGauge: promscrape.KindGauge}}
	for i, v := range []float64{0.5, 0.25} {
		gauge.Samples = append(gauge.Samples, promscrape.Sample{T: fixtureStart.Add(time.Duration(i) * time.Second),
			Values: map[string]float64{promscrape.PrefixCacheHitRateGauge: v}})
	}
	withErr := hitSeries([]float64{0, 90, 90, 190}, []float64{0, 100, 100, 300})
	withErr.Samples = slices.Insert(withErr.Samples, 2, promscrape.Sample{T: fixtureStart.Add(3 * time.Second), Err: "timeout"})
	tests := []struct {
		name   string
		ser    *promscrape.Series
		wantX  []float64
		wantHR []float64
	}{
		// Rates between scrapes 2 s apart: 90/100, then no query (left out), then 100/200.
		{"counters", hitSeries([]float64{0, 90, 90, 190}, []float64{0, 100, 100, 300}), []float64{2, 6}, []float64{90, 50}},
		{"counter reset counts from zero", hitSeries([]float64{50, 80, 10}, []float64{100, 140, 40}), []float64{2, 4}, []float64{75, 25}},
		{"failed scrape skipped", withErr, []float64{2, 6}, []float64{90, 50}},
		{"gauge fallback", gauge, []float64{0, 1}, []float64{50, 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs, hr := hitRateTimeline(tt.ser, fixtureStart)
			if !slices.Equal(xs, tt.wantX) || !slices.Equal(hr, tt.wantHR) {
				t.Errorf("got x %v rate %v, want x %v rate %v", xs, hr, tt.wantX, tt.wantHR)
			}
		})
	}
}

func TestSLOEdges(t *testing.T) {
	pt := func(c, s int, ok bool) results.Point { return results.Point{Concurrent: c, Sequential: s, Passed: ok} }
	idx := func(r *results.Results) (map[int]int, map[int]int) {
		cs, ss := axes(r)
		ci, si := map[int]int{}, map[int]int{}
		for i, c := range cs {
			ci[c] = i
		}
		for i, s := range ss {
			si[s] = i
		}
		return ci, si
	}
	tests := []struct {
		name string
		r    *results.Results
		want [][3]int
	}{
		{"full grid staircase", vllmFixture(), [][3]int{{1, 3, edgeRight}, {2, 2, edgeTop}, {3, 2, edgeTop}}},
		{"all pass: no boundary", &results.Results{Points: []results.Point{pt(1, 1, true), pt(2, 1, true), pt(1, 2, true)}}, nil},
		{"implied cells border measured ones", &results.Results{
			Points: []results.Point{pt(2, 1, false)},
			Search: &results.Search{Implied: []results.ImpliedPoint{{Concurrent: 1, Sequential: 1, Passed: true}}},
		}, [][3]int{{0, 0, edgeRight}}},
		{"unknown cells border nothing", &results.Results{
			Grid:   results.Grid{Concurrent: []int{1, 2, 3}, Sequential: []int{1}},
			Points: []results.Point{pt(1, 1, true), pt(3, 1, false)},
		}, nil},
		{"non-monotone point fenced in", &results.Results{Points: []results.Point{
			pt(1, 1, true), pt(2, 1, false), pt(3, 1, true)}}, [][3]int{{0, 0, edgeRight}, {1, 0, edgeRight}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci, si := idx(tt.r)
			if got := sloEdges(tt.r, ci, si); !slices.Equal(got, tt.want) {
				t.Errorf("edges %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServerSection(t *testing.T) {
	seriesOnly := lmcacheFixture()
	for i := range seriesOnly.Points {
		seriesOnly.Points[i].Server = nil
	}
	failing := lmcacheFixture()
	for i := range failing.ServerSeries.Samples {
		failing.ServerSeries.Samples[i] = promscrape.Sample{T: failing.ServerSeries.Samples[i].T, Err: "connection refused"}
	}
	single := lmcacheFixture()
	single.ServerSeries.Samples = single.ServerSeries.Samples[:1]
	for i := range single.Points {
		single.Points[i].Started = time.Time{} // no spans to mark either
	}
	summariesOnly := lmcacheFixture()
	summariesOnly.ServerSeries = nil
	tests := []struct {
		name      string
		r         *results.Results
		want, not []string
	}{
		{"series and summaries", lmcacheFixture(), []string{
			`id="server"`, `id="mrqa-server-ts-cache"`, `id="mrqa-server-ts-load"`, `id="mrqa-server-ts-latency"`,
			`id="mrqa-server-split"`, `"markArea":{"data":[[{"itemStyle"`, `"name":"4×4","xAxis":1440},{"xAxis":1535}`,
			"4×4: 80% of the mean TTFT was queueing at the server (mean queue time 64.0 ms).",
			`<th scope="col">sessions</th><th scope="col" class="slo">SLO</th>`,
			`<th scope="col">kv_<wbr>cache_<wbr>usage_<wbr>max</th><th scope="col">prefix_<wbr>cache_<wbr>hit_<wbr>rate</th></tr>`,
			"154 scrapes of http://127.0.0.1:8000/metrics, about every 10.0 s; 4 failed",
			`mrqaTimeTip(ps,{'KV cache usage':'%','prefix cache hit rate':'%'})`,
		}, []string{fakeSecret}},
		{"series only", seriesOnly, []string{`id="mrqa-server-ts-cache"`}, []string{
			`id="mrqa-server-cache"`, "kv_<wbr>cache_<wbr>usage_<wbr>max", `id="mrqa-decomp"`, `id="mrqa-server-split"`}},
		{"summaries only", summariesOnly, []string{`id="mrqa-server-cache"`, "Only per-point summaries were recorded.", "kv_<wbr>cache_<wbr>usage_<wbr>max"},
			[]string{`id="mrqa-server-ts-cache"`}},
		{"a single scrape", single, []string{"1 scrape of", `id="mrqa-server-ts-cache"`, `"max":1,"min":0`}, []string{`"markArea":`, "about every"}},
		{"every scrape failed", failing, []string{"154 scrapes", "154 failed"}, []string{"mrqa-server-ts-"}},
		{"no metrics", vllmFixture(), nil, []string{`id="server"`, "kv_<wbr>cache_<wbr>usage_<wbr>max", "mrqa-server-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderScenario(t, tt.r, Options{Secrets: []string{fakeSecret}})
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(page, n) {
					t.Errorf("page contains %q", n)
				}
			}
		})
	}
}

// TestLongSeriesPageSize: a 10×10 sweep scraped every second for ten hours
// keeps every line within maxLinePoints and the page within 5 MB.
func TestLongSeriesPageSize(t *testing.T) {
	r := bigFixture(100_000)
	for i := range r.Points {
		r.Points[i].Started = fixtureStart.Add(time.Duration(i) * 6 * time.Minute)
		r.Points[i].Duration = 340
	}
	r.ServerSeries = fixtureSeries(r, time.Second)
	if n := len(r.ServerSeries.Samples); n < 35_000 {
		t.Fatalf("fixture has %d scrapes, want ten hours' worth", n)
	}
	charts := serverTimeCharts(r)
	if len(charts) != 3 {
		t.Fatalf("%d time-series charts, want 3", len(charts))
	}
	for _, c := range charts {
		for _, l := range c.Lines {
			if len(l.X) > maxLinePoints || len(l.X) == 0 {
				t.Errorf("%s / %s: %d points, want 1..%d", c.ID, l.Name, len(l.X), maxLinePoints)
			}
			// Flat stretches shrink to a point per bucket; the KV gauge
			// varies at every scrape, so it uses most of its budget.
			if l.Name == "KV cache usage" && len(l.X) < maxLinePoints/2 {
				t.Errorf("KV cache usage kept only %d points of %d", len(l.X), maxLinePoints)
			}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() >= 5<<20 {
		t.Fatalf("page is %d bytes, want < 5 MiB", buf.Len())
	}
	// Every point's span is marked on each time-series chart.
	if n := len(regexp.MustCompile(`\{"itemStyle":\{"color":"rgba\([^)]*\)"\},"name":"\d+×\d+","xAxis":`).FindAllString(buf.String(), -1)); n != 3*len(r.Points) {
		t.Errorf("%d point areas, want %d", n, 3*len(r.Points))
	}
	t.Logf("10×10, %d scrapes over 10 h: page %d bytes (%d without the library)", len(r.ServerSeries.Samples), buf.Len(), buf.Len()-len(echartsJS))
}

func TestTimeTick(t *testing.T) {
	tests := []struct{ span, want float64 }{{60, 10}, {95, 10}, {600, 60}, {1535, 300}, {12000, 1200}, {36000, 3600}, {500000, 86400}}
	for _, tt := range tests {
		if got := timeTick(tt.span); got != tt.want || tt.span/got > 10 {
			t.Errorf("timeTick(%v) = %v, want %v", tt.span, got, tt.want)
		}
	}
}

package promscrape

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// fakeClock is the scraper's clock in tests, moved by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// steppedServer serves testdata/step<N>.prom, N set by the test.
type steppedServer struct {
	*httptest.Server
	step   atomic.Int32
	accept atomic.Value
}

func newSteppedServer(t *testing.T) *steppedServer {
	t.Helper()
	var bodies [][]byte
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("step%d.prom", i)))
		if err != nil {
			break
		}
		bodies = append(bodies, b)
	}
	s := &steppedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.accept.Store(r.Header.Get("Accept"))
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(bodies[s.step.Load()])
	}))
	t.Cleanup(s.Close)
	return s
}

// scrapeSteps scrapes step i at t0+i seconds.
func scrapeSteps(t *testing.T) *Scraper {
	t.Helper()
	srv := newSteppedServer(t)
	clk := &fakeClock{}
	s := newScraper(srv.URL+"/metrics", time.Second, []string{"vllm:num_requests_waiting"}, clk.now)
	for i := range 5 {
		srv.step.Store(int32(i))
		clk.set(at(float64(i)))
		if err := s.ScrapeNow(context.Background()); err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
	}
	if got := srv.accept.Load(); got == nil || !strings.HasPrefix(got.(string), "text/plain;version=0.0.4") {
		t.Fatalf("Accept header %v", got)
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSteppedEndpoint(t *testing.T) {
	s := scrapeSteps(t)
	tests := []struct {
		name                           string
		from, to                       float64
		kvMax, kvMean                  float64
		queries, hits, rate, preempt   float64
		queueP95, queueMean, queueReqs float64
		simDelta, simRate              float64
	}{
		{
			// Baseline step 0, end step 2. kv max of the two engines per
			// scrape: 0.1, 0.5, 0.9. Queue buckets gain (4, 10, 12) of 12:
			// rank 11.4 lies in (0.5, 1] with 10 below and 2 inside, so
			// p95 = 0.5 + 0.5·1.4/2.
			name: "growing counters", from: 0, to: 2,
			kvMax: 0.9, kvMean: 0.5,
			queries: 2000, hits: 1700, rate: 0.85, preempt: 2,
			queueP95: 0.85, queueMean: 3.0 / 12, queueReqs: 12,
			simDelta: 30, simRate: 15,
		},
		{
			// Every counter resets between steps 2 and 3: the new values
			// count from zero. Queries 500 + 1000, hits 100 + 900,
			// preemptions 1 + 2. Queue: step 3 itself (0, 1, 2 of 2) plus
			// step 4 − step 3 (0, 0, 4 of 4): (0, 1, 6) of 6, rank 5.7 in
			// (0.5, 1] with 1 below and 5 inside.
			name: "counter reset", from: 2, to: 4,
			kvMax: 0.9, kvMean: (0.9 + 0.3 + 0.6) / 3,
			queries: 1500, hits: 1000, rate: 1000.0 / 1500, preempt: 3,
			queueP95: 0.5 + 0.5*4.7/5, queueMean: (1.2 + 2.0) / 6, queueReqs: 6,
			simDelta: 5 + 20, simRate: 12.5,
		},
		{
			// A window between scrapes: baseline step 1 (t=1), end step 2
			// (first scrape within half an interval after 1.6).
			name: "window between scrapes", from: 1.2, to: 1.6,
			kvMax: 0, kvMean: 0,
			queries: 1000, hits: 900, rate: 0.9, preempt: 2,
			queueP95: 0.5 + 0.5*(0.95*8-6)/2, queueMean: 2.8 / 8, queueReqs: 8,
			simDelta: 20, simRate: 20,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum := s.Summary(Window{From: at(tc.from), To: at(tc.to)})
			if sum.Errors != 0 {
				t.Fatalf("errors %d", sum.Errors)
			}
			if tc.kvMax > 0 {
				if !sum.Has[metrics.NameKVCacheUsageMax] || !near(sum.KVCacheUsageMax, tc.kvMax) || !near(sum.KVCacheUsageMean, tc.kvMean) {
					t.Errorf("kv usage max %v mean %v has %v; want %v %v", sum.KVCacheUsageMax, sum.KVCacheUsageMean, sum.Has[metrics.NameKVCacheUsageMax], tc.kvMax, tc.kvMean)
				}
			} else if sum.Has[metrics.NameKVCacheUsageMax] {
				t.Errorf("kv usage has data with no scrape inside the window")
			}
			if !sum.Has[metrics.NamePrefixCacheHitRate] || !near(sum.PrefixCacheQueries, tc.queries) || !near(sum.PrefixCacheHits, tc.hits) || !near(sum.PrefixCacheHitRate, tc.rate) {
				t.Errorf("prefix cache %v/%v = %v; want %v/%v = %v", sum.PrefixCacheHits, sum.PrefixCacheQueries, sum.PrefixCacheHitRate, tc.hits, tc.queries, tc.rate)
			}
			if !sum.Has[metrics.NamePreemptions] || !near(sum.Preemptions, tc.preempt) {
				t.Errorf("preemptions %v, want %v", sum.Preemptions, tc.preempt)
			}
			if want := seconds(tc.queueP95); !sum.Has[metrics.NameQueueTimeP95] || sum.QueueTimeP95 != want {
				t.Errorf("queue p95 %v, want %v", sum.QueueTimeP95, want)
			}
			if want := seconds(tc.queueMean); sum.QueueTimeMean != want || !near(sum.Requests, tc.queueReqs) {
				t.Errorf("queue mean %v over %v, want %v over %v", sum.QueueTimeMean, sum.Requests, want, tc.queueReqs)
			}
			sim, ok := sum.Stats["mrqa_sim_offload_loaded_blocks_total"]
			if !ok || !near(sim.Delta, tc.simDelta) || !near(sim.Rate, tc.simRate) {
				t.Errorf("simulator counter %+v, want delta %v rate %v", sim, tc.simDelta, tc.simRate)
			}
			if _, ok := sum.Stats["process_cpu_seconds_total"]; ok {
				t.Errorf("kept a family neither known nor included")
			}
		})
	}
}

func TestSummaryGolden(t *testing.T) {
	s := scrapeSteps(t)
	var out []Summary
	for _, w := range [][2]float64{{0, 2}, {2, 4}, {0, 4}, {10, 11}} {
		out = append(out, s.Summary(Window{From: at(w[0]), To: at(w[1])}))
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.json", got)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func TestOtherServers(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, sum Summary)
	}{
		{"legacy_vllm.prom", func(t *testing.T, sum Summary) {
			if !near(sum.KVCacheUsageMax, 0.75) || !near(sum.PrefixCacheHitRate, 0.25) || !near(sum.RequestsRunningMax, 3) {
				t.Errorf("legacy names: kv %v hit rate %v running %v", sum.KVCacheUsageMax, sum.PrefixCacheHitRate, sum.RequestsRunningMax)
			}
		}},
		{"sglang.prom", func(t *testing.T, sum Summary) {
			if !near(sum.KVCacheUsageMax, 0.28) || !near(sum.PrefixCacheHitRate, 0.5) || !near(sum.RequestsWaitingMax, 4) || !near(sum.RequestsRunningMax, 2) {
				t.Errorf("sglang: %+v", sum)
			}
			if !sum.Has[metrics.NamePrefixCacheHitRate] || sum.Has[metrics.NamePreemptions] || sum.Has[metrics.NameQueueTimeP95] {
				t.Errorf("sglang has %v", sum.Has)
			}
		}},
		{"sim.prom", func(t *testing.T, sum Summary) {
			if !sum.Has[HasOffloadHitRate] || !near(sum.OffloadHitRate, 0.75) || !near(sum.KVCacheUsageMax, 1) {
				t.Errorf("simulator offload hit rate %v kv %v", sum.OffloadHitRate, sum.KVCacheUsageMax)
			}
			if st, ok := sum.Stats["sim:offload_stored_blocks"]; !ok || st.Max != 42 {
				t.Errorf("simulator raw gauge %+v", st)
			}
		}},
		{"lmcache.prom", func(t *testing.T, sum Summary) {
			if !sum.Has[HasOffloadHitRate] || !near(sum.OffloadHitRate, 0.25) {
				t.Errorf("lmcache offload hit rate %v has %v", sum.OffloadHitRate, sum.Has[HasOffloadHitRate])
			}
			if st, ok := sum.Stats["lmcache:retrieve_hit_rate"]; !ok || !near(st.Mean, 0.25) {
				t.Errorf("included raw gauge %+v", st)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body := string(readFile(t, tc.file))
			r := NewRecorder([]string{"lmcache:retrieve_*"})
			// The same text twice, counters doubled the second time, so
			// every counter has a delta equal to its value.
			for i, mult := range []float64{1, 2} {
				text := scaleCounters(body, mult)
				if err := r.Ingest(at(float64(i)), strings.NewReader(text)); err != nil {
					t.Fatal(err)
				}
			}
			tc.check(t, r.Summary(Window{From: at(0), To: at(1)}))
		})
	}
}

// scaleCounters multiplies the values of *_total lines.
func scaleCounters(text string, m float64) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") && strings.Contains(f[0], "_total") {
			var v float64
			fmt.Sscan(f[1], &v)
			line = fmt.Sprintf("%s %g", f[0], v*m)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestQuantile(t *testing.T) {
	h := Histogram{Count: 50, Buckets: []Bucket{{0.1, 10}, {0.5, 30}, {1, 40}}}
	tests := []struct {
		name string
		q    float64
		h    Histogram
		want float64
	}{
		{"first bucket from zero", 0.1, h, 0.05},
		{"middle bucket", 0.5, h, 0.1 + 0.4*15/20},
		{"bucket edge", 0.8, h, 1},
		{"in +Inf: largest finite bound", 0.95, h, 1},
		{"negative first bound", 0.1, Histogram{Count: 2, Buckets: []Bucket{{-1, 1}, {1, 2}}}, -1},
		{"empty", 0.5, Histogram{}, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Quantile(tc.q, tc.h)
			if !(near(got, tc.want) || (math.IsNaN(got) && math.IsNaN(tc.want))) {
				t.Fatalf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	s := scrapeSteps(t)
	p := metrics.Point{NoData: metrics.NoDataSet{"ttft_p95": metrics.WhyNoSteadyTurn, metrics.NamePreemptions: metrics.WhyNotScraped}}
	s.Summary(Window{From: at(0), To: at(2)}).Apply(&p)
	if p.KVCacheUsageMax != 0.9 || p.PrefixCacheHitRate != 0.85 || p.Preemptions != 2 || p.QueueTimeP95 != 850*time.Millisecond {
		t.Fatalf("applied %v %v %v %v", p.KVCacheUsageMax, p.PrefixCacheHitRate, p.Preemptions, p.QueueTimeP95)
	}
	if want := (metrics.NoDataSet{"ttft_p95": metrics.WhyNoSteadyTurn}); fmt.Sprint(p.NoData) != fmt.Sprint(want) {
		t.Fatalf("NoData %v, want %v", p.NoData, want)
	}
	var empty metrics.Point
	NewRecorder(nil).Summary(Window{From: at(0), To: at(1)}).Apply(&empty)
	for _, n := range metrics.ServerNames {
		if !empty.NoData.Has(n) || empty.NoData.Reason(n) == "" {
			t.Fatalf("no scrapes, yet %s not marked no_data: %v", n, empty.NoData)
		}
	}
}

func TestDecompose(t *testing.T) {
	s := scrapeSteps(t)
	sum := s.Summary(Window{From: at(0), To: at(2)})
	sp, ok := sum.Decompose(time.Second)
	if !ok || sp.QueueMean != 250*time.Millisecond || !near(sp.QueueShare, 0.25) || sp.PrefillMean != 0 || !near(sp.OtherShare, 0.75) {
		t.Fatalf("split %+v ok %v", sp, ok)
	}
	if _, ok := NewRecorder(nil).Summary(Window{From: at(0), To: at(1)}).Decompose(time.Second); ok {
		t.Fatalf("decomposed without a queue histogram")
	}
}

func TestTimeline(t *testing.T) {
	ser := scrapeSteps(t).Stop()
	ts, vs := ser.Timeline(PrefixCacheQueries)
	// Rates per second between scrapes: 1000, 1000, reset to 500, 1000.
	want := []float64{1000, 1000, 500, 1000}
	if fmt.Sprint(vs) != fmt.Sprint(want) || len(ts) != len(want) || !ts[0].Equal(at(1)) {
		t.Fatalf("timeline %v at %v, want %v", vs, ts, want)
	}
	if _, vs := ser.Timeline(KVCacheUsage); fmt.Sprint(vs) != fmt.Sprint([]float64{0.1, 0.5, 0.9, 0.3, 0.6}) {
		t.Fatalf("gauge timeline %v", vs)
	}
	if _, vs := ser.Timeline(QueueTime); len(vs) != 4 || !near(vs[0], 0.05) {
		t.Fatalf("histogram timeline %v", vs)
	}
	b, err := json.Marshal(ser)
	if err != nil {
		t.Fatalf("series does not encode: %v", err)
	}
	var back Series
	if err := json.Unmarshal(b, &back); err != nil || len(back.Samples) != 5 || back.Kinds[QueueTime] != KindHistogram {
		t.Fatalf("series round trip: %v, %d samples", err, len(back.Samples))
	}
}

// TestBrokenEndpoints: an endpoint that never answers, answers 500, answers
// garbage or refuses connections is recorded as errors; nothing blocks, a
// Summary still comes back, and Stop returns promptly.
func TestBrokenEndpoints(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/metrics"
	}
	handlers := map[string]http.HandlerFunc{
		"never answers": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"500":           func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("vllm:x{le=\"1\" 12 }}}\n\x00\x01"))
		},
		"slow body": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("# TYPE a gauge\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"refused": nil,
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			url := ""
			if h == nil {
				url = refused()
			} else {
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				url = srv.URL + "/metrics"
			}
			interval := 100 * time.Millisecond
			begin := time.Now()
			s := Start(context.Background(), url, interval, nil, Access{})
			// A boundary scrape is bounded by the scrape timeout.
			callStart := time.Now()
			if err := s.ScrapeNow(context.Background()); err == nil {
				t.Fatalf("ScrapeNow succeeded against %s", name)
			}
			if took := time.Since(callStart); took > 5*time.Second {
				t.Fatalf("ScrapeNow took %v", took)
			}
			time.Sleep(3 * interval)
			stopStart := time.Now()
			ser := s.Stop()
			if took := time.Since(stopStart); took > 5*time.Second {
				t.Fatalf("Stop took %v", took)
			}
			if len(ser.Samples) < 2 {
				t.Fatalf("%d samples recorded", len(ser.Samples))
			}
			for _, smp := range ser.Samples {
				if smp.Err == "" {
					t.Fatalf("a sample without error from a broken endpoint: %+v", smp)
				}
			}
			sum := s.Summary(Window{From: begin, To: time.Now()})
			if sum.Errors < 2 || sum.LastError == "" || len(sum.Has) != 0 {
				t.Fatalf("summary errors %d (%q) has %v", sum.Errors, sum.LastError, sum.Has)
			}
			// Stop is idempotent and the loop is gone.
			n := len(s.Stop().Samples)
			time.Sleep(2 * interval)
			if m := len(s.Series().Samples); m != n {
				t.Fatalf("samples grew from %d to %d after Stop", n, m)
			}
		})
	}
}

func TestStopOnContext(t *testing.T) {
	srv := newSteppedServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := Start(ctx, srv.URL, 20*time.Millisecond, nil, Access{})
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Series().Samples) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	done := make(chan Series, 1)
	go func() { done <- s.Stop() }()
	select {
	case ser := <-done:
		if len(ser.Samples) < 2 || ser.Samples[0].Err != "" {
			t.Fatalf("samples %+v", ser.Samples)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after the context ended")
	}
}

func TestKeepRaw(t *testing.T) {
	tests := []struct {
		name    string
		include []string
		want    bool
	}{
		{"mrqa_sim_offload_hits_total", nil, true},
		{"sim:steps_total", nil, true},
		{"lmcache:local_cache_usage", []string{"lmcache:local_cache_usage"}, true},
		{"lmcache:local_cache_usage", []string{"lmcache:*"}, true},
		{"lmcache:local_cache_usage", []string{"lmcache:local"}, false},
		{"process_cpu_seconds_total", nil, false},
	}
	for _, tc := range tests {
		if got := keepRaw(tc.name, tc.include); got != tc.want {
			t.Errorf("keepRaw(%q, %v) = %v, want %v", tc.name, tc.include, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	s := newScraper("http://user:secret@127.0.0.1:1/metrics", time.Second, nil, time.Now)
	if got := s.Series().URL; strings.Contains(got, "secret") || !strings.Contains(got, "127.0.0.1:1/metrics") {
		t.Fatalf("series URL %q", got)
	}
}

// ingestAt feeds one exposition to a recorder at second sec.
func ingestAt(t *testing.T, r *Scraper, sec float64, text string) {
	t.Helper()
	if err := r.Ingest(at(sec), strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
}

// A gauge read only by the scrapes on a point's boundaries sees an idle
// server: with no reading while requests were in flight it has no data,
// never a reading of 0 %.
func TestGaugeNeedsABusyReading(t *testing.T) {
	idle := "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc 0\n"
	busy := "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc 0.75\n"
	cases := []struct {
		name    string
		reads   map[float64]string // second → exposition
		hasKV   bool
		max     float64
		missing string
	}{
		{"boundaries only", map[float64]string{0: idle, 1: idle}, false, 0, "not read while the point's requests were in flight (they ran 600ms; the scrape interval is 1s)"},
		{"one busy reading", map[float64]string{0: idle, 0.5: busy, 1: idle}, true, 0.75, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(nil)
			for _, sec := range []float64{0, 0.5, 1} {
				if text, ok := tc.reads[sec]; ok {
					ingestAt(t, r, sec, text)
				}
			}
			sum := r.Summary(Window{From: at(0), To: at(1), BusyFrom: at(0.2), BusyTo: at(0.8)})
			if sum.Has[metrics.NameKVCacheUsageMax] != tc.hasKV || sum.KVCacheUsageMax != tc.max || !strings.Contains(sum.Missing[metrics.NameKVCacheUsageMax], tc.missing) {
				t.Fatalf("has %v max %v missing %q; want %v %v %q", sum.Has[metrics.NameKVCacheUsageMax], sum.KVCacheUsageMax, sum.Missing[metrics.NameKVCacheUsageMax], tc.hasKV, tc.max, tc.missing)
			}
			var p metrics.Point
			sum.Apply(&p)
			if p.NoData.Has(metrics.NameKVCacheUsageMax) == tc.hasKV {
				t.Fatalf("point no_data %v", p.NoData)
			}
		})
	}
}

// When every observation sits in one bucket, the interpolated p95 is an
// artifact of the bucket's width: the bounds say what is known.
func TestHistogramP95Bounds(t *testing.T) {
	// vLLM's TTFT buckets; 10 requests of exactly 200 ms fall in (0.1, 0.25].
	hist := func(n int) string {
		var b strings.Builder
		b.WriteString("# TYPE vllm:time_to_first_token_seconds histogram\n")
		for _, le := range []string{"0.04", "0.06", "0.08", "0.1"} {
			fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{le=%q} 0\n", le)
		}
		for _, le := range []string{"0.25", "0.5", "+Inf"} {
			fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{le=%q} %d\n", le, n)
		}
		fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_sum %g\nvllm:time_to_first_token_seconds_count %d\n", 0.2*float64(n), n)
		return b.String()
	}
	r := NewRecorder(nil)
	ingestAt(t, r, 0, hist(0))
	ingestAt(t, r, 1, hist(10))
	sum := r.Summary(Window{From: at(0), To: at(1)})
	// The interpolated p95 is 242.5 ms although every request took 200 ms.
	if sum.ServerTTFTP95 != 242500*time.Microsecond || sum.ServerTTFTP95Bounds != (metrics.Bounds{Lo: 0.1, Hi: 0.25}) {
		t.Fatalf("server ttft p95 %v bounds %+v; want 242.5ms in (0.1, 0.25]", sum.ServerTTFTP95, sum.ServerTTFTP95Bounds)
	}
}

// The KV cache's capacity comes from the labels of vLLM's cache_config_info
// (blocks × block size, summed over engines) or SGLang's gauge; a
// num_gpu_blocks that is not a number yet says nothing.
func TestKVCapacity(t *testing.T) {
	info := func(labels ...string) string {
		s := "# TYPE vllm:cache_config_info gauge\n"
		for _, l := range labels {
			s += "vllm:cache_config_info{" + l + "} 1\n"
		}
		return s
	}
	cases := []struct {
		name string
		text string
		want float64 // 0: no capacity
	}{
		{"vllm", info(`block_size="16",cache_dtype="auto",num_gpu_blocks="8192"`), 131072},
		{"two engines", info(`block_size="16",engine="0",num_gpu_blocks="100"`, `block_size="16",engine="1",num_gpu_blocks="50"`), 2400},
		{"not profiled yet", info(`block_size="16",num_gpu_blocks="None"`), 0},
		{"sglang", "# TYPE sglang:max_total_num_tokens gauge\nsglang:max_total_num_tokens 500000\n", 500000},
		{"absent", "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 1\n", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(nil)
			for _, sec := range []float64{0, 0.5, 1} {
				ingestAt(t, r, sec, tc.text)
			}
			sum := r.Summary(Window{From: at(0), To: at(1), BusyFrom: at(0.2), BusyTo: at(0.8)})
			if sum.Has[HasKVCapacity] != (tc.want > 0) || sum.KVCapacityTokens != tc.want {
				t.Fatalf("capacity %v (has %v), want %v", sum.KVCapacityTokens, sum.Has[HasKVCapacity], tc.want)
			}
		})
	}
}

// A point too short for a scrape to land while its requests ran still has
// the KV capacity: it is configuration, stated by every scrape, and the
// scrapes on the point's boundaries state it too.
func TestKVCapacityNeedsNoBusyReading(t *testing.T) {
	text := "# TYPE vllm:cache_config_info gauge\nvllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"384\"} 1\n"
	r := NewRecorder(nil)
	ingestAt(t, r, 0, text)
	ingestAt(t, r, 1, text)
	sum := r.Summary(Window{From: at(0), To: at(1), BusyFrom: at(0.2), BusyTo: at(0.8)})
	if !sum.Has[HasKVCapacity] || sum.KVCapacityTokens != 6144 {
		t.Fatalf("capacity %v (has %v), want 6144", sum.KVCapacityTokens, sum.Has[HasKVCapacity])
	}
}

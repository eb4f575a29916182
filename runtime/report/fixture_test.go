package report

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// fakeSecret is planted where a buggy upstream might leak it; no page may
// contain it.
const fakeSecret = "sk-mrqa-planted-FAKE-9f8e7d6c"

var fixtureStart = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// pointSpec is what a fixture point varies.
type pointSpec struct {
	c, s   int
	p95    float64 // seconds; +Inf for a point whose failed turns pass 5%
	errors map[string]int
	server bool
}

// fixture builds a small results set in the shape of the seed's runs:
// latency grows with C×S until the server tips over.
func fixture(name string, specs []pointSpec, slo float64) *results.Results {
	r := &results.Results{
		SchemaVersion: results.SchemaVersion,
		Tool:          "mrqa",
		ToolVersion:   "v0.1.0-test",
		Scenario:      name,
		Title:         "Book critics against " + name,
		File: results.File{
			Path:   "scenarios/seed.hcl",
			SHA256: "3b1f0c9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
			Redacted: "variable \"api_key\" {\n  sensitive = true\n  default = \"(sensitive)\"\n}\n" +
				"target \"" + name + "\" {\n  base_url = \"http://127.0.0.1:8000/v1\"\n  api_key = var.api_key\n  # a leak the renderer must catch: " + fakeSecret + "\n}\n" +
				"# markup in a comment must stay text: </pre></script><script>alert(1)</script>\n",
		},
		Variables: []results.Var{
			{Name: "base_url", Value: "http://127.0.0.1:8000/v1", Source: "default"},
			{Name: "api_key", Value: fakeSecret, Sensitive: true, Source: "env"}, // must never show
		},
		Target: results.Target{
			Name: name, BaseURL: "http://critic:" + fakeSecret + "@127.0.0.1:8000/v1", Model: "Qwen/Qwen2.5-7B-Instruct-1M",
			API: "chat", Simulator: "a100-qwen7b", Clock: "virtual", UsageSupported: true,
		},
		Corpus: results.Corpus{Name: "gutenberg", Source: "/work/shared/corpus/gutenberg", Tokenizer: "cl100k_base",
			Documents: []results.Document{{ID: "pride", Tokens: 160000, SHA256: "aa"}, {ID: "moby", Tokens: 280000, SHA256: "bb"}}},
		Script: results.Script{Name: "critic", Questions: 3, MaxTokens: 100, Temperature: 0},
		Rounds: 3, Seed: 42, Assign: "distinct", Score: "sessions",
		Grid:     results.Grid{Concurrent: []int{1, 2, 3, 4}, Sequential: []int{1, 2, 3, 4}},
		SLOs:     []results.SLO{{Name: "ttft", Condition: fmt.Sprintf("ttft_p95 <= %gs", slo)}, {Name: "errors", Condition: "error_rate <= 0.05"}},
		Expect:   "max_sessions >= 12",
		Between:  results.Between{ResetPrefixCache: true, Cooldown: 2},
		Started:  fixtureStart,
		Finished: fixtureStart.Add(37 * time.Minute),
		Complete: true,
	}
	for i, sp := range specs {
		r.Points = append(r.Points, fixturePoint(sp, slo, fixtureStart.Add(time.Duration(i)*2*time.Minute)))
	}
	best := (*results.Point)(nil)
	for i := range r.Points {
		p := &r.Points[i]
		if !p.Passed {
			continue
		}
		r.Sweep.PointsPassed++
		if best == nil || p.Concurrent*p.Sequential > best.Concurrent*best.Sequential ||
			(p.Concurrent*p.Sequential == best.Concurrent*best.Sequential && p.Concurrent > best.Concurrent) {
			best = p
		}
	}
	r.Sweep.PointsRun = len(r.Points)
	r.ExpectOutcome = metrics.Fail
	if best != nil {
		n := best.Concurrent * best.Sequential
		r.Best = &results.Best{Concurrent: best.Concurrent, Sequential: best.Sequential, Sessions: n, Score: float64(n)}
		r.Sweep.MaxSessions, r.Sweep.BestConcurrent, r.Sweep.BestSequential = n, best.Concurrent, best.Sequential
		if n >= 12 {
			r.ExpectOutcome = metrics.Pass
		}
	}
	return r
}

func fixturePoint(sp pointSpec, slo float64, start time.Time) results.Point {
	sessions := sp.c * sp.s
	requests := sessions * 4
	errs := 0
	for _, n := range sp.errors {
		errs += n
	}
	inf := math.IsInf(sp.p95, 1)
	dur := func(sec float64) time.Duration {
		if math.IsInf(sec, 1) {
			return metrics.Inf
		}
		return time.Duration(sec * float64(time.Second))
	}
	p50 := sp.p95 * 0.6
	if inf {
		p50 = 1.5
	}
	m := metrics.Point{
		Concurrent: sp.c, Sequential: sp.s, Sessions: sessions,
		TTFTP50: dur(p50), TTFTP95: dur(sp.p95), TTFTP99: dur(sp.p95 * 1.2),
		TTFCP95: dur(sp.p95 * 1.05), ITLP95: 18 * time.Millisecond,
		Samples: sessions * 3, OpeningSamples: sessions,
		Requests: requests, Errors: errs, ErrorRate: float64(errs) / float64(requests),
		InputTokensPerS: 9000 + 1500*float64(sessions), OutputTokensPerS: 40 + 6*float64(sessions),
		CachedTokensRatio: 0.82,
	}
	if inf {
		m.TTFTP99 = metrics.Inf
	}
	ttftOK := !inf && sp.p95 <= slo
	errOK := m.ErrorRate <= 0.05
	out := func(ok bool) metrics.Outcome {
		if ok {
			return metrics.Pass
		}
		return metrics.Fail
	}
	p := results.Point{
		Concurrent: sp.c, Sequential: sp.s, Started: start, Duration: 95, Reset: true,
		Metrics: m,
		SLOs:    []results.SLOOutcome{{Name: "ttft", Outcome: out(ttftOK)}, {Name: "errors", Outcome: out(errOK)}},
		Passed:  ttftOK && errOK,
		Errors:  sp.errors,
		Records: fmt.Sprintf("points/c%d_s%d.jsonl", sp.c, sp.s),
		Load:    &metrics.Load{WorkingSetTokens: 133_000 * sessions, FollowUpPromptTokens: 132_000},
	}
	for turn := 0; turn <= 3; turn++ {
		f := 1.0
		if turn == 0 {
			f = 2.5 // the opening turn prefills the whole document
		}
		v := metrics.Seconds(f * p50)
		v95 := metrics.Seconds(f * sp.p95)
		if inf && turn > 0 {
			v95 = metrics.Seconds(math.Inf(1))
		}
		p.Turns = append(p.Turns, results.TurnStats{Turn: turn, Samples: sessions, TTFTP50: v, TTFTP95: v95, Cached: 0.8})
	}
	for q := 0; q <= 100; q++ {
		v := p50 * (0.3 + 1.4*float64(q)/100)
		if q >= 95 {
			v = sp.p95 * (1 + float64(q-95)/25)
		}
		if inf && q >= 90 {
			v = math.Inf(1)
		}
		p.CDF = append(p.CDF, metrics.Seconds(v))
	}
	if sp.server {
		f := func(x float64) *float64 { return &x }
		p.Server = &results.ServerSummary{
			KVCacheUsageMax: f(math.Min(1, 0.1*float64(sessions))), KVCacheUsageMean: f(math.Min(0.95, 0.07*float64(sessions))),
			KVCapacityTokens:   f(1_900_000),
			PrefixCacheHitRate: f(0.75), Preemptions: f(float64(max(0, sessions-10))), QueueTimeP95: f(0.01 * float64(sessions)),
			QueueTimeMean: f(0.004 * float64(sessions)), ServerTTFTP95: f(0.9 * sp.p95), QueueShare: f(math.Min(1.2, 0.05*float64(sessions))),
			Extra: map[string]float64{"vllm:num_requests_waiting_max": float64(sessions / 3)},
		}
	}
	return p
}

// vllmFixture is a full 4×4 grid whose best point is C=4, S=3 (12 sessions)
// and whose C=3, S=4 point has failed turns (ttft_p95 = +∞).
func vllmFixture() *results.Results {
	var specs []pointSpec
	for c := 1; c <= 4; c++ {
		for s := 1; s <= 4; s++ {
			sp := pointSpec{c: c, s: s, p95: 0.3 + 0.04*float64(c*s)}
			switch {
			case c == 3 && s == 4:
				sp.p95 = math.Inf(1)
				sp.errors = map[string]int{metrics.ErrTimeoutFirstToken: 6, "http_500": 2}
			case c*s >= 16:
				sp.p95 = 33.5
			}
			specs = append(specs, sp)
		}
	}
	r := fixture("seed-vllm", specs, 2)
	return r
}

// lmcacheFixture is a frontier search over the same grid whose best point is
// C=4, S=4; three points were implied, not measured, and every measured point
// has server metrics. It ran on the real clock (the server's queue-time and
// TTFT histograms exist only there).
func lmcacheFixture() *results.Results {
	var specs []pointSpec
	for c := 1; c <= 4; c++ {
		for s := 1; s <= 4; s++ {
			if c+s <= 3 { // implied by the search
				continue
			}
			specs = append(specs, pointSpec{c: c, s: s, p95: 0.45 + 0.05*float64(c*s), server: true})
		}
	}
	r := fixture("seed-lmcache", specs, 2)
	r.Between = results.Between{}
	r.Target.Clock = spec.ClockReal
	for i := range r.Points {
		r.Points[i].Reset = false
	}
	r.Search = &results.Search{
		Kind:       "frontier",
		InGridBest: r.Best,
		Implied: []results.ImpliedPoint{
			{Concurrent: 1, Sequential: 1, Passed: true},
			{Concurrent: 1, Sequential: 2, Passed: true},
			{Concurrent: 2, Sequential: 1, Passed: true},
		},
	}
	for _, p := range r.Points {
		r.Search.Order = append(r.Search.Order, [2]int{p.Concurrent, p.Sequential})
	}
	r.ServerSeries = fixtureSeries(r, 10*time.Second)
	return r
}

// fixtureSeries is what scraping the target every interval over the run
// would record: KV usage, running and waiting requests growing with each
// point's sessions, prefix-cache counters whose hit rate collapses on
// failing points, preemptions past 10 sessions, queue-time and TTFT
// histograms, and every 37th scrape failing.
func fixtureSeries(r *results.Results, interval time.Duration) *promscrape.Series {
	ser := &promscrape.Series{
		URL: "http://metrics:" + fakeSecret + "@127.0.0.1:8000/metrics",
		Kinds: map[string]string{
			promscrape.KVCacheUsage: promscrape.KindGauge, promscrape.RequestsRunning: promscrape.KindGauge,
			promscrape.RequestsWaiting: promscrape.KindGauge, promscrape.PrefixCacheQueries: promscrape.KindCounter,
			promscrape.PrefixCacheHits: promscrape.KindCounter, promscrape.Preemptions: promscrape.KindCounter,
			promscrape.QueueTime: promscrape.KindHistogram, promscrape.TTFT: promscrape.KindHistogram,
		},
	}
	end := r.Started
	for _, p := range r.Points {
		if e := p.Started.Add(time.Duration(p.Duration * float64(time.Second))); e.After(end) {
			end = e
		}
	}
	var queries, hits, preempt float64
	var queue, ttft promscrape.Histogram
	dt := interval.Seconds()
	for k, t := 0, r.Started; !t.After(end); k, t = k+1, t.Add(interval) {
		var cur *results.Point
		for i := range r.Points {
			p := &r.Points[i]
			if !t.Before(p.Started) && t.Before(p.Started.Add(time.Duration(p.Duration*float64(time.Second)))) {
				cur = p
			}
		}
		if k%37 == 36 {
			ser.Samples = append(ser.Samples, promscrape.Sample{T: t, Err: "context deadline exceeded"})
			continue
		}
		sessions, rate, qmean := 0.0, 0.0, 0.0
		if cur != nil {
			sessions = float64(cur.Concurrent * cur.Sequential)
			rate = 0.9
			if !cur.Passed {
				rate = 0.25
			}
			qmean = 0.004 * sessions
		}
		wiggle := float64(k*7%5) * 0.01
		q := 4000 * sessions * dt
		queries += q
		hits += q * rate
		preempt += math.Max(0, sessions-10) * 0.05 * dt
		n := sessions * dt / 2
		queue = addObs(queue, n, qmean)
		ttft = addObs(ttft, n, 0.2+qmean*1.5)
		ser.Samples = append(ser.Samples, promscrape.Sample{T: t, Took: 3 * time.Millisecond,
			Values: map[string]float64{
				promscrape.KVCacheUsage:       math.Min(1, 0.06*sessions+wiggle),
				promscrape.RequestsRunning:    math.Min(sessions, 8),
				promscrape.RequestsWaiting:    math.Max(0, sessions-8),
				promscrape.PrefixCacheQueries: queries, promscrape.PrefixCacheHits: hits,
				promscrape.Preemptions: preempt,
			},
			Histograms: map[string]promscrape.Histogram{promscrape.QueueTime: queue, promscrape.TTFT: ttft},
		})
	}
	return ser
}

// addObs adds n observations of value v to a cumulative histogram with
// buckets at 0.1 s and 1 s.
func addObs(h promscrape.Histogram, n, v float64) promscrape.Histogram {
	if len(h.Buckets) == 0 {
		h.Buckets = []promscrape.Bucket{{Le: 0.1}, {Le: 1}}
	}
	b := slices.Clone(h.Buckets)
	for i := range b {
		if v <= b[i].Le {
			b[i].Count += n
		}
	}
	return promscrape.Histogram{Count: h.Count + n, Sum: h.Sum + n*v, Buckets: b}
}

// bigFixture is a 10×10 grid summarising records requests in all: what a
// large sweep leaves in results.json.
func bigFixture(records int) *results.Results {
	var specs []pointSpec
	for c := 1; c <= 10; c++ {
		for s := 1; s <= 10; s++ {
			sp := pointSpec{c: c, s: s, p95: 0.2 * math.Pow(1.08, float64(c*s)), server: true}
			if c*s > 70 {
				sp.p95 = math.Inf(1)
				sp.errors = map[string]int{metrics.ErrTimeoutFirstToken: c * s / 10, metrics.ErrStreamCut: 1}
			}
			specs = append(specs, sp)
		}
	}
	r := fixture("big-grid", specs, 2)
	r.Grid = results.Grid{Concurrent: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Sequential: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	per := records / len(r.Points)
	r.Rounds = 9
	for i := range r.Points {
		p := &r.Points[i]
		p.Metrics.Requests = per
		p.Metrics.Samples = per * 9 / 10
		base := p.Turns[1]
		p.Turns = p.Turns[:1]
		for t := 1; t <= r.Rounds; t++ {
			p.Turns = append(p.Turns, results.TurnStats{Turn: t, Samples: per / 10, TTFTP50: base.TTFTP50, TTFTP95: base.TTFTP95 * metrics.Seconds(1+0.02*float64(t))})
		}
		for s := 0; s < p.Concurrent*p.Sequential; s++ {
			p.Sessions = append(p.Sessions, results.SessionDocument{Session: fmt.Sprintf("c%ds%d", s/p.Sequential+1, s%p.Sequential+1), Document: "pride"})
		}
	}
	// A scrape every second over the whole run (100 points, 3 h 20 min).
	r.ServerSeries = fixtureSeries(r, time.Second)
	return r
}

// sparseFixture is what an import of LMBenchmark files can give: points with
// a few metrics, no turns, no distribution, no SLO outcomes, no grid.
func sparseFixture() *results.Results {
	r := &results.Results{
		Scenario: "lmbench-import",
		SLOs:     []results.SLO{{Name: "ttft", Condition: "ttft_p95 <= 2s"}},
		Complete: true,
		Target:   results.Target{UsageSupported: true},
		Points: []results.Point{
			{Concurrent: 1, Sequential: 1, Passed: true, Metrics: metrics.Point{TTFTP95: 400 * time.Millisecond, Samples: 3, Requests: 4}},
			{Concurrent: 2, Sequential: 1, Passed: true, Metrics: metrics.Point{TTFTP95: 900 * time.Millisecond, Samples: 6, Requests: 8}},
			{Concurrent: 2, Sequential: 2, Metrics: metrics.Point{TTFTP95: 3 * time.Second, Samples: 12, Requests: 16}},
		},
		Best: &results.Best{Concurrent: 2, Sequential: 1, Sessions: 2, Score: 2},
	}
	return r
}

// emptyFixture is a sweep interrupted before its first point finished.
func emptyFixture() *results.Results {
	r := vllmFixture()
	r.Points, r.Best, r.Complete, r.Stopped = nil, nil, false, "interrupted"
	r.ExpectOutcome = ""
	return r
}

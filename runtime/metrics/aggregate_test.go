package metrics

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func TestPercentile(t *testing.T) {
	// Expected values computed by hand with numpy's linear rule:
	// pos = q*(n-1); x[lo] + (x[hi]-x[lo])*(pos-lo).
	cases := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
		ok   bool
	}{
		{"empty", nil, 0.95, 0, false},
		{"one", []time.Duration{ms(7)}, 0.95, ms(7), true},
		{"two p50", []time.Duration{ms(1), ms(3)}, 0.5, ms(2), true},
		{"two p95", []time.Duration{ms(1), ms(3)}, 0.95, ms(2.9), true},
		{"five p95", []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(10)}, 0.95, ms(8.8), true}, // pos 3.8: 4+6*0.8
		{"five p50", []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(10)}, 0.5, ms(3), true},
		{"q0", []time.Duration{ms(1), ms(2)}, 0, ms(1), true},
		{"q1", []time.Duration{ms(1), ms(2)}, 1, ms(2), true},
		{"inf above interpolates to inf", []time.Duration{ms(1), ms(2), Inf}, 0.95, Inf, true},   // pos 1.9
		{"inf exact rank below is finite", []time.Duration{ms(1), ms(2), Inf}, 0.5, ms(2), true}, // pos 1.0
		{"twenty with one inf p95", append(seq(19), Inf), 0.95, Inf, true},                       // pos 18.05: 19 + (Inf-19)*.05
		{"twenty-one with one inf p95", append(seq(20), Inf), 0.95, ms(20), true},                // pos 19.0 exactly
		{"twenty with one inf p90", append(seq(19), Inf), 0.90, ms(18.1), true},                  // pos 17.1: 18+1*0.1
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Percentile(tc.in, tc.q)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("Percentile(%v, %v) = %v, %v; want %v, %v", tc.in, tc.q, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// seq returns 1ms, 2ms, … n ms.
func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = ms(float64(i + 1))
	}
	return out
}

func TestAggregateHandComputed(t *testing.T) {
	// One worker, two sessions, two rounds: 6 requests, one steady turn failed.
	recs := []Record{
		{Session: "c1s1", Turn: 0, Start: 0, TTFT: 1.0, TTFC: 1.0, End: 2.0, Duration: 2.0, PromptTokens: 1000, CompletionTokens: 11},
		{Session: "c1s2", Turn: 0, Start: 2, TTFT: 1.2, TTFC: 1.2, End: 2.2, Duration: 2.2, PromptTokens: 1000, CompletionTokens: 11},
		{Session: "c1s1", Turn: 1, Start: 4.2, TTFT: 0.1, TTFC: 0.2, End: 1.1, Duration: 1.1, PromptTokens: 1100, CompletionTokens: 11, CachedTokens: 1000},
		{Session: "c1s2", Turn: 1, Start: 5.3, TTFT: 0.3, TTFC: 0.3, End: 0.8, Duration: 0.8, PromptTokens: 1100, CompletionTokens: 6, CachedTokens: 900},
		{Session: "c1s1", Turn: 2, Start: 6.1, Duration: 0.5, Error: ErrStreamCut},
		{Session: "c1s2", Turn: 2, Start: 6.6, TTFT: 0.2, TTFC: 0.2, End: 1.2, Duration: 1.4, PromptTokens: 1200, CompletionTokens: 11, CachedTokens: 1100},
		{Session: "c1s2", Turn: 2, Start: 8, Error: ErrCanceled}, // ignored
	}
	p := Aggregate(1, 2, recs)
	if p.Sessions != 2 || p.Requests != 6 || p.Errors != 1 || p.Samples != 4 || p.OpeningSamples != 2 {
		t.Fatalf("counts: sessions %d requests %d errors %d samples %d opening %d", p.Sessions, p.Requests, p.Errors, p.Samples, p.OpeningSamples)
	}
	if want := 1.0 / 6; math.Abs(p.ErrorRate-want) > 1e-12 {
		t.Errorf("error_rate = %v, want %v", p.ErrorRate, want)
	}
	// steady ttft sorted: 0.1 0.2 0.3 Inf. p50: pos 1.5 → 0.25; p95: pos 2.85 → Inf.
	if p.TTFTP50 != ms(250) || p.TTFTP95 != Inf || p.TTFTMax != Inf || p.TTFTMin != ms(100) || p.TTFTMean != Inf {
		t.Errorf("ttft: p50 %v p95 %v max %v min %v mean %v", p.TTFTP50, p.TTFTP95, p.TTFTMax, p.TTFTMin, p.TTFTMean)
	}
	// ttft_ok: 0.1 0.2 0.3 → p95 pos 1.9 → 0.29; mean 0.2.
	if p.TTFTOKP95 != ms(290) || p.TTFTOKMean != ms(200) {
		t.Errorf("ttft_ok: p95 %v mean %v", p.TTFTOKP95, p.TTFTOKMean)
	}
	// itl: (1.1-0.1)/10 = 0.1, (0.8-0.3)/5 = 0.1, (1.2-0.2)/10 = 0.1.
	if p.ITLP50 != ms(100) || p.ITLMax != ms(100) {
		t.Errorf("itl p50 %v max %v", p.ITLP50, p.ITLMax)
	}
	// cached ratio over successful steady turns: 3000/3400.
	if want := 3000.0 / 3400; math.Abs(p.CachedTokensRatio-want) > 1e-12 {
		t.Errorf("cached_tokens_ratio %v want %v", p.CachedTokensRatio, want)
	}
	// span: first start 0, last end max(6.6+1.4, 6.1+0.5, …) = 8.0.
	if want := float64(1000+1000+1100+1100+1200) / 8; math.Abs(p.InputTokensPerS-want) > 1e-9 {
		t.Errorf("input tok/s %v want %v", p.InputTokensPerS, want)
	}
	if want := 6.0 / 8; math.Abs(p.RequestsPerS-want) > 1e-12 {
		t.Errorf("requests/s %v want %v", p.RequestsPerS, want)
	}
	if p.OpeningTTFTP50 != ms(1100) {
		t.Errorf("opening p50 %v", p.OpeningTTFTP50)
	}
	if !p.NoData.Has("kv_cache_usage_max") || p.NoData.Has("ttft_p95") {
		t.Errorf("no_data flags wrong: %v", p.NoData)
	}
}

func TestAggregateNoSteadyTurns(t *testing.T) {
	p := Aggregate(1, 1, []Record{{Turn: 0, TTFT: 1, End: 2, Duration: 2}})
	if p.NoData["ttft_p95"] != WhyNoSteadyTurn || p.NoData["cached_tokens_ratio"] != WhyNoSteadyTurn || p.Samples != 0 {
		t.Fatalf("want no data for steady names, got %v", p.NoData)
	}
	c, err := Compile("ttft_p95 <= 2s", ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Evaluate(&p); got.Outcome != NoData || got.Reason != "ttft_p95: "+WhyNoSteadyTurn {
		t.Fatalf("verdict %+v, want no_data naming ttft_p95 and why", got)
	}
	c, err = Compile("!(ttft_p95 > 2s)", ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Eval(&p); got != NoData {
		t.Fatalf("negated outcome %v, want no_data", got)
	}
}

func TestPointJSONRoundTrip(t *testing.T) {
	p := Point{Concurrent: 2, Sequential: 3, Sessions: 6, TTFTP95: Inf, TTFTP50: 1500 * time.Millisecond, ErrorRate: 0.25}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["ttft_p95"] != "+Inf" || m["ttft_p50"] != 1.5 || m["error_rate"] != 0.25 {
		t.Fatalf("encoded: %s", b)
	}
	var back Point
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.TTFTP95 != Inf || back.TTFTP50 != p.TTFTP50 || back.Sessions != 6 {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestCDF(t *testing.T) {
	recs := []Record{{Turn: 0, TTFT: 9}, {Turn: 1, TTFT: 1}, {Turn: 1, TTFT: 2}, {Turn: 2, Error: ErrConnect}}
	cdf := CDF(recs)
	if len(cdf) != 101 || cdf[0] != 1 || cdf[50] != 2 || !math.IsInf(float64(cdf[100]), 1) {
		t.Fatalf("cdf: %v", cdf)
	}
}

// cached_tokens_ratio is a measurement only over turns whose usage reported
// cached tokens; with none it has no data rather than reading 0.
func TestAggregateCachedRatioUnknown(t *testing.T) {
	steady := func(prompt, cached int, clientCounted, unknown bool) Record {
		return Record{Turn: 1, TTFT: 0.1, TTFC: 0.1, End: 0.5, Duration: 0.6, PromptTokens: prompt, CompletionTokens: 5,
			CachedTokens: cached, ClientCounted: clientCounted, CachedUnknown: unknown}
	}
	cases := []struct {
		name   string
		recs   []Record
		want   float64
		noData bool
	}{
		{"reported", []Record{steady(1000, 800, false, false), steady(1000, 600, false, false)}, 0.7, false},
		{"reported zero", []Record{steady(1000, 0, false, false)}, 0, false},
		{"usage without details", []Record{steady(1000, 0, false, true), steady(1000, 0, false, true)}, 0, true},
		{"client counted", []Record{steady(1000, 0, true, true)}, 0, true},
		{"client counted, flag unset", []Record{steady(1000, 0, true, false)}, 0, true},
		{"mixed: unknown turns left out", []Record{steady(1000, 900, false, false), steady(3000, 0, false, true), steady(500, 0, true, true)}, 0.9, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Aggregate(1, 1, tc.recs)
			if p.NoData.Has("cached_tokens_ratio") != tc.noData || math.Abs(p.CachedTokensRatio-tc.want) > 1e-12 {
				t.Fatalf("cached_tokens_ratio %v no_data %v; want %v %v", p.CachedTokensRatio, p.NoData["cached_tokens_ratio"], tc.want, tc.noData)
			}
		})
	}
}

// itl is defined for every successful turn with two or more tokens: a turn
// whose tokens all came in one event has an ITL of 0, not none.
func TestAggregateITLOneEvent(t *testing.T) {
	recs := []Record{
		{Turn: 1, TTFT: 0.2, TTFC: 0.2, End: 0.2, Duration: 0.3, PromptTokens: 10, CompletionTokens: 8},
		{Turn: 1, TTFT: 0.2, TTFC: 0.2, End: 0.9, Duration: 1.0, PromptTokens: 10, CompletionTokens: 8},
		{Turn: 1, TTFT: 0.2, TTFC: 0.2, End: 0.2, Duration: 0.3, PromptTokens: 10, CompletionTokens: 1}, // undefined
	}
	p := Aggregate(1, 1, recs)
	// itl values: 0 and 0.7/7 = 0.1; mean 0.05.
	if p.NoData.Has("itl_p50") || p.ITLMin != 0 || p.ITLMax != ms(100) || p.ITLMean != ms(50) {
		t.Fatalf("itl min %v max %v mean %v no_data %v", p.ITLMin, p.ITLMax, p.ITLMean, p.NoData["itl_p50"])
	}
}

// A server gauge can read NaN (the Prometheus text format allows it); one
// such figure must not make results.json unwritable. It is written as no data.
func TestPointJSONNonFinite(t *testing.T) {
	p := Point{Concurrent: 1, KVCacheUsageMax: math.NaN(), PrefixCacheHitRate: math.Inf(1), ErrorRate: 0.5, NoData: NoDataSet{"queue_time_p95": WhyNotScraped}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back Point
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want := NoDataSet{"kv_cache_usage_max": WhyNotFinite, "prefix_cache_hit_rate": WhyNotFinite, "queue_time_p95": WhyNotScraped}
	if len(back.NoData) != len(want) || back.KVCacheUsageMax != 0 || back.PrefixCacheHitRate != 0 || back.ErrorRate != 0.5 {
		t.Fatalf("decoded %s as %+v", b, back)
	}
	for k, why := range want {
		if back.NoData[k] != why {
			t.Errorf("no_data[%s] = %q, want %q: %s", k, back.NoData[k], why, b)
		}
	}
	if len(p.NoData) != 1 {
		t.Errorf("marshalling changed the point's own no_data: %v", p.NoData)
	}
}

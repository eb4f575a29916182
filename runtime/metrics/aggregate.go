package metrics

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted values by linear
// interpolation between closest ranks, numpy's default. Inf entries stay
// infinite: any interpolation that touches one is Inf. ok is false for an
// empty slice.
func Percentile(sorted []time.Duration, q float64) (d time.Duration, ok bool) {
	n := len(sorted)
	if n == 0 {
		return 0, false
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	frac := pos - float64(lo)
	if lo >= n-1 {
		return sorted[n-1], true
	}
	if frac == 0 {
		return sorted[lo], true
	}
	a, b := sorted[lo], sorted[lo+1]
	if a == Inf || b == Inf {
		return Inf, true
	}
	return a + time.Duration(math.Round(float64(b-a)*frac)), true
}

// Summarize computes the Stats of values (sorted in place). ok is false when
// there are none.
func Summarize(values []time.Duration) (s Stats, ok bool) {
	if len(values) == 0 {
		return Stats{}, false
	}
	slices.Sort(values)
	s.Min, s.Max = values[0], values[len(values)-1]
	var sum float64
	for _, v := range values {
		if v == Inf {
			sum = math.Inf(1)
			break
		}
		sum += float64(v)
	}
	if math.IsInf(sum, 1) {
		s.Mean = Inf
	} else {
		s.Mean = time.Duration(math.Round(sum / float64(len(values))))
	}
	s.P50, _ = Percentile(values, 0.50)
	s.P90, _ = Percentile(values, 0.90)
	s.P95, _ = Percentile(values, 0.95)
	s.P99, _ = Percentile(values, 0.99)
	return s, true
}

// The Point names that come from the target's /metrics (package promscrape
// fills them), one constant each.
const (
	NameKVCacheUsageMax    = "kv_cache_usage_max"
	NamePrefixCacheHitRate = "prefix_cache_hit_rate"
	NamePreemptions        = "preemptions"
	NameQueueTimeP95       = "queue_time_p95"
)

// ServerNames are the Point names that come from the target's /metrics; they
// have no data until a scrape fills them.
var ServerNames = [...]string{NameKVCacheUsageMax, NamePrefixCacheHitRate, NamePreemptions, NameQueueTimeP95}

// Aggregate computes a point's metrics from its records. The steady window is
// every turn but the opening one. Canceled requests (an interrupted run) are
// left out entirely: they say nothing about the server.
func Aggregate(c, s int, recs []Record) Point {
	p := Point{Concurrent: c, Sequential: s, Sessions: c * s, NoData: NoDataSet{}}
	var ttft, ttftOK, ttfc, lat, itl, open []time.Duration
	var first, last float64 = math.Inf(1), math.Inf(-1)
	var promptAll, complAll, cached, promptSteady, okSteady, sent int
	for i := range recs {
		r := &recs[i]
		if r.Error == ErrCanceled {
			continue
		}
		p.Requests++
		if r.Sent() {
			sent++
		}
		first = min(first, r.Start)
		last = max(last, r.Start+r.Duration)
		ok := r.OK()
		counted := ok && r.UsageInvalid == "" // token counts worth using
		if !ok {
			p.Errors++
		} else if counted {
			promptAll += r.PromptTokens
			complAll += r.CompletionTokens
		}
		t := r.TTFTOrInf()
		if r.Turn == 0 {
			open = append(open, t)
			continue
		}
		ttft = append(ttft, t)
		if !ok {
			ttfc = append(ttfc, Inf)
			continue
		}
		okSteady++
		if t != Inf {
			ttftOK = append(ttftOK, t)
		}
		if r.TTFC > 0 {
			ttfc = append(ttfc, Duration(r.TTFC))
		} else {
			ttfc = append(ttfc, Inf) // never delivered content
		}
		if r.End > 0 {
			lat = append(lat, Duration(r.End))
		}
		// Tokens that all came in one event have an ITL of 0, still a value.
		if counted && r.CompletionTokens >= 2 && r.End >= r.TTFT && r.TTFT > 0 {
			itl = append(itl, Duration((r.End-r.TTFT)/float64(r.CompletionTokens-1)))
		}
		// Only a server that reported cached tokens measured them: a turn
		// without that report would count its prompt as uncached.
		if counted && !r.ClientCounted && !r.CachedUnknown {
			cached += r.CachedTokens
			promptSteady += r.PromptTokens
		}
	}
	p.Samples = len(ttft)
	p.OpeningSamples = len(open)
	fill := func(prefix string, vals []time.Duration, why string, dst ...*time.Duration) {
		st, ok := Summarize(vals)
		if !ok {
			for _, suf := range statNames {
				p.NoData[prefix+suf] = why
			}
			return
		}
		for i, v := range []time.Duration{st.Min, st.Mean, st.P50, st.P90, st.P95, st.P99, st.Max} {
			*dst[i] = v
		}
	}
	noOK := WhyNoSuccessfulSteady
	if len(ttft) == 0 {
		noOK = WhyNoSteadyTurn
	}
	fill("ttft_", ttft, WhyNoSteadyTurn, &p.TTFTMin, &p.TTFTMean, &p.TTFTP50, &p.TTFTP90, &p.TTFTP95, &p.TTFTP99, &p.TTFTMax)
	fill("ttft_ok_", ttftOK, noOK, &p.TTFTOKMin, &p.TTFTOKMean, &p.TTFTOKP50, &p.TTFTOKP90, &p.TTFTOKP95, &p.TTFTOKP99, &p.TTFTOKMax)
	fill("ttfc_", ttfc, WhyNoSteadyTurn, &p.TTFCMin, &p.TTFCMean, &p.TTFCP50, &p.TTFCP90, &p.TTFCP95, &p.TTFCP99, &p.TTFCMax)
	fill("latency_", lat, noOK, &p.LatencyMin, &p.LatencyMean, &p.LatencyP50, &p.LatencyP90, &p.LatencyP95, &p.LatencyP99, &p.LatencyMax)
	fill("itl_", itl, WhyNoITL, &p.ITLMin, &p.ITLMean, &p.ITLP50, &p.ITLP90, &p.ITLP95, &p.ITLP99, &p.ITLMax)
	fill("opening_ttft_", open, WhyNoOpening, &p.OpeningTTFTMin, &p.OpeningTTFTMean, &p.OpeningTTFTP50, &p.OpeningTTFTP90, &p.OpeningTTFTP95, &p.OpeningTTFTP99, &p.OpeningTTFTMax)

	if p.Requests > 0 {
		p.ErrorRate = float64(p.Errors) / float64(p.Requests)
	} else {
		p.NoData["error_rate"] = WhyNoRequest
	}
	if span := last - first; p.Requests > 0 && span > 0 {
		p.InputTokensPerS = float64(promptAll) / span
		p.OutputTokensPerS = float64(complAll) / span
		p.RequestsPerS = float64(sent) / span // a question never asked was not a request
	} else {
		p.NoData["input_tokens_per_s"] = WhyNoSpan
		p.NoData["output_tokens_per_s"] = WhyNoSpan
		p.NoData["requests_per_s"] = WhyNoSpan
	}
	if promptSteady > 0 {
		p.CachedTokensRatio = float64(cached) / float64(promptSteady)
	} else if okSteady == 0 {
		p.NoData["cached_tokens_ratio"] = noOK
	} else {
		p.NoData["cached_tokens_ratio"] = WhyCachedUnreported
	}
	for _, n := range ServerNames {
		p.NoData[n] = WhyNotScraped
	}
	return p
}

var statNames = [...]string{"min", "mean", "p50", "p90", "p95", "p99", "max"}

// CDF returns the steady-window TTFT quantiles at 0%, 1%, …, 100% (failed
// turns as +Inf), or nil when there are no steady turns.
func CDF(recs []Record) []Seconds {
	var v []time.Duration
	for i := range recs {
		r := &recs[i]
		if r.Turn == 0 || r.Error == ErrCanceled {
			continue
		}
		v = append(v, r.TTFTOrInf())
	}
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	out := make([]Seconds, 101)
	for i := range out {
		d, _ := Percentile(v, float64(i)/100)
		out[i] = Sec(d)
	}
	return out
}

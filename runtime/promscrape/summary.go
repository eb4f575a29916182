package promscrape

import (
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// Stat is one stored name's figures over a window. Only the fields of its
// Kind are set.
type Stat struct {
	Kind    string `json:"kind"`
	Samples int    `json:"samples"` // scrapes the figures come from

	// Gauges: over the scrapes inside the window.
	Max  float64 `json:"max,omitempty"`
	Mean float64 `json:"mean,omitempty"`

	// Counters: increase over the window (a counter that went down was reset
	// and counts from zero again), and that increase per second.
	Delta float64 `json:"delta,omitempty"`
	Rate  float64 `json:"rate,omitempty"`

	// Histograms: observations in the window, their sum and quantiles,
	// interpolated within buckets as Prometheus's histogram_quantile does.
	Count float64 `json:"count,omitempty"`
	Sum   float64 `json:"sum,omitempty"`
	P50   float64 `json:"p50,omitempty"`
	P90   float64 `json:"p90,omitempty"`
	P95   float64 `json:"p95,omitempty"`
	P99   float64 `json:"p99,omitempty"`
	// P95Lo and P95Hi bound the bucket the p95 lies in: the true p95 is
	// somewhere in (P95Lo, P95Hi]; P95 interpolates inside it. P95Hi is
	// +Inf (not written) when the rank falls past the last finite bucket.
	P95Lo float64 `json:"p95_lo,omitempty"`
	P95Hi float64 `json:"p95_hi,omitempty"`
}

// Keys of Summary.Has beyond the Point names.
const (
	HasOffloadHitRate        = "offload_hit_rate"
	HasExternalPrefixHitRate = "external_prefix_hit_rate"
	HasPrefillTime           = "prefill_time"
	HasServerTTFT            = "server_ttft"
	HasRequestsRunning       = "requests_running"
	HasRequestsWaiting       = "requests_waiting"
	HasKVCapacity            = "kv_capacity_tokens"
)

// Summary is a grid point's server metrics. It never reaches results.json as
// it is: the runtime copies its figures into the results package's
// ServerSummary, durations in seconds like metrics.Point's. Its own JSON form
// (which this package's golden test pins) differs: the time.Duration fields
// are integer nanoseconds, encoding/json's default, while the Bounds are
// seconds.
type Summary struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Scrapes   int       `json:"scrapes"`              // successful scrapes inside [From, To]
	Errors    int       `json:"errors"`               // failed scrapes inside [From, To]
	LastError string    `json:"last_error,omitempty"` // the last of them

	KVCacheUsageMax float64 `json:"kv_cache_usage_max"`
	// KVCapacityTokens is the GPU KV cache's size in tokens, as the server
	// states it (see the family KVCapacityTokens).
	KVCapacityTokens    float64 `json:"kv_capacity_tokens,omitempty"`
	KVCacheUsageMean    float64 `json:"kv_cache_usage_mean"`
	RequestsRunningMax  float64 `json:"requests_running_max"`
	RequestsWaitingMax  float64 `json:"requests_waiting_max"`
	RequestsWaitingMean float64 `json:"requests_waiting_mean"`
	// Prefix cache: deltas of the token counters (0 when the server exports
	// only a rate gauge), and hits/queries over the window, else the rate
	// gauge's mean.
	PrefixCacheQueries float64       `json:"prefix_cache_queries"`
	PrefixCacheHits    float64       `json:"prefix_cache_hits"`
	PrefixCacheHitRate float64       `json:"prefix_cache_hit_rate"`
	Preemptions        float64       `json:"preemptions"`
	QueueTimeMean      time.Duration `json:"queue_time_mean"`
	QueueTimeP50       time.Duration `json:"queue_time_p50"`
	QueueTimeP95       time.Duration `json:"queue_time_p95"`
	// QueueTimeP95Bounds is the histogram bucket QueueTimeP95 lies in.
	QueueTimeP95Bounds    metrics.Bounds `json:"queue_time_p95_bounds"`
	PrefillTimeMean       time.Duration  `json:"prefill_time_mean"`
	PrefillTimeP95        time.Duration  `json:"prefill_time_p95"`
	ServerTTFTMean        time.Duration  `json:"server_ttft_mean"`
	ServerTTFTP95         time.Duration  `json:"server_ttft_p95"`
	ServerTTFTP95Bounds   metrics.Bounds `json:"server_ttft_p95_bounds"`
	OffloadHitRate        float64        `json:"offload_hit_rate"`         // LMCache hit/requested tokens
	ExternalPrefixHitRate float64        `json:"external_prefix_hit_rate"` // vLLM KV-connector hits/queries
	// Requests is how many observations the queue-time (else the TTFT)
	// histogram gained in the window.
	Requests float64 `json:"requests"`

	// Has says which figures had data: the Point names (metrics.NameKVCacheUsageMax,
	// ...) and the Has* keys.
	Has map[string]bool `json:"has"`
	// Missing says why each Point name without data has none.
	Missing map[string]string `json:"missing,omitempty"`
	// Stats has every stored name (stable or raw) with data in the window.
	Stats map[string]Stat `json:"stats"`
}

// Window is a grid point's time on the scraper's clock. From and To bracket
// the point, boundary scrapes included; Busy is when its requests were in
// flight (zero: the same as From and To).
type Window struct {
	From, To         time.Time
	BusyFrom, BusyTo time.Time
}

// Summary summarises the samples of the window.
//
// Gauges use the scrapes taken while the point's requests were in flight
// (strictly inside Busy): a boundary scrape sees an idle server, and a gauge
// with no reading in between has no data, not a reading of 0. Counters and histograms run from
// a baseline, the last scrape at or before from (else the first inside), to
// an end, the first scrape at or after to within half an interval (else the
// last inside): a ScrapeNow just before the point and just after it makes
// their deltas exact. Failed scrapes are counted, never fatal; a Summary is
// always returned.
func (s *Scraper) Summary(w Window) Summary {
	s.mu.Lock()
	samples := make([]Sample, len(s.samples))
	copy(samples, s.samples)
	kinds := make(map[string]string, len(s.kinds))
	for k, v := range s.kinds {
		kinds[k] = v
	}
	s.mu.Unlock()
	return summarize(samples, kinds, w, s.interval)
}

func summarize(samples []Sample, kinds map[string]string, w Window, interval time.Duration) Summary {
	from, to, grace := w.From, w.To, interval/2
	busyFrom, busyTo := w.BusyFrom, w.BusyTo
	if busyFrom.IsZero() && busyTo.IsZero() {
		busyFrom, busyTo = from.Add(-time.Nanosecond), to.Add(time.Nanosecond)
	}
	sum := Summary{From: from, To: to, Has: map[string]bool{}, Stats: map[string]Stat{}}
	var ok []Sample
	for _, smp := range samples {
		inside := !smp.T.Before(from) && !smp.T.After(to)
		if smp.Err != "" {
			if inside {
				sum.Errors++
				sum.LastError = smp.Err
			}
			continue
		}
		if inside {
			sum.Scrapes++
		}
		ok = append(ok, smp)
	}
	var busy []Sample
	start, end := -1, -1
	for i, smp := range ok {
		if smp.T.After(busyFrom) && smp.T.Before(busyTo) {
			busy = append(busy, smp)
		}
		if !smp.T.After(from) {
			start = i
		}
	}
	if start < 0 {
		for i, smp := range ok {
			if !smp.T.Before(from) && !smp.T.After(to) {
				start = i
				break
			}
		}
	}
	for i, smp := range ok {
		if !smp.T.Before(to) && !smp.T.After(to.Add(grace)) {
			end = i
			break
		}
	}
	if end < 0 {
		for i, smp := range ok {
			if !smp.T.After(to) {
				end = i
			}
		}
	}
	var span []Sample
	if start >= 0 && end > start {
		span = ok[start : end+1]
	}
	for name, kind := range kinds {
		var st Stat
		var has bool
		switch kind {
		case KindGauge:
			if name == KVCapacityTokens {
				// The cache's size is configuration, not load: any scrape
				// up to the point's end states it, busy or not.
				st, has = gaugeStat(upTo(ok, to.Add(grace)), name)
				break
			}
			st, has = gaugeStat(busy, name)
		case KindCounter:
			st, has = counterStat(span, name)
		case KindHistogram:
			st, has = histogramStat(span, name)
		}
		if has {
			sum.Stats[name] = st
		}
	}
	sum.derive()
	sum.explainMissing(kinds, busyTo.Sub(busyFrom), interval)
	return sum
}

// upTo is the samples taken at or before t.
func upTo(samples []Sample, t time.Time) []Sample {
	n := 0
	for n < len(samples) && !samples[n].T.After(t) {
		n++
	}
	return samples[:n]
}

// explainMissing says, for each Point name without data, why.
func (s *Summary) explainMissing(kinds map[string]string, busy, interval time.Duration) {
	families := map[string]string{
		metrics.NameKVCacheUsageMax:    KVCacheUsage,
		metrics.NamePrefixCacheHitRate: PrefixCacheQueries,
		metrics.NamePreemptions:        Preemptions,
		metrics.NameQueueTimeP95:       QueueTime,
	}
	for name, family := range families {
		if s.Has[name] {
			continue
		}
		if s.Missing == nil {
			s.Missing = map[string]string{}
		}
		var why string
		switch {
		case s.Scrapes == 0 && s.Errors > 0:
			why = fmt.Sprintf("every scrape of /metrics during the point failed (%d; last: %s)", s.Errors, s.LastError)
		case s.Scrapes == 0:
			why = "no scrape of /metrics fell within the point"
		case kinds[family] == "" && !(name == metrics.NamePrefixCacheHitRate && kinds[PrefixCacheHitRateGauge] != ""):
			why = "the server's /metrics has no " + family + " family"
		case kinds[family] == KindGauge:
			why = fmt.Sprintf("the gauge was not read while the point's requests were in flight (they ran %s; the scrape interval is %s)",
				busy.Round(time.Millisecond), interval)
		case kinds[family] == KindHistogram:
			why = "the histogram gained no observation during the point"
		case name == metrics.NamePrefixCacheHitRate:
			why = "no prefix-cache lookups during the point"
		default:
			why = "fewer than two scrapes spanned the point"
		}
		s.Missing[name] = why
	}
}

// derive fills the headline fields and Has from Stats.
func (s *Summary) derive() {
	if st, ok := s.Stats[KVCacheUsage]; ok {
		s.KVCacheUsageMax, s.KVCacheUsageMean = st.Max, st.Mean
		s.Has[metrics.NameKVCacheUsageMax] = true
	}
	if st, ok := s.Stats[KVCapacityTokens]; ok {
		s.KVCapacityTokens = st.Max
		s.Has[HasKVCapacity] = true
	}
	if st, ok := s.Stats[RequestsRunning]; ok {
		s.RequestsRunningMax = st.Max
		s.Has[HasRequestsRunning] = true
	}
	if st, ok := s.Stats[RequestsWaiting]; ok {
		s.RequestsWaitingMax, s.RequestsWaitingMean = st.Max, st.Mean
		s.Has[HasRequestsWaiting] = true
	}
	q, qok := s.Stats[PrefixCacheQueries]
	h, hok := s.Stats[PrefixCacheHits]
	if qok && hok && q.Delta > 0 {
		s.PrefixCacheQueries, s.PrefixCacheHits = q.Delta, h.Delta
		s.PrefixCacheHitRate = h.Delta / q.Delta
		s.Has[metrics.NamePrefixCacheHitRate] = true
	} else if g, ok := s.Stats[PrefixCacheHitRateGauge]; ok {
		s.PrefixCacheHitRate = g.Mean
		s.Has[metrics.NamePrefixCacheHitRate] = true
	}
	if st, ok := s.Stats[Preemptions]; ok {
		s.Preemptions = st.Delta
		s.Has[metrics.NamePreemptions] = true
	}
	if st, ok := s.Stats[QueueTime]; ok && st.finiteP95() {
		s.QueueTimeMean, s.QueueTimeP50, s.QueueTimeP95 = seconds(meanOf(st)), seconds(st.P50), seconds(st.P95)
		s.QueueTimeP95Bounds = bounds(st.P95Lo, st.P95Hi)
		s.Requests = st.Count
		s.Has[metrics.NameQueueTimeP95] = true
	}
	if st, ok := s.Stats[PrefillTime]; ok && st.finiteP95() {
		s.PrefillTimeMean, s.PrefillTimeP95 = seconds(meanOf(st)), seconds(st.P95)
		s.Has[HasPrefillTime] = true
	}
	if st, ok := s.Stats[TTFT]; ok && st.finiteP95() {
		s.ServerTTFTMean, s.ServerTTFTP95 = seconds(meanOf(st)), seconds(st.P95)
		s.ServerTTFTP95Bounds = bounds(st.P95Lo, st.P95Hi)
		s.Has[HasServerTTFT] = true
		if s.Requests == 0 {
			s.Requests = st.Count
		}
	}
	r, rok := s.Stats[OffloadRequestedTokens]
	hit, hitok := s.Stats[OffloadHitTokens]
	if rok && hitok && r.Delta > 0 {
		s.OffloadHitRate = hit.Delta / r.Delta
		s.Has[HasOffloadHitRate] = true
	}
	eq, eqok := s.Stats[ExternalPrefixCacheQueries]
	eh, ehok := s.Stats[ExternalPrefixCacheHits]
	if eqok && ehok && eq.Delta > 0 {
		s.ExternalPrefixHitRate = eh.Delta / eq.Delta
		s.Has[HasExternalPrefixHitRate] = true
	}
}

// Apply writes the summary into the point: the four scraped names get their
// values, and those without data are marked in NoData (and unmarked when
// they have it), so conditions reading them come out no_data.
func (s Summary) Apply(p *metrics.Point) {
	if p.NoData == nil {
		p.NoData = metrics.NoDataSet{}
	}
	set := func(name string, fill func()) {
		if s.Has[name] {
			fill()
			delete(p.NoData, name)
		} else {
			p.NoData[name] = s.Missing[name]
		}
	}
	set(metrics.NameKVCacheUsageMax, func() { p.KVCacheUsageMax = s.KVCacheUsageMax })
	set(metrics.NamePrefixCacheHitRate, func() { p.PrefixCacheHitRate = s.PrefixCacheHitRate })
	set(metrics.NamePreemptions, func() { p.Preemptions = s.Preemptions })
	set(metrics.NameQueueTimeP95, func() {
		p.QueueTimeP95 = s.QueueTimeP95
		if p.Bounds == nil {
			p.Bounds = map[string]metrics.Bounds{}
		}
		p.Bounds[metrics.NameQueueTimeP95] = s.QueueTimeP95Bounds
	})
	if len(p.NoData) == 0 {
		p.NoData = nil
	}
}

// TTFTSplit divides a client-side mean TTFT into the server's queueing and
// prefill, from the server's histograms over the same window.
type TTFTSplit struct {
	ClientTTFTMean time.Duration
	QueueMean      time.Duration
	PrefillMean    time.Duration // 0 when the server exports no prefill histogram
	// Shares of ClientTTFTMean; Other is the rest (network, tokenization,
	// detokenization, streaming), never negative.
	QueueShare, PrefillShare, OtherShare float64
}

// Decompose splits clientTTFTMean using the server's queue-time histogram
// (ok is false without it). The server counts every request of the window,
// opening turns included, so pass the client's mean over the same requests
// for a like-for-like split; against the steady-window mean it still answers
// "how much of it was queueing" when opening turns are few.
func (s Summary) Decompose(clientTTFTMean time.Duration) (TTFTSplit, bool) {
	if !s.Has[metrics.NameQueueTimeP95] || clientTTFTMean <= 0 {
		return TTFTSplit{}, false
	}
	sp := TTFTSplit{ClientTTFTMean: clientTTFTMean, QueueMean: s.QueueTimeMean}
	if s.Has[HasPrefillTime] {
		sp.PrefillMean = s.PrefillTimeMean
	}
	c := float64(clientTTFTMean)
	sp.QueueShare = float64(sp.QueueMean) / c
	sp.PrefillShare = float64(sp.PrefillMean) / c
	sp.OtherShare = max(0, 1-sp.QueueShare-sp.PrefillShare)
	return sp, true
}

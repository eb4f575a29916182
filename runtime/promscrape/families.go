package promscrape

import (
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Stable names of the known families. Servers name the same quantity
// differently (and vLLM renamed some between versions); a sample stores it
// under one of these names whichever server sent it.
const (
	KVCacheUsage               = "kv_cache_usage"           // gauge, fraction of the GPU KV cache in use
	RequestsRunning            = "requests_running"         // gauge
	RequestsWaiting            = "requests_waiting"         // gauge
	PrefixCacheQueries         = "prefix_cache_queries"     // counter, tokens looked up in the prefix cache
	PrefixCacheHits            = "prefix_cache_hits"        // counter, tokens found there
	PrefixCacheHitRateGauge    = "prefix_cache_hit_rate"    // gauge, for servers that export only a rate (SGLang)
	ExternalPrefixCacheQueries = "external_prefix_queries"  // counter, vLLM's KV-connector (e.g. LMCache) lookups
	ExternalPrefixCacheHits    = "external_prefix_hits"     // counter
	Preemptions                = "preemptions"              // counter
	PromptTokens               = "prompt_tokens"            // counter
	GenerationTokens           = "generation_tokens"        // counter
	TTFT                       = "ttft_seconds"             // histogram, the server's own time to first token
	QueueTime                  = "queue_time_seconds"       // histogram, time requests waited before scheduling
	PrefillTime                = "prefill_time_seconds"     // histogram, time spent in prefill
	OffloadRequestedTokens     = "offload_requested_tokens" // counter, tokens looked up in the offload tier (LMCache, simulator)
	OffloadHitTokens           = "offload_hit_tokens"       // counter, tokens loaded from it
	OffloadLookupTokens        = "offload_lookup_tokens"    // counter
	OffloadLookupHits          = "offload_lookup_hits"      // counter
	OffloadCacheUsage          = "offload_cache_usage"      // gauge, LMCache local cache bytes
	// KVCapacityTokens is the GPU KV cache's capacity in tokens: vLLM states
	// it as labels of cache_config_info (num_gpu_blocks × block_size, summed
	// over engines), SGLang as the gauge max_total_num_tokens.
	KVCapacityTokens = "kv_capacity_tokens"
)

// Metric kinds as stored in Series.Kinds.
const (
	KindCounter   = "counter"
	KindGauge     = "gauge"
	KindHistogram = "histogram"
)

// The embedded simulator's own families start with one of these and are
// always kept raw.
const (
	SimPrefix    = "sim:"
	SimPrefixAlt = "mrqa_sim_"
)

// Aggregations over a family's label sets (several engines, models, ranks).
const (
	aggSum  = iota // counters, queue lengths: the server's total
	aggMax         // usage fractions: the fullest engine is the one that preempts
	aggMean        // rates
)

type family struct {
	name    string
	kind    string
	agg     int
	sources []string // tried in order; the first one present wins
}

// known maps server families onto stable names. Counters are listed with and
// without "_total": Python's client appends it, other exporters may not.
var known = []family{
	{KVCacheUsage, KindGauge, aggMax, []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"}},
	{RequestsRunning, KindGauge, aggSum, []string{"vllm:num_requests_running", "sglang:num_running_reqs"}},
	{RequestsWaiting, KindGauge, aggSum, []string{"vllm:num_requests_waiting", "sglang:num_queue_reqs"}},
	{PrefixCacheQueries, KindCounter, aggSum, []string{"vllm:prefix_cache_queries_total", "vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries"}},
	{PrefixCacheHits, KindCounter, aggSum, []string{"vllm:prefix_cache_hits_total", "vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits"}},
	{PrefixCacheHitRateGauge, KindGauge, aggMean, []string{"sglang:cache_hit_rate"}},
	{ExternalPrefixCacheQueries, KindCounter, aggSum, []string{"vllm:external_prefix_cache_queries_total", "vllm:external_prefix_cache_queries"}},
	{ExternalPrefixCacheHits, KindCounter, aggSum, []string{"vllm:external_prefix_cache_hits_total", "vllm:external_prefix_cache_hits"}},
	{Preemptions, KindCounter, aggSum, []string{"vllm:num_preemptions_total", "vllm:num_preemptions"}},
	{PromptTokens, KindCounter, aggSum, []string{"vllm:prompt_tokens_total", "sglang:prompt_tokens_total"}},
	{GenerationTokens, KindCounter, aggSum, []string{"vllm:generation_tokens_total", "sglang:generation_tokens_total"}},
	{TTFT, KindHistogram, aggSum, []string{"vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds"}},
	{QueueTime, KindHistogram, aggSum, []string{"vllm:request_queue_time_seconds"}},
	{PrefillTime, KindHistogram, aggSum, []string{"vllm:request_prefill_time_seconds"}},
	{OffloadRequestedTokens, KindCounter, aggSum, []string{"lmcache:num_requested_tokens_total", "lmcache:num_requested_tokens", "sim:offload_queries_total"}},
	{OffloadHitTokens, KindCounter, aggSum, []string{"lmcache:num_hit_tokens_total", "lmcache:num_hit_tokens", "sim:offload_hits_total"}},
	{OffloadLookupTokens, KindCounter, aggSum, []string{"lmcache:num_lookup_tokens_total", "lmcache:num_lookup_tokens"}},
	{OffloadLookupHits, KindCounter, aggSum, []string{"lmcache:num_lookup_hits_total", "lmcache:num_lookup_hits"}},
	{OffloadCacheUsage, KindGauge, aggSum, []string{"lmcache:local_cache_usage"}},
}

// keepRaw reports whether a family is kept under its own name: the
// simulator's (sim: or mrqa_sim_), and those include names exactly or, ending in "*", by prefix.
func keepRaw(name string, include []string) bool {
	if strings.HasPrefix(name, SimPrefix) || strings.HasPrefix(name, SimPrefixAlt) {
		return true
	}
	for _, p := range include {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, pre) {
				return true
			}
		} else if p == name {
			return true
		}
	}
	return false
}

// extract turns one scrape's families into a sample's values and histograms,
// and notes each stored name's kind.
func extract(mfs map[string]*dto.MetricFamily, include []string, kinds map[string]string) (map[string]float64, map[string]Histogram) {
	vals := map[string]float64{}
	hists := map[string]Histogram{}
	for _, f := range known {
		for _, src := range f.sources {
			mf, ok := mfs[src]
			if !ok {
				continue
			}
			if f.kind == KindHistogram {
				if h, ok := mergeHistograms(mf); ok {
					hists[f.name] = h
					kinds[f.name] = KindHistogram
				}
			} else if v, ok := scalar(mf, f.agg); ok {
				vals[f.name] = v
				kinds[f.name] = f.kind
			}
			break
		}
	}
	if v, ok := kvCapacity(mfs); ok {
		vals[KVCapacityTokens] = v
		kinds[KVCapacityTokens] = KindGauge
	}
	for name, mf := range mfs {
		if !keepRaw(name, include) {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			if h, ok := mergeHistograms(mf); ok {
				hists[name] = h
				kinds[name] = KindHistogram
			}
		case dto.MetricType_COUNTER:
			if v, ok := scalar(mf, aggSum); ok {
				vals[name] = v
				kinds[name] = KindCounter
			}
		case dto.MetricType_SUMMARY:
			var n, sum float64
			for _, m := range mf.GetMetric() {
				n += float64(m.GetSummary().GetSampleCount())
				sum += m.GetSummary().GetSampleSum()
			}
			vals[name+"_count"], vals[name+"_sum"] = n, sum
			kinds[name+"_count"], kinds[name+"_sum"] = KindCounter, KindCounter
		default: // gauges and untyped
			if v, ok := scalar(mf, aggSum); ok {
				vals[name] = v
				kinds[name] = KindGauge
			}
		}
	}
	return vals, hists
}

// kvCapacity reads the KV cache's capacity in tokens from vLLM's
// cache_config_info labels, else SGLang's max_total_num_tokens. A label set
// whose numbers do not parse (vLLM states num_gpu_blocks as "None" before
// profiling) is skipped.
func kvCapacity(mfs map[string]*dto.MetricFamily) (float64, bool) {
	if mf, ok := mfs["vllm:cache_config_info"]; ok {
		var total float64
		found := false
		for _, m := range mf.GetMetric() {
			var blocks, size float64
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "num_gpu_blocks":
					blocks, _ = strconv.ParseFloat(l.GetValue(), 64)
				case "block_size":
					size, _ = strconv.ParseFloat(l.GetValue(), 64)
				}
			}
			if blocks > 0 && size > 0 && !math.IsInf(blocks*size, 0) {
				total += blocks * size
				found = true
			}
		}
		if found && !math.IsInf(total, 0) {
			return total, true
		}
	}
	if mf, ok := mfs["sglang:max_total_num_tokens"]; ok {
		if v, ok := scalar(mf, aggSum); ok && v > 0 {
			return v, true
		}
	}
	return 0, false
}

// scalar aggregates a counter, gauge or untyped family over its label sets.
// Non-finite values are skipped (JSON cannot carry them).
func scalar(mf *dto.MetricFamily, agg int) (float64, bool) {
	var out float64
	n := 0
	for _, m := range mf.GetMetric() {
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Untyped != nil:
			v = m.GetUntyped().GetValue()
		default:
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		switch {
		case n == 0:
			out = v
		case agg == aggMax:
			out = max(out, v)
		default:
			out += v
		}
		n++
	}
	if n == 0 {
		return 0, false
	}
	if agg == aggMean {
		out /= float64(n)
	}
	return out, true
}

// mergeHistograms sums a histogram family's label sets bucket by bucket. The
// +Inf bucket is left implicit (it equals Count).
func mergeHistograms(mf *dto.MetricFamily) (Histogram, bool) {
	var h Histogram
	byLe := map[float64]float64{}
	n := 0
	for _, m := range mf.GetMetric() {
		hm := m.GetHistogram()
		if hm == nil {
			continue
		}
		n++
		h.Count += float64(hm.GetSampleCount())
		if c := hm.GetSampleCountFloat(); c > 0 && hm.GetSampleCount() == 0 {
			h.Count += c
		}
		h.Sum += hm.GetSampleSum()
		for _, b := range hm.GetBucket() {
			le := b.GetUpperBound()
			if math.IsInf(le, +1) || math.IsNaN(le) {
				continue
			}
			c := float64(b.GetCumulativeCount())
			if c == 0 && b.GetCumulativeCountFloat() > 0 {
				c = b.GetCumulativeCountFloat()
			}
			byLe[le] += c
		}
	}
	if n == 0 {
		return h, false
	}
	for le, c := range byLe {
		h.Buckets = append(h.Buckets, Bucket{Le: le, Count: c})
	}
	slices.SortFunc(h.Buckets, func(a, b Bucket) int {
		switch {
		case a.Le < b.Le:
			return -1
		case a.Le > b.Le:
			return 1
		}
		return 0
	})
	return h, true
}

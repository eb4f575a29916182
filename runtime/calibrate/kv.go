package calibrate

import (
	"context"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// KV is the GPU KV cache's capacity as the probe found it.
type KV struct {
	Tokens int    `json:"tokens,omitempty"` // 0: not identified
	Source string `json:"source,omitempty"` // the /metrics URL it was read from, or the ladder
	Why    string `json:"why,omitempty"`    // why it was not identified
	// Bracket is the ladder's: the largest total that stayed cached (the
	// capacity) and the smallest that did not.
	Bracket [2]int `json:"bracket,omitzero"`
	Rungs   []Rung `json:"rungs,omitempty"`
	// Metrics is what /metrics stated when the ladder also ran.
	Metrics int `json:"metrics_tokens,omitempty"`
	// OffloadCounters: /metrics has an offload tier's counters (LMCache's
	// or the simulator's requested and hit tokens).
	OffloadCounters bool `json:"offload_counters,omitempty"`
	// offloadRequested and offloadHits are the tokens the offload tier
	// was asked for and hit when scraped; offloadLookups, whether /metrics
	// counts the former.
	offloadRequested, offloadHits float64
	offloadLookups                bool
}

// scrapeKV reads vllm:cache_config_info from the target's metrics block's
// URL, else from /metrics at the root of its base_url.
func scrapeKV(ctx context.Context, t *spec.Target, baseURL string) KV {
	u := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1") + "/metrics"
	if t.Metrics != nil {
		u = t.Metrics.URL
	}
	access, err := promscrape.AccessOf(t.Metrics)
	if err != nil {
		return KV{Source: redactURL(u), Why: err.Error()}
	}
	kv := KV{Source: redactURL(u)}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := promscrape.Start(sctx, u, time.Hour, nil, access)
	err = s.ScrapeNow(sctx)
	series := s.Stop()
	if err != nil {
		kv.Why = "no /metrics: " + err.Error() + ""
		return kv
	}
	offloadCounters(&kv, series)
	_, caps := series.Timeline(promscrape.KVCapacityTokens)
	if len(caps) == 0 || caps[len(caps)-1] <= 0 {
		kv.Why = "/metrics states no vllm:cache_config_info (num_gpu_blocks, block_size)"
		return kv
	}
	kv.Tokens = int(caps[len(caps)-1])
	return kv
}

// offloadCounters reads an offload tier's requested and hit tokens into kv.
func offloadCounters(kv *KV, series promscrape.Series) {
	for _, smp := range series.Samples {
		req, hasReq := smp.Values[promscrape.OffloadRequestedTokens]
		hits, hasHits := smp.Values[promscrape.OffloadHitTokens]
		if hasReq || hasHits {
			kv.OffloadCounters, kv.offloadLookups = true, hasReq
			kv.offloadRequested, kv.offloadHits = req, hits
		}
	}
}

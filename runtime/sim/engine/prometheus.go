package engine

import (
	"fmt"
	"io"
	"strconv"
)

// WritePrometheus writes the stats as Prometheus text with vLLM's metric
// names, plus the offload tier's counters under sim: (LMCache's own names vary
// by version). labels is the label set without braces, e.g. model_name="m".
// The HTTP server and the virtual-clock runner both publish through it, so a
// scrape reads the same families on either clock.
func (st Stats) WritePrometheus(w io.Writer, labels string) {
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %s\n", name, help, name, typ, name, labels, strconv.FormatFloat(v, 'g', -1, 64))
	}
	metric("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", float64(st.Running))
	metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", float64(st.Waiting))
	if st.KVBlocks > 0 {
		// vLLM states its cache's configuration as labels of a gauge set to 1.
		fmt.Fprintf(w, "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n"+
			"vllm:cache_config_info{block_size=\"%d\",enable_prefix_caching=\"True\",num_gpu_blocks=\"%d\"} 1\n", st.BlockSize, st.KVBlocks)
	}
	metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", st.KVUsage)
	metric("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", float64(st.PrefixQueries))
	metric("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", float64(st.PrefixHits))
	metric("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", float64(st.Preemptions))
	metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(st.PromptTokens))
	metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(st.GenerationTokens))
	metric("sim:offload_queries_total", "counter", "Tokens looked up in the offload tier (those the GPU prefix cache missed).", float64(st.OffloadQueries))
	metric("sim:offload_hits_total", "counter", "Tokens found in the offload tier and loaded instead of recomputed.", float64(st.OffloadHits))
	metric("sim:offload_stored_blocks", "gauge", "Blocks held by the offload tier.", float64(st.OffloadBlocks))
	metric("sim:steps_total", "counter", "Engine steps run.", float64(st.Steps))
	metric("sim:busy_seconds_total", "counter", "Sum of engine step durations.", st.Busy.Seconds())
}

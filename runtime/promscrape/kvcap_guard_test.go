package promscrape

import (
	"encoding/json"
	"math"
	"testing"
)

// each engine's blocks × block_size is checked for infinity, the
// sum over engines is not: two engines stating 1e308 tokens each give +Inf,
// which JSON cannot carry (results.json's server.kv_capacity_tokens).
func TestKVCapacitySumOverflows(t *testing.T) {
	text := "# TYPE vllm:cache_config_info gauge\n" +
		`vllm:cache_config_info{block_size="1",engine="0",num_gpu_blocks="1e308"} 1` + "\n" +
		`vllm:cache_config_info{block_size="1",engine="1",num_gpu_blocks="1e308"} 1` + "\n"
	r := NewRecorder(nil)
	for _, sec := range []float64{0, 0.5, 1} {
		ingestAt(t, r, sec, text)
	}
	sum := r.Summary(Window{From: at(0), To: at(1), BusyFrom: at(0.2), BusyTo: at(0.8)})
	if math.IsInf(sum.KVCapacityTokens, 0) {
		_, err := json.Marshal(struct{ C *float64 }{&sum.KVCapacityTokens})
		t.Fatalf("capacity %v (has %v); json: %v", sum.KVCapacityTokens, sum.Has[HasKVCapacity], err)
	}
}

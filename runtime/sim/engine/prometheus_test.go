package engine

import (
	"bytes"
	"strings"
	"testing"
)

// The cache's size is stated the way vLLM states it, so the scrape reads
// the simulator's KV capacity exactly as a real server's: 65,536 tokens in
// blocks of 16 are 4,096 blocks.
func TestPrometheusStatesCacheConfig(t *testing.T) {
	e, err := New(costConfig())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	e.Stats().WritePrometheus(&buf, `model_name="m"`)
	want := `vllm:cache_config_info{block_size="16",enable_prefix_caching="True",num_gpu_blocks="4096"} 1`
	if !strings.Contains(buf.String(), want+"\n") {
		t.Fatalf("no %s in\n%s", want, buf.String())
	}
}

package promscrape

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// vllmLike builds a /metrics body shaped like a vLLM server's: a few dozen
// families, histograms with ~20 buckets, two engines.
func vllmLike(i int) []byte {
	var b bytes.Buffer
	les := []string{"0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "+Inf"}
	for _, h := range []string{"vllm:time_to_first_token_seconds", "vllm:request_queue_time_seconds", "vllm:request_prefill_time_seconds", "vllm:e2e_request_latency_seconds", "vllm:inter_token_latency_seconds"} {
		fmt.Fprintf(&b, "# HELP %s h\n# TYPE %s histogram\n", h, h)
		for e := range 2 {
			for k, le := range les {
				fmt.Fprintf(&b, "%s_bucket{engine=\"%d\",le=\"%s\",model_name=\"m\"} %d\n", h, e, le, i*k)
			}
			fmt.Fprintf(&b, "%s_count{engine=\"%d\",model_name=\"m\"} %d\n%s_sum{engine=\"%d\",model_name=\"m\"} %d.5\n", h, e, i*20, h, e, i)
		}
	}
	for _, c := range []string{"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:num_preemptions_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total"} {
		fmt.Fprintf(&b, "# HELP %s c\n# TYPE %s counter\n", c, c)
		for e := range 2 {
			fmt.Fprintf(&b, "%s{engine=\"%d\",model_name=\"m\"} %d\n", c, e, i*100)
		}
	}
	for _, g := range []string{"vllm:kv_cache_usage_perc", "vllm:num_requests_running", "vllm:num_requests_waiting"} {
		fmt.Fprintf(&b, "# HELP %s g\n# TYPE %s gauge\n", g, g)
		for e := range 2 {
			fmt.Fprintf(&b, "%s{engine=\"%d\",model_name=\"m\"} 0.%d\n", g, e, i%10)
		}
	}
	for k := range 30 {
		fmt.Fprintf(&b, "# TYPE python_other_%d gauge\npython_other_%d %d\n", k, k, k)
	}
	return b.Bytes()
}

func BenchmarkIngest(b *testing.B) {
	body := vllmLike(7)
	r := NewRecorder(nil)
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		if err := r.Ingest(t0.Add(time.Duration(i)*time.Second), bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSummary summarises a one-minute point out of an hour of
// one-second scrapes.
func BenchmarkSummary(b *testing.B) {
	r := NewRecorder(nil)
	for i := range 3600 {
		if err := r.Ingest(t0.Add(time.Duration(i)*time.Second), bytes.NewReader(vllmLike(i))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		s := r.Summary(Window{From: t0.Add(1800 * time.Second), To: t0.Add(1860 * time.Second)})
		if !s.Has[metrics.NameQueueTimeP95] {
			b.Fatal("no queue time")
		}
	}
}

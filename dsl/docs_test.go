package dsl

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

// metricFamilies describe the metric names by prefix (longest first wins).
var metricFamilies = []struct{ prefix, meaning string }{
	{"concurrent", "C, the number of workers"},
	{"sequential", "S, the sessions each worker serves in turn"},
	{"sessions", "C×S"},
	{"ttft_ok_", "time to first token over successful steady turns only"},
	{"ttft_", "time to first token of steady turns; a failed turn counts as +∞"},
	{"ttfc_", "time to first content token (differs from ttft for reasoning models)"},
	{"latency_", "end-to-end latency of successful steady turns"},
	{"itl_", "per request (end − ttft) / (completion_tokens − 1), vLLM's TPOT"},
	{"opening_ttft_", "time to first token of the opening turns (the whole document, mostly uncached)"},
	{"opening_samples", "opening turns counted"},
	{"samples", "steady turns counted"},
	{"requests_per_s", "requests completed per second over the point's span"},
	{"requests", "requests made, all turns including the opening"},
	{"errors", "failed requests, all turns"},
	{"error_rate", "errors / requests"},
	{"input_tokens_per_s", "prompt tokens per second over the point's span"},
	{"output_tokens_per_s", "completion tokens per second over the point's span"},
	{"cached_tokens_ratio", "cached / prompt tokens of steady turns (usage.prompt_tokens_details)"},
	{"kv_cache_usage_max", "peak KV-cache usage, 0–1, from the scraped /metrics"},
	{"prefix_cache_hit_rate", "prefix-cache hit rate from the scraped /metrics"},
	{"preemptions", "requests preempted during the point, from the scraped /metrics"},
	{"queue_time_", "time requests waited in the server's queue, from the scraped /metrics"},
	{"max_sessions", "the best point's C×S; 0 when no point passed"},
	{"best_concurrent", "the best point's C"},
	{"best_sequential", "the best point's S"},
	{"points_passed", "grid points that met every SLO"},
	{"points_run", "grid points run"},
	{"best_rate", "an open-loop sweep's highest passing rate, sessions per minute; 0 when none passed"},
}

func metricMeaning(name string) string {
	best, meaning := "", ""
	for _, f := range metricFamilies {
		if strings.HasPrefix(name, f.prefix) && len(f.prefix) > len(best) {
			best, meaning = f.prefix, f.meaning
		}
	}
	if strings.HasSuffix(best, "_") {
		stat := strings.TrimPrefix(name, best)
		return fmt.Sprintf("%s: %s", stat, meaning)
	}
	return meaning
}

// MetricTable renders, as a Markdown table, every name SLO conditions and
// expect may read, generated from the expr tags of metrics.Point and
// metrics.Sweep; docs/language.md embeds it and a test keeps it current.
func MetricTable() string {
	var b strings.Builder
	b.WriteString("| name | type | in | frontier | meaning |\n| --- | --- | --- | --- | --- |\n")
	rows := func(v any, in string) {
		t := reflect.TypeOf(v)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := f.Tag.Get("expr")
			if name == "" || name == "-" {
				continue
			}
			typ := "number"
			switch {
			case f.Type == reflect.TypeFor[time.Duration]():
				typ = "duration"
			case f.Type.Kind() == reflect.Int:
				typ = "integer"
			}
			frontier := ""
			if in == "slo" && metrics.WorsensWithLoad(name) {
				frontier = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", name, typ, in, frontier, metricMeaning(name))
		}
	}
	rows(metrics.Point{}, "slo")
	rows(metrics.Sweep{}, "expect")
	return b.String()
}

// SimulatorTable renders, as a Markdown table, the fields a simulator block
// may set besides profile and clock, from runtime/sim's schema.
func SimulatorTable() string {
	var b strings.Builder
	b.WriteString("| field | type | meaning |\n| --- | --- | --- |\n")
	for _, p := range profile.Schema() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", p.Name, p.Kind, strings.ReplaceAll(p.Doc, "|", "\\|"))
	}
	return b.String()
}

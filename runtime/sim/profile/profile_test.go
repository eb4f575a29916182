package profile

import (
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func TestProfilesBuild(t *testing.T) {
	for _, p := range Names() {
		cfg, err := Build(&spec.Simulator{Profile: p})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if cfg.Faults.Any() {
			t.Errorf("%s: faults on by default", p)
		}
	}
	if _, err := Build(&spec.Simulator{Profile: "h100"}); err == nil || !strings.Contains(err.Error(), "seed-vllm") {
		t.Errorf("unknown profile: %v", err)
	}
	cfg, err := Build(nil)
	if err != nil || cfg.Model != "mrqa-sim-quickstart" {
		t.Errorf("default profile: %v %v", cfg.Model, err)
	}
}

func TestBuildOverrides(t *testing.T) {
	cfg, err := Build(&spec.Simulator{Profile: SeedVLLM, Params: map[string]any{
		"kv_cache_tokens":         1e6,
		"prefill_token_us":        30.0,
		"step_fixed":              20 * time.Millisecond,
		"model":                   "x",
		"fault_http_429_every":    5.0,
		"fault_stream_error_rate": 0.5,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KVCacheTokens != 1e6 || cfg.PrefillToken != 30e-6 || cfg.StepFixed != 20*time.Millisecond || cfg.Model != "x" ||
		cfg.Faults.HTTP429.Every != 5 || cfg.Faults.StreamError.Rate != 0.5 {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if _, err := Build(&spec.Simulator{Clock: "wall"}); err == nil || !strings.Contains(err.Error(), "real or virtual") {
		t.Errorf("unknown clock: %v", err)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"kv_cache_tokns": 1.0}, "unknown simulator field"},
		{map[string]any{"tokenizer": "hf:./tokenizer.json"}, "want cl100k_base or o200k_base"},
		{map[string]any{"kv_cache_tokens": "big"}, "want a number"},
		{map[string]any{"kv_cache_tokens": 1.5}, "whole number"},
		{map[string]any{"step_fixed": 1.0}, "want a duration"},
		{map[string]any{"fault_cut_rate": 2.0}, "must be in [0, 1]"},
		{map[string]any{"offload_tokens": 1000.0, "offload_load_gbps": 0.0}, "offload"},
	} {
		_, err := Build(&spec.Simulator{Profile: Quickstart, Params: tc.params})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.params, err, tc.want)
		}
	}
}

func TestSchemaCoversEveryField(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Schema() {
		if seen[p.Name] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Doc == "" || (p.Kind != KindNumber && p.Kind != KindString && p.Kind != KindDuration && p.Kind != KindBool) {
			t.Errorf("%s: kind %q doc %q", p.Name, p.Kind, p.Doc)
		}
		if p.Name == "profile" || p.Name == "clock" {
			t.Errorf("%s belongs to the block itself", p.Name)
		}
	}
	var f engine.Faults
	for _, k := range f.Kinds() {
		for _, suffix := range []string{"_rate", "_every"} {
			if !seen["fault_"+k.Name+suffix] {
				t.Errorf("fault_%s%s missing", k.Name, suffix)
			}
		}
	}
}

// TestDescribe checks every profile has a one-line description that states
// its configured KV capacity (and offload tier) and the clock it suits.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{Quickstart, []string{"KV cache 10,240 tokens; ", "real clock"}},
		{SeedVLLM, []string{"KV cache 1,900,000 tokens; ", "virtual clock"}},
		{SeedLMCache, []string{"KV cache 1,900,000 tokens + 3,700,000-token offload tier; ", "virtual clock"}},
	}
	if len(tests) != len(Names()) {
		t.Fatalf("the table covers %d profiles, Names() has %d", len(tests), len(Names()))
	}
	for _, tt := range tests {
		got, err := Describe(tt.name)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("Describe(%s) = %q, want it to contain %q", tt.name, got, w)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("Describe(%s) spans lines: %q", tt.name, got)
		}
	}
	if _, err := Describe("h100"); err == nil {
		t.Error("Describe of an unknown profile: no error")
	}
}

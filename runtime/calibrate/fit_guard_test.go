package calibrate

import (
	"math"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

// TestFitClaimsOnlyWhatItIdentified: on exact data from the quickstart
// server (prefill 150 µs/token, front end 5 µs, attention 0, step 2 ms,
// 0.5 ms per sequence), a parameter the fit reports as identified must be
// near its true value; one it could not tell must keep the base value and
// say so. Probes a user may well choose: two lengths, one repeat, one batch size.
func TestFitClaimsOnlyWhatItIdentified(t *testing.T) {
	base, _ := profile.Config(profile.SeedVLLM)
	truth := synthetic{stepFixed: 0.002, prefillToken: 150e-6, frontend: 5e-6, decodeSeq: 0.5e-3,
		overhead: 0.001, chunk: base.MaxBatchedTokens}
	want := map[string]float64{"step_fixed": 0.002, "prefill_token_us": 150, "frontend_token_us": 5,
		"prefill_attention_ns": 0, "decode_seq_us": 500, "decode_context_ns": 0}
	for _, tc := range []struct {
		name             string
		lengths, batches []int
	}{
		{"two lengths, batch 1", []int{256, 512}, []int{1}},
		{"two lengths, batches 1 and 4", []int{256, 512}, []int{1, 4}},
		{"two short lengths, batch 16", []int{128, 256}, []int{16}},
		{"one length", []int{512}, []int{1, 4, 16}},
	} {
		fit, err := FitObs(truth.obs(tc.lengths, tc.batches, 8), base)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, p := range fit.Params {
			if !p.Identified {
				continue
			}
			w := want[p.Name]
			slack := 0.5 // µs or ns, for the terms whose truth is 0
			if p.Name == "step_fixed" {
				slack = 0.0005 // seconds
			}
			if math.Abs(p.Value-w) > 0.25*math.Abs(w)+slack {
				t.Errorf("%s: %s reported identified at %.4g ± %.2g (%s); the truth is %v", tc.name, p.Name, p.Value, p.StdErr, p.Why, w)
			}
		}
	}
}

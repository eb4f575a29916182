package calibrate

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/sim/server"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// TestCalibrateRecoversHiddenServer runs the probe against the real-clock
// simulator over HTTP with a KV capacity, prefill cost and per-sequence
// decode cost drawn from a fixed seed, which the calibrator is not told,
// and checks what it fits. Costs and prompts are small so that the probe
// takes a few seconds of wall clock.
func TestCalibrateRecoversHiddenServer(t *testing.T) {
	needTimingAlone(t)
	rng := rand.New(rand.NewPCG(7, 11))
	hidden, _ := profile.Config(profile.Quickstart)
	hidden.KVCacheTokens = 16 * (512 + rng.IntN(3000))    // 8k–56k tokens
	hidden.PrefillToken = (60 + 120*rng.Float64()) * 1e-6 // 60–180 µs per token
	hidden.DecodeSeq = (0.2 + 0.8*rng.Float64()) * 1e-3   // 0.2–1 ms per sequence
	srv, err := server.Start(hidden, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := Run(ctx, &spec.Scenario{Target: &spec.Target{Name: "hidden", BaseURL: srv.BaseURL(), API: spec.APIChat}},
		Options{Base: profile.Quickstart, Lengths: []int{128, 256, 512, 768, 1024}, Repeats: 2, Batches: []int{1, 2, 4, 8},
			DecodeTokens: 16, RequestLimit: 20 * time.Second, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	cal := res.Calibration
	t.Logf("probe took %.1fs; hidden kv %d, prefill %.1f µs, decode_seq %.0f µs", cal.Seconds,
		hidden.KVCacheTokens, hidden.PrefillToken*1e6, hidden.DecodeSeq*1e6)
	if got := float64(cal.KV.Tokens); math.Abs(got/float64(hidden.KVCacheTokens)-1) > 0.10 {
		t.Errorf("kv capacity %v, hidden %d (%s)", got, hidden.KVCacheTokens, cal.KV.Why)
	}
	got := map[string]Param{}
	for _, p := range cal.Params {
		got[p.Name] = p
		t.Logf("%s = %.4g ± %.2g (identified %v) %s", p.Name, p.Value, p.StdErr, p.Identified, p.Why)
	}
	if p := got["prefill_token_us"]; !p.Identified || math.Abs(p.Value/(hidden.PrefillToken*1e6)-1) > 0.15 {
		t.Errorf("prefill_token_us %+v, hidden %.1f", p, hidden.PrefillToken*1e6)
	}
	if p := got["decode_seq_us"]; !p.Identified || math.Abs(p.Value/(hidden.DecodeSeq*1e6)-1) > 0.40 {
		t.Errorf("decode_seq_us %+v, hidden %.0f", p, hidden.DecodeSeq*1e6)
	}
	if !strings.Contains(progress.String(), "at most") {
		t.Errorf("the plan's bound was not printed up front:\n%s", progress.String())
	}
	if _, err := profile.Decode(mustJSON(res.File)); err != nil {
		t.Errorf("the profile file does not load: %v", err)
	}
}

package calibrate

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/sim/server"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// TestCalibrateFitsOffloadTier calibrates real-clock simulators whose
// /metrics states a small GPU cache: one with an offload tier behind it,
// whose capacity the fit must recover within 20 % and its per-token load
// cost within 30 %, with the GPU's capacity kept as /metrics states it;
// and one without, where no offload field may appear and, its counters
// having looked up nothing, no ladder may run. Prefill is cheap
// (30 µs per token) and loads cost a third of it, so that the ladder of
// 1024-token sessions takes a few seconds.
func TestCalibrateFitsOffloadTier(t *testing.T) {
	needTimingAlone(t)
	for _, tc := range []struct {
		name       string
		gpu, tier  int
		loadUS     float64 // µs per token loaded from the tier
		wantParams bool
	}{
		{"tier twice the GPU's", 4096, 8192, 10, true},
		{"tier the GPU's size", 4096, 4096, 20, true},
		{"no tier", 4096, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := profile.Config(profile.Quickstart)
			cfg.KVCacheTokens, cfg.PrefillToken = tc.gpu, 30e-6
			if tc.tier > 0 {
				cfg.OffloadTokens, cfg.KVBytesPerToken = tc.tier, 1000
				cfg.OffloadLoadBytesPerS = cfg.KVBytesPerToken / (tc.loadUS * 1e-6)
			}
			srv, err := server.Start(cfg, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			res, progress := calibrateOffload(t, srv.BaseURL())
			cal, params := res.Calibration, res.File.Params
			t.Logf("kv %+v; offload %+v; params %v; notes %q", cal.KV.Bracket, cal.Offload, params, cal.Notes)
			if got := params["kv_cache_tokens"]; got != float64(tc.gpu) {
				t.Errorf("kv_cache_tokens %v, want the GPU's %d as /metrics states it", got, tc.gpu)
			}
			if !tc.wantParams {
				for _, k := range []string{"offload_tokens", "offload_load_gbps", "kv_bytes_per_token"} {
					if _, ok := params[k]; ok {
						t.Errorf("no tier, yet the profile sets %s = %v", k, params[k])
					}
				}
				if cal.Offload != nil {
					t.Errorf("no tier, yet one was reported: %+v", cal.Offload)
				}
				if strings.Contains(progress, "kv ladder ") {
					t.Errorf("no tier looked anything up, yet the ladder ran:\n%s", progress)
				}
				return
			}
			checkOffload(t, res, tc.tier, tc.loadUS, progress)
		})
	}
}

// checkOffload compares the fitted tier with the hidden one: its capacity
// within 20 %, and the load time per token its params give within 30 %.
func checkOffload(t *testing.T, res *Result, tier int, loadUS float64, progress string) {
	t.Helper()
	params := res.File.Params
	tokens, _ := params["offload_tokens"].(float64)
	if math.Abs(tokens/float64(tier)-1) > 0.20 {
		t.Errorf("offload_tokens %v, hidden %d\n%s", params["offload_tokens"], tier, progress)
	}
	loaded, err := profile.Decode(mustJSON(res.File))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := profile.Build(&spec.Simulator{Profile: loaded.Base, Params: loaded.Params})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.KVBytesPerToken / cfg.OffloadLoadBytesPerS * 1e6; math.Abs(got/loadUS-1) > 0.30 {
		t.Errorf("load cost %.3g µs per token, hidden %.3g (%+v)", got, loadUS, res.Calibration.Offload)
	}
	if !strings.Contains(progress, "a KV ladder of 1024-token sessions up to 32768 tokens measures it (at most") ||
		!strings.Contains(progress, "offload tier: its counters looked up") || res.Calibration.Plan.Ladder == nil {
		t.Errorf("the tier's ladder was not announced up front, then as it ran, and kept in the plan:\n%s", progress)
	}
	if !strings.Contains(strings.Join(res.Calibration.Notes, "\n"), "only their ratio is measured") {
		t.Errorf("the notes do not say that only the load cost's ratio is measured: %q", res.Calibration.Notes)
	}
}

// calibrateOffload runs a short probe and the ladder (1024-token sessions,
// up to 32768 tokens) against url with /metrics in view.
func calibrateOffload(t *testing.T, url string) (*Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := Run(ctx, &spec.Scenario{Target: &spec.Target{Name: "tiered", BaseURL: url, API: spec.APIChat}},
		Options{Base: profile.Quickstart, Lengths: []int{256, 1024, 2048}, Repeats: 2, Batches: []int{1, 4},
			DecodeTokens: 8, RequestLimit: 20 * time.Second, LadderSession: 1024, LadderMax: 32768, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	return res, progress.String()
}

// TestFindOffload: a tier shows by the hits its counters counted during the
// ladder or by the ladder holding clearly more than the GPU's stated
// capacity; one that shows but cannot be measured says why, and counters
// that counted nothing are noted.
func TestFindOffload(t *testing.T) {
	held := KV{Tokens: 8200, Bracket: [2]int{8200, 8456}}
	for _, tc := range []struct {
		name       string
		ladder     KV
		stated     KV
		wantNil    bool
		wantTokens int
		wantWhy    string // substring; "" wants none
		wantNote   string
	}{
		{"counters and excess", held, KV{Tokens: 4096, OffloadCounters: true, offloadHits: 5000}, false, 8208, "", ""},
		{"excess alone", held, KV{Tokens: 4096}, false, 8208, "", ""},
		{"counters that hit nothing", KV{Tokens: 4100}, KV{Tokens: 4096, OffloadCounters: true}, true, 0, "", "counted no hit"},
		{"no GPU capacity stated", held, KV{OffloadCounters: true, offloadHits: 5000}, false, 0, notFitted + "/metrics states no GPU capacity", ""},
		{"ladder maximum reached", KV{Why: "not identified (more than 32768 tokens)"}, KV{Tokens: 4096, OffloadCounters: true, offloadHits: 1}, false, 0, notFitted + "the KV ladder's capacity was not identified (more than", ""},
		{"too small to tell", KV{Tokens: 4300}, KV{Tokens: 4096, OffloadCounters: true, offloadHits: 1}, false, 0, notFitted + "the KV ladder held 4300 tokens, not clearly more", ""},
		{"no tier", KV{Tokens: 4100}, KV{Tokens: 4096}, true, 0, "", ""},
	} {
		o, notes := findOffload(tc.ladder, tc.stated, 1024, nil)
		if tc.wantNil != (o == nil) {
			t.Errorf("%s: got %+v, want nil %v", tc.name, o, tc.wantNil)
			continue
		}
		if !strings.Contains(strings.Join(notes, "\n"), tc.wantNote) || (tc.wantNote == "" && len(notes) > 0) {
			t.Errorf("%s: notes %q, want %q", tc.name, notes, tc.wantNote)
		}
		if o == nil {
			continue
		}
		if o.Tokens != tc.wantTokens || !strings.Contains(o.Why, tc.wantWhy) || (tc.wantWhy == "" && o.Why != "") || o.Seen == "" {
			t.Errorf("%s: %+v, want %d tokens and why %q", tc.name, o, tc.wantTokens, tc.wantWhy)
		}
	}
}

// TestFitLoad: the load cost is the median extra time per cached token of
// the resends on rungs a session past the GPU's capacity; rungs nearer the
// GPU's are left out, and extra time within the fit's noise is not fitted.
func TestFitLoad(t *testing.T) {
	fit := Fit{Params: []Param{{Name: "prefill_token_us", Value: 30}, {Name: "frontend_token_us", Value: 5}},
		OverheadMS: 1, Quality: []FitQuality{{Fit: "ttft", RMSMS: 0.5}}}
	hits := func(usPerToken float64) []resend {
		var out []resend
		for _, c := range []int{1000, 1056, 1100} {
			d := fit.TTFT(c+40, c, 512) + time.Duration(usPerToken*float64(c)*1e3)
			out = append(out, resend{prompt: c + 40, cached: c, ttft: d})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		rungs   []Rung
		wantUS  float64
		wantWhy string
	}{
		{"past the GPU", []Rung{{Held: true, Tokens: 8000, hits: hits(10)}, {Held: true, Tokens: 4500, hits: hits(100)}}, 10, ""},
		{"within noise", []Rung{{Held: true, Tokens: 8000, hits: hits(0.5)}}, 0, "within twice the TTFT fit's rms residual"},
		{"no rung past the GPU", []Rung{{Held: true, Tokens: 4500, hits: hits(10)}, {Tokens: 9000, hits: hits(10)}}, 0, "no rung that held reached"},
	} {
		o := &Offload{Tokens: 8000}
		o.fitLoad(tc.rungs, 4096, 1024, fit, 512)
		if math.Abs(o.LoadUSPerToken-tc.wantUS) > 0.01 || !strings.Contains(o.Why, tc.wantWhy) || (tc.wantWhy == "" && o.Why != "") {
			t.Errorf("%s: %+v, want %.3g µs per token, why %q", tc.name, o, tc.wantUS, tc.wantWhy)
		}
	}
}

// TestOffloadParams: a fitted load cost sets the bandwidth that gives it
// with the base's kv_bytes_per_token, or the fallback profile's (written
// then) where the base has none; an unfitted one keeps those figures and
// says why.
func TestOffloadParams(t *testing.T) {
	quick, _ := profile.Config(profile.Quickstart)
	lmc, _ := profile.Config(profile.SeedLMCache)
	for _, tc := range []struct {
		name      string
		o         Offload
		base      string
		wantGBPS  float64
		wantBytes float64 // 0: not written
		wantNote  string
	}{
		{"fitted, base without a tier", Offload{Tokens: 8000, LoadUSPerToken: 10}, profile.Quickstart, lmc.KVBytesPerToken / 10e-6 / 1e9, lmc.KVBytesPerToken, "only their ratio is measured"},
		{"fitted, base with a tier", Offload{Tokens: 8000, LoadUSPerToken: 10}, profile.SeedLMCache, lmc.KVBytesPerToken / 10e-6 / 1e9, 0, "only their ratio is measured"},
		{"load not fitted", Offload{Tokens: 8000, Why: notFitted + "its load cost: x"}, profile.Quickstart, lmc.OffloadLoadBytesPerS / 1e9, lmc.KVBytesPerToken, notFitted + "its load cost"},
	} {
		base := quick
		if tc.base == profile.SeedLMCache {
			base = lmc
		}
		got, note := tc.o.params(base)
		if got["offload_tokens"] != 8000 || math.Abs(got["offload_load_gbps"]/tc.wantGBPS-1) > 1e-3 || got["kv_bytes_per_token"] != tc.wantBytes || !strings.Contains(note, tc.wantNote) {
			t.Errorf("%s: %v, %q; want %.4g GB/s, %v bytes, note %q", tc.name, got, note, tc.wantGBPS, tc.wantBytes, tc.wantNote)
		}
	}
	if got, note := (&Offload{Why: notFitted + "x"}).params(quick); got != nil || note != "" {
		t.Errorf("a tier not fitted set %v, %q", got, note)
	}
}

// TestTierLooked: counters of lookups that did not grow over the cold
// probes mean no tier; counters of hits alone cannot tell.
func TestTierLooked(t *testing.T) {
	for _, tc := range []struct {
		name        string
		before, now KV
		want        bool
	}{
		{"lookups grew", KV{offloadLookups: true, offloadRequested: 10}, KV{offloadLookups: true, offloadRequested: 5000}, true},
		{"lookups still", KV{offloadLookups: true}, KV{offloadLookups: true}, false},
		{"hits counted alone", KV{}, KV{OffloadCounters: true}, true},
	} {
		if got := tierLooked(tc.before, tc.now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

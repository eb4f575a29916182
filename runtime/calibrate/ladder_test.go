package calibrate

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/sim/server"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// hiddenServer serves a real-clock simulator with cfg over HTTP with its
// /metrics answering 404, so that nothing states the KV capacity; without
// cachedReported, usage's prompt_tokens_details is taken out of every
// response too, so that only time tells a cache hit.
func hiddenServer(t *testing.T, cfg engine.Config, cachedReported bool) string {
	t.Helper()
	srv, err := server.Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.NotFound(w, r)
			return
		}
		if !cachedReported {
			w = stripCached{w}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1"
}

var cachedDetails = regexp.MustCompile(`,?"prompt_tokens_details":\{"cached_tokens":\d+\}`)

// stripCached takes prompt_tokens_details out of what the server writes
// (the simulator writes each chunk whole).
type stripCached struct{ http.ResponseWriter }

func (s stripCached) Write(b []byte) (int, error) {
	if _, err := s.ResponseWriter.Write(cachedDetails.ReplaceAll(b, nil)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (s stripCached) Flush() { http.NewResponseController(s.ResponseWriter).Flush() }

func (s stripCached) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// TestKVLadderFindsHiddenCapacity calibrates real-clock simulators whose
// /metrics is hidden: the ladder must find a KV capacity drawn from a fixed
// seed within 10 %, bracketing it, whether the server reports cached tokens
// or only its time to first token tells; and a capacity beyond the
// ladder's maximum must be "not identified (more than N tokens)". Prefill
// is cheap (20–40 µs per token) so that each ladder takes a few seconds,
// except where only time tells a hit: there a cold 1024-token session
// (60–80 ms) stands well clear of a cached resend (a few ms) that a busy
// machine delays.
func TestKVLadderFindsHiddenCapacity(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		name           string
		kv, ladderMax  int
		prefillUS      float64 // the least; up to 20 more
		cachedReported bool
	}{
		{"cached tokens reported", 16 * (500 + rng.IntN(1000)), 32768, 20, true},
		{"time to first token only", 16 * (500 + rng.IntN(1000)), 32768, 60, false},
		{"beyond the maximum", 32768, 8192, 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hidden, _ := profile.Config(profile.Quickstart)
			hidden.KVCacheTokens = tc.kv
			hidden.PrefillToken = (tc.prefillUS + 20*rng.Float64()) * 1e-6
			url := hiddenServer(t, hidden, tc.cachedReported)
			kv, progress := calibrateKV(t, url, tc.ladderMax)
			t.Logf("hidden %d: measured %d, bracket %v, %d rungs; %s", tc.kv, kv.Tokens, kv.Bracket, len(kv.Rungs), kv.Why)
			if tc.kv > tc.ladderMax {
				if kv.Tokens != 0 || !strings.Contains(kv.Why, "not identified (more than ") {
					t.Errorf("capacity %d beyond the ladder's maximum %d: got %+v", tc.kv, tc.ladderMax, kv)
				}
				return
			}
			if math.Abs(float64(kv.Tokens)/float64(tc.kv)-1) > 0.10 || kv.Bracket[1] < tc.kv {
				t.Errorf("hidden capacity %d: measured %d, bracket %v (%s)\n%s", tc.kv, kv.Tokens, kv.Bracket, kv.Why, progress)
			}
			if !strings.Contains(progress, "at most 32768 tokens") {
				t.Errorf("the ladder's maximum was not printed up front:\n%s", progress)
			}
		})
	}
}

// calibrateKV runs a short probe and the ladder (1024-token sessions, up
// to ladderMax tokens) against url and returns the KV capacity found.
func calibrateKV(t *testing.T, url string, ladderMax int) (KV, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := Run(ctx, &spec.Scenario{Target: &spec.Target{Name: "hidden", BaseURL: url, API: spec.APIChat}},
		Options{Base: profile.Quickstart, Lengths: []int{256, 1024, 2048}, Repeats: 1, Batches: []int{1, 4},
			DecodeTokens: 8, RequestLimit: 20 * time.Second, LadderSession: 1024, LadderMax: ladderMax, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	return res.Calibration.KV, progress.String()
}

// TestCacheHit judges a resend by the cached tokens the server reports,
// else by its time to first token against the fit's cold and cached
// predictions.
func TestCacheHit(t *testing.T) {
	ttft := func(prompt, cached int) time.Duration { return time.Duration(prompt-cached+10) * time.Millisecond }
	for _, tc := range []struct {
		name string
		res  openai.Result
		want bool
	}{
		{"reported, all cached", openai.Result{CachedReported: true, CachedTokens: 1000, PromptTokens: 1040}, true},
		{"reported, tail evicted", openai.Result{CachedReported: true, CachedTokens: 880, PromptTokens: 1040}, false},
		{"reported, nothing", openai.Result{CachedReported: true, PromptTokens: 1040, TTFT: time.Millisecond}, false},
		{"timed, near cached (50 ms)", openai.Result{PromptTokens: 1040, TTFT: 80 * time.Millisecond}, true},
		{"timed, near cold (1 s)", openai.Result{PromptTokens: 1040, TTFT: 700 * time.Millisecond}, false},
	} {
		if got := cacheHit(tc.res, 1000, ttft); got != tc.want {
			t.Errorf("%s: hit %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLadderPlan: the doubling's totals, the worst-case requests and the
// bound the plan states with the ladder on.
func TestLadderPlan(t *testing.T) {
	lp := newLadderPlan(1024, 5000)
	if got := lp.doubling(); len(got) != 4 || got[3] != 5000 {
		t.Errorf("doubling %v, want 1024, 2048, 4096, 5000", got)
	}
	// doubling: 2×(1+2+4+5) requests; bisection: 4 rungs × 2×5
	if lp.Requests != 24+40 || lp.MaxRungs != 8 {
		t.Errorf("%d requests in %d rungs, want 64 in 8", lp.Requests, lp.MaxRungs)
	}
	base, _ := profile.Config(profile.SeedVLLM)
	off := NewPlan(Options{Lengths: []int{64}, Repeats: 1, Batches: []int{1}}, 0, base)
	on := NewPlan(Options{Lengths: []int{64}, Repeats: 1, Batches: []int{1}, KVLadder: LadderAlways, LadderSession: 1024, LadderMax: 5000}, 0, base)
	if on.Requests != off.Requests+64 || on.Bound != off.Bound+64*on.Limit+8*resetLimit || on.Expected <= off.Expected {
		t.Errorf("with the ladder: %d requests, bound %s, expected %s; without: %d, %s, %s",
			on.Requests, on.Bound, on.Expected, off.Requests, off.Bound, off.Expected)
	}
}

package calibrate

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

func TestLeastSquares(t *testing.T) {
	for _, tc := range []struct {
		name    string
		X       [][]float64
		y       []float64
		coef    []float64
		dropped []bool
	}{
		{"exact line", [][]float64{{1, 1}, {1, 2}, {1, 3}}, []float64{3, 5, 7}, []float64{1, 2}, []bool{false, false}},
		{"scaled columns", [][]float64{{1, 1e3, 1e6}, {1, 2e3, 4e6}, {1, 3e3, 9e6}, {1, 4e3, 16e6}},
			[]float64{1 + 2 + 3, 1 + 4 + 12, 1 + 6 + 27, 1 + 8 + 48}, []float64{1, 2e-3, 3e-6}, []bool{false, false, false}},
		{"collinear column dropped", [][]float64{{1, 2, 4}, {1, 3, 6}, {1, 5, 10}}, []float64{1, 2, 4}, []float64{-1, 1, 0}, []bool{false, false, true}},
		{"zero column dropped", [][]float64{{0, 1}, {0, 2}}, []float64{2, 4}, []float64{0, 2}, []bool{true, false}},
	} {
		res := leastSquares(tc.X, tc.y)
		for j := range tc.coef {
			if math.Abs(res.coef[j]-tc.coef[j]) > 1e-9*math.Max(1, math.Abs(tc.coef[j])) || res.dropped[j] != tc.dropped[j] {
				t.Errorf("%s: coef %v dropped %v, want %v %v", tc.name, res.coef, res.dropped, tc.coef, tc.dropped)
				break
			}
		}
	}
	// y = x + noise ±1 alternating over 4 points: slope's standard error is
	// σ/√Σ(x−x̄)² with σ² = RSS/(n−2).
	res := leastSquares([][]float64{{1, 0}, {1, 1}, {1, 2}, {1, 3}}, []float64{1, -1 + 1, 2 + 1, 3 - 1})
	rss := 0.0
	for _, r := range res.resid {
		rss += r * r
	}
	if want := math.Sqrt(rss/2) / math.Sqrt(5); math.Abs(res.stderr[1]-want) > 1e-12 {
		t.Errorf("slope stderr %v, want %v", res.stderr[1], want)
	}
}

// synthetic lays out probes whose timings follow the cost model exactly.
type synthetic struct {
	stepFixed, prefillToken, frontend, attention, decodeSeq, decodeContext, overhead float64
	chunk                                                                            int
	noHits                                                                           bool // the server's prefix cache never hits
}

func (s synthetic) ttft(p, cached int) time.Duration {
	n := float64(p - cached)
	steps := math.Ceil(n / float64(s.chunk))
	sec := s.overhead + s.frontend*float64(p) + steps*s.stepFixed + n*s.prefillToken + s.attention*(n*float64(cached)+n*(n-1)/2)
	return time.Duration(sec * 1e9)
}

func (s synthetic) obs(lengths, batches []int, gen int) []Obs {
	var out []Obs
	at := time.Unix(0, 0)
	add := func(probe string, p, cached, batch int) {
		first := s.ttft(p, cached)
		ctx := float64(batch) * (float64(p) + float64(gen)/2)
		itl := s.stepFixed + s.decodeSeq*float64(batch) + s.decodeContext*ctx
		end := first + time.Duration(itl*1e9*float64(gen-1))
		for range batch {
			out = append(out, Obs{Probe: probe, PromptTokens: p, CachedTokens: cached, CompletionTokens: gen, Start: at, TTFT: first, End: end})
		}
		at = at.Add(end + time.Second)
	}
	for _, p := range lengths {
		add(ProbeCold, p, 0, 1)
		if s.noHits {
			add(ProbeCached, p+40, 0, 1)
		} else {
			add(ProbeCached, p+40, p-p%16, 1)
		}
	}
	for _, b := range batches {
		add(ProbeDecode, 64, 0, b)
	}
	return out
}

func TestFitRecoversExactModel(t *testing.T) {
	base, _ := profile.Config(profile.SeedVLLM)
	truth := synthetic{stepFixed: 0.012, prefillToken: 40e-6, frontend: 3e-6, attention: 2e-9,
		decodeSeq: 0.3e-3, decodeContext: 20e-9, overhead: 0.0007, chunk: base.MaxBatchedTokens}
	fit, err := FitObs(truth.obs([]int{1000, 4000, 9000, 20000}, []int{1, 4, 16}, 32), base)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"step_fixed": 0.012, "prefill_token_us": 40, "frontend_token_us": 3,
		"prefill_attention_ns": 2, "decode_seq_us": 300, "decode_context_ns": 20}
	for _, p := range fit.Params {
		if !p.Identified || math.Abs(p.Value-want[p.Name]) > 2e-3*want[p.Name] {
			t.Errorf("%s = %v (identified %v, %s), want %v", p.Name, p.Value, p.Identified, p.Why, want[p.Name])
		}
	}
	if math.Abs(fit.OverheadMS-0.7) > 0.01 {
		t.Errorf("overhead %v ms, want 0.7", fit.OverheadMS)
	}
	for _, q := range fit.Quality {
		if q.MaxFraction > 1e-3 {
			t.Errorf("%s: residuals up to %v of the measured value on an exact model", q.Fit, q.MaxFraction)
		}
	}
}

func TestFitKeepsBaseForWhatItCannotSee(t *testing.T) {
	base, _ := profile.Config(profile.SeedVLLM)
	// A server whose prefix cache never hits: the cached probes are cold too.
	truth := synthetic{stepFixed: 0.012, prefillToken: 40e-6, frontend: 3e-6, decodeSeq: 0.3e-3, chunk: base.MaxBatchedTokens, noHits: true}
	fit, err := FitObs(truth.obs([]int{1000, 4000, 9000}, []int{1, 4}, 32), base)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Param{}
	for _, p := range fit.Params {
		got[p.Name] = p
	}
	// Without a cached probe the prompt length and the tokens computed are
	// the same column: the front end's share cannot be told apart.
	if p := got["frontend_token_us"]; p.Identified || p.Value != 2 || !strings.Contains(p.Why, "did not vary") {
		t.Errorf("frontend_token_us = %+v, want the base value 2 kept as not identified", p)
	}
	if p := got["prefill_token_us"]; !p.Identified || math.Abs(p.Value-41) > 0.05 {
		t.Errorf("prefill_token_us = %+v, want 41 (43 per token in all less the base front end's 2)", p)
	}
	// Attention costs nothing here: the data pins it at 0, not at the base's 1.2.
	if p := got["prefill_attention_ns"]; !p.Identified || math.Abs(p.Value) > 1e-3 {
		t.Errorf("prefill_attention_ns = %+v, want 0", p)
	}
}

// TestFitNamesWhatItCannotExplain: a probe the cost model misses by more
// than a fifth of its measured value is named, with its measured and
// fitted times; an exact model names none.
func TestFitNamesWhatItCannotExplain(t *testing.T) {
	base, _ := profile.Config(profile.SeedVLLM)
	truth := synthetic{stepFixed: 0.012, prefillToken: 40e-6, frontend: 3e-6, decodeSeq: 0.3e-3, overhead: 0.001, chunk: base.MaxBatchedTokens}
	for _, tc := range []struct {
		name  string
		slow  float64 // the longest cold probe's TTFT is multiplied by this
		wants []string
	}{
		{"exact", 1, nil},
		{"longest cold prefill 3× slower", 3, []string{"ttft fit: 3 of 8 probes off by more than 20%; the worst, the cold probe of ", "where the model says"}},
	} {
		obs := truth.obs([]int{1000, 4000, 9000, 20000}, []int{1, 4, 16}, 32)
		for i := range obs {
			if obs[i].Probe == ProbeCold && obs[i].PromptTokens == 20000 {
				first := time.Duration(float64(obs[i].TTFT) * tc.slow)
				obs[i].End += first - obs[i].TTFT
				obs[i].TTFT = first
			}
		}
		fit, err := FitObs(obs, base)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(fit.Unexplained, "\n")
		if (tc.wants == nil) != (got == "") {
			t.Errorf("%s: unexplained %q", tc.name, got)
		}
		for _, w := range tc.wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s: unexplained %q does not say %q", tc.name, got, w)
			}
		}
	}
}

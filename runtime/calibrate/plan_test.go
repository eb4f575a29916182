package calibrate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

func TestPlanBound(t *testing.T) {
	base, _ := profile.Config(profile.SeedVLLM)
	for _, tc := range []struct {
		name        string
		opts        Options
		maxModelLen int
		lengths     []int
		requests    int
		bound       time.Duration
	}{
		{"defaults, long context", Options{}, 1_010_000, DefaultLengths, 41, 23*2*time.Minute + 13*resetLimit},
		{"lengths cut to half the context", Options{}, 32768, []int{1024, 4096, 8192}, 33, 15*2*time.Minute + 9*resetLimit},
		{"small probe", Options{Lengths: []int{64, 128}, Repeats: 1, Batches: []int{1, 4}, RequestLimit: 10 * time.Second}, 0,
			[]int{64, 128}, 9, 6*10*time.Second + 4*resetLimit},
	} {
		p := NewPlan(tc.opts, tc.maxModelLen, base)
		if !slices.Equal(p.Lengths, tc.lengths) || p.Requests != tc.requests || p.Bound != tc.bound {
			t.Errorf("%s: lengths %v, %d requests, bound %s; want %v, %d, %s", tc.name, p.Lengths, p.Requests, p.Bound, tc.lengths, tc.requests, tc.bound)
		}
		if p.Expected <= 0 || p.Expected >= p.Bound {
			t.Errorf("%s: expected %s not within (0, %s)", tc.name, p.Expected, p.Bound)
		}
		var w strings.Builder
		p.Write(&w)
		if !strings.Contains(w.String(), "at most "+p.Bound.String()) {
			t.Errorf("%s: plan does not state its bound:\n%s", tc.name, w.String())
		}
	}
}

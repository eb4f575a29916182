package openloop

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func users(arrival string, burst float64, n int) *spec.Users {
	return &spec.Users{Arrival: arrival, Burstiness: burst, Sessions: n,
		Think: spec.Think{Distribution: spec.ThinkConstant, Mean: 10 * time.Second}}
}

// moments returns the mean and the coefficient of variation of xs.
func moments(xs []float64) (mean, cv float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(v/float64(len(xs))) / mean
}

func gapsOf(ss []Session) []float64 {
	out := make([]float64, 0, len(ss)-1)
	for i := 1; i < len(ss); i++ {
		out = append(out, (ss[i].Arrival - ss[i-1].Arrival).Seconds())
	}
	return out
}

// The gaps have the rate's mean, and the spread the process promises: none
// for constant, a CV of 1 for Poisson, 1/√shape for gamma.
func TestArrivalMoments(t *testing.T) {
	tests := []struct {
		name    string
		arrival string
		burst   float64
		wantCV  float64
	}{
		{"constant", spec.ArrivalConstant, 0, 0},
		{"poisson", spec.ArrivalPoisson, 0, 1},
		{"gamma bursty", spec.ArrivalGamma, 0.25, 2},
		{"gamma shape 1 is poisson", spec.ArrivalGamma, 1, 1},
		{"gamma regular", spec.ArrivalGamma, 4, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := Schedule(users(tt.arrival, tt.burst, 40001), 30, 0, 7)
			if err != nil {
				t.Fatal(err)
			}
			mean, cv := moments(gapsOf(ss))
			if math.Abs(mean-2) > 0.06 { // 30 a minute: 2 s apart
				t.Errorf("mean gap %.3fs, want 2s ±3%%", mean)
			}
			if math.Abs(cv-tt.wantCV) > 0.05*max(tt.wantCV, 0.2) {
				t.Errorf("gap CV %.3f, want %.2f", cv, tt.wantCV)
			}
		})
	}
}

func TestThinkMoments(t *testing.T) {
	tests := []struct {
		name   string
		think  spec.Think
		wantCV float64
	}{
		{"constant", spec.Think{Distribution: spec.ThinkConstant, Mean: 15 * time.Second}, 0},
		{"exponential", spec.Think{Distribution: spec.ThinkExponential, Mean: 15 * time.Second}, 1},
		// A log-normal's CV is √(exp(σ²) − 1).
		{"lognormal", spec.Think{Distribution: spec.ThinkLogNormal, Mean: 15 * time.Second, Sigma: 0.5}, math.Sqrt(math.Exp(0.25) - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := users(spec.ArrivalConstant, 0, 4000)
			u.Think = tt.think
			ss, err := Schedule(u, 60, 10, 3)
			if err != nil {
				t.Fatal(err)
			}
			var xs []float64
			for _, s := range ss {
				if len(s.Think) != 10 {
					t.Fatalf("session %d has %d think times, want 10", s.Index, len(s.Think))
				}
				for _, d := range s.Think {
					xs = append(xs, d.Seconds())
				}
			}
			mean, cv := moments(xs)
			if math.Abs(mean-15) > 0.3 {
				t.Errorf("mean think %.3fs, want 15s ±2%%", mean)
			}
			if math.Abs(cv-tt.wantCV) > 0.05*max(tt.wantCV, 0.2) {
				t.Errorf("think CV %.3f, want %.3f", cv, tt.wantCV)
			}
		})
	}
}

func TestScheduleSeeded(t *testing.T) {
	u := users(spec.ArrivalGamma, 0.5, 200)
	u.Think = spec.Think{Distribution: spec.ThinkLogNormal, Mean: 5 * time.Second, Sigma: 1}
	a, _ := Schedule(u, 12, 3, 42)
	b, _ := Schedule(u, 12, 3, 42)
	c, _ := Schedule(u, 12, 3, 43)
	if !slices.EqualFunc(a, b, sameSession) {
		t.Error("two schedules of one seed differ")
	}
	if slices.EqualFunc(a, c, sameSession) {
		t.Error("seeds 42 and 43 gave the same schedule")
	}
	// Pinned: the draws are splitmix64's, the same on every machine.
	if got := a[1].Arrival; got != 4927448981 {
		t.Errorf("second arrival at %v (%d ns); the seeded stream changed", got, got)
	}
}

func sameSession(a, b Session) bool {
	return a.Index == b.Index && a.Arrival == b.Arrival && slices.Equal(a.Think, b.Think)
}

// At twice the rate every arrival comes at half the time, and every
// session thinks the same: points of a sweep differ only in the rate.
func TestScheduleAcrossRates(t *testing.T) {
	u := users(spec.ArrivalPoisson, 0, 300)
	u.Think.Distribution = spec.ThinkExponential
	slow, _ := Schedule(u, 10, 4, 9)
	fast, _ := Schedule(u, 20, 4, 9)
	for i := range slow {
		if d := slow[i].Arrival - 2*fast[i].Arrival; d < -2 || d > 2 {
			t.Fatalf("session %d arrives at %v at rate 10, %v at rate 20", i, slow[i].Arrival, fast[i].Arrival)
		}
		if !slices.Equal(slow[i].Think, fast[i].Think) {
			t.Fatalf("session %d thinks %v at rate 10, %v at rate 20", i, slow[i].Think, fast[i].Think)
		}
	}
}

func TestScheduleDuration(t *testing.T) {
	u := &spec.Users{Arrival: spec.ArrivalConstant, Duration: time.Minute}
	ss, err := Schedule(u, 30, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 30 || ss[29].Arrival != 58*time.Second {
		t.Errorf("%d sessions, last at %v; want 30, the last at 58s", len(ss), ss[len(ss)-1].Arrival)
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		name string
		u    spec.Users
		rate float64
	}{
		{"zero rate", spec.Users{Arrival: spec.ArrivalPoisson, Sessions: 3}, 0},
		{"infinite rate", spec.Users{Arrival: spec.ArrivalPoisson, Sessions: 3}, math.Inf(1)},
		{"neither bound", spec.Users{Arrival: spec.ArrivalPoisson}, 1},
		{"both bounds", spec.Users{Arrival: spec.ArrivalPoisson, Sessions: 3, Duration: time.Minute}, 1},
		{"gamma without shape", spec.Users{Arrival: spec.ArrivalGamma, Sessions: 3}, 1},
		{"unknown arrival", spec.Users{Arrival: "uniform", Sessions: 3}, 1},
		{"too many sessions", spec.Users{Arrival: spec.ArrivalConstant, Duration: 1000 * time.Hour}, 60_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ss, err := Schedule(&tt.u, tt.rate, 1, 1); err == nil {
				t.Errorf("no error; %d sessions", len(ss))
			}
		})
	}
}

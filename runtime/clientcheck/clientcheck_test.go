package clientcheck

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name    string
		r       Report
		ttft    time.Duration
		limited bool
		why     string
	}{
		{"quiet", Report{LagMax: 2 * ms}, 20 * ms, false, ""},
		{"stall under the floor", Report{LagMax: 9 * ms}, 20 * ms, false, ""},
		{"stall at the floor", Report{LagMax: 10 * ms}, 20 * ms, true, "stalled for 10ms (threshold 10ms"},
		{"stall small next to a slow TTFT", Report{LagMax: 50 * ms}, 700 * ms, false, ""},
		{"stall of a tenth of the TTFT", Report{LagMax: 70 * ms}, 700 * ms, true, "threshold 70ms"},
		{"no successful turn: the floor decides", Report{LagMax: 1500 * ms}, 0, true, "stalled for 1.5s"},
		{"saturated cores", Report{Wall: time.Second, CPU: 1900 * ms, Cores: 2, CPUKnown: true}, 20 * ms, true, "used 95% of its 2 cores"},
		{"busy but not saturated", Report{Wall: time.Second, CPU: 1700 * ms, Cores: 2, CPUKnown: true}, 20 * ms, false, ""},
		{"CPU unknown", Report{Wall: time.Second, Cores: 2}, 20 * ms, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			limited, why := Judge(tc.r, tc.ttft)
			if limited != tc.limited || !strings.Contains(why, tc.why) {
				t.Errorf("Judge = %v %q, want %v containing %q", limited, why, tc.limited, tc.why)
			}
		})
	}
}

// Hand-computed: 200 ticks, 197 on time, one 3 ms, one 12 ms and one 40 ms
// late. p99 rank = 198: the 198th smallest lag is 3 ms, in the ≤ 4 ms bucket.
func TestLagHistogram(t *testing.T) {
	var h lagHistogram
	for range 197 {
		h.observe(0)
	}
	h.observe(3 * time.Millisecond)
	h.observe(12 * time.Millisecond)
	h.observe(40 * time.Millisecond)
	r := h.report()
	if r.Ticks != 200 || r.LagMax != 40*time.Millisecond || r.LagP99 != 4*time.Millisecond || r.Stalls != 2 {
		t.Fatalf("report %+v; want 200 ticks, max 40ms, p99 ≤ 4ms, 2 stalls", r)
	}
}

// A clock that jumps 1.5 s between two ticks is a 1.5 s stall, whatever
// the machine's real scheduling. The jump lands in one gap between two
// readings, and that gap's real part can be up to one Period short of
// Period when the reading before it was late (a busy machine), so the stall
// measured is at least 1.5 s − Period, not 1.5 s.
func TestMonitorSeesAStall(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	m := Start(clock)
	time.Sleep(5 * Period)
	offset.Store(int64(1500 * time.Millisecond))
	time.Sleep(5 * Period)
	r := m.Stop()
	if r.LagMax < 1500*time.Millisecond-Period || r.Ticks < 2 || r.Cores < 1 {
		t.Fatalf("report %+v; want a stall of at least 1.5s − %v", r, Period)
	}
	if limited, _ := Judge(r, 20*time.Millisecond); !limited {
		t.Fatal("a 1.5s stall not judged client-limited")
	}
}

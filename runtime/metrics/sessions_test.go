package metrics

import (
	"math"
	"testing"
	"time"
)

func TestCountSessions(t *testing.T) {
	// u1: 0–10 s over two turns; u2: 4–6 s; u3 dropped; u4: 8–20 s,
	// canceled at the end.
	recs := []Record{
		{Session: "u1", Turn: 0, Start: 0, Duration: 2},
		{Session: "u2", Turn: 0, Start: 4, Duration: 2},
		{Session: "u1", Turn: 1, Start: 7, Duration: 3},
		{Session: "u3", Turn: 0, Start: 5, Error: ErrDropped},
		{Session: "u3", Turn: 1, Start: 5, Error: ErrDropped},
		{Session: "u4", Turn: 0, Start: 8, Duration: 12, Error: ErrCanceled},
	}
	tests := []struct {
		name     string
		from, to float64
		mean     float64
		peak     int
	}{
		// Active: 1 on [0,4), 2 on [4,6), 1 on [6,8), 2 on [8,10), 1 on [10,20).
		{"whole run", 0, 20, (4 + 4 + 2 + 4 + 10) / 20.0, 2},
		{"inside one session's span", 6.5, 7.5, 1, 1},
		{"from the middle", 5, 9, (2 + 2 + 2) / 4.0, 2},
		{"after all ended", 25, 30, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountSessions(recs, tt.from, tt.to)
			if got.Started != 3 || got.Finished != 2 || got.Dropped != 1 {
				t.Errorf("started %d finished %d dropped %d, want 3 2 1", got.Started, got.Finished, got.Dropped)
			}
			if got.DurationMean != 6*time.Second { // (10 + 2) / 2
				t.Errorf("mean duration %v, want 6s", got.DurationMean)
			}
			if math.Abs(got.ActiveMean-tt.mean) > 1e-9 || got.ActiveMax != tt.peak {
				t.Errorf("active mean %v max %d, want %v %d", got.ActiveMean, got.ActiveMax, tt.mean, tt.peak)
			}
		})
	}
}

// Hand-computed: u1 is active over [0, 7] with a follow-up at 5 s (TTFT
// 1 s), u2 over [12, 15] with one at 14 s (TTFT 3 s), u3 is dropped at
// 16 s; in 10-s buckets of a 20-s point that is 1 then 2 arrivals, 0.7
// then 0.3 sessions active on average, TTFT p95 1 s then 3 s (a dropped
// turn was never sent).
func TestSessionTimeline(t *testing.T) {
	recs := []Record{
		{Session: "u1", Turn: 0, Start: 0, Duration: 2, TTFT: 0.5},
		{Session: "u1", Turn: 1, Start: 5, Duration: 2, TTFT: 1},
		{Session: "u2", Turn: 0, Start: 12, Duration: 1, TTFT: 0.5},
		{Session: "u2", Turn: 1, Start: 14, Duration: 1, TTFT: 3},
		{Session: "u3", Turn: 0, Start: 16, Error: ErrDropped},
		{Session: "u3", Turn: 1, Start: 16, Error: ErrDropped},
	}
	tl := SessionTimeline(recs, 20, 10)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if tl.Step != 10 || len(tl.Arrivals) != 2 || tl.Arrivals[0] != 1 || tl.Arrivals[1] != 2 {
		t.Fatalf("timeline %+v; want 2 buckets of 10 s, arrivals 1 and 2", tl)
	}
	if !near(tl.Active[0], 0.7) || !near(tl.Active[1], 0.3) || tl.TTFTP95[0] != 1 || tl.TTFTP95[1] != 3 {
		t.Errorf("active %v, ttft p95 %v; want [0.7 0.3] and [1 3]", tl.Active, tl.TTFTP95)
	}
}

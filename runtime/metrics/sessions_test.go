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

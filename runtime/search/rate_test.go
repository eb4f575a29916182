package search

import (
	"math"
	"testing"
)

// runRates runs the search against a server that passes every rate up to
// limit, and returns the rates it ran in order.
func runRates(cfg RateConfig, limit float64) []RateResult {
	var done []RateResult
	for {
		r, ok := cfg.NextRate(done)
		if !ok {
			return done
		}
		done = append(done, RateResult{Rate: r, Passed: r <= limit})
		if len(done) > 100 {
			panic("the rate search does not end")
		}
	}
}

func TestRateSearch(t *testing.T) {
	declared := []float64{120, 30, 60, 240}
	tests := []struct {
		name     string
		cfg      RateConfig
		limit    float64
		pass     float64 // the best passing rate the search ends with; 0: none
		settled  bool
		maxRuns  int
		firstRun float64
	}{
		{"limit between declared rates", RateConfig{Rates: declared}, 100, 0, true, 8, 30},
		{"limit on a declared rate", RateConfig{Rates: declared}, 120, 120, true, 9, 30},
		{"every declared rate passes, no extend", RateConfig{Rates: declared}, 1000, 240, false, 4, 30},
		{"extend up to the limit", RateConfig{Rates: declared, Extend: true}, 700, 0, true, 12, 30},
		{"extend stops at max_rate", RateConfig{Rates: declared, Extend: true, MaxRate: 500}, 1e6, 500, false, 6, 30},
		{"nothing passes", RateConfig{Rates: declared}, 10, 0, false, 1, 30},
		{"max_points", RateConfig{Rates: declared, MaxPoints: 5}, 100, 0, false, 5, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := runRates(tt.cfg, tt.limit)
			if len(done) > tt.maxRuns || done[0].Rate != tt.firstRun {
				t.Errorf("ran %v; want at most %d points, starting at %v", done, tt.maxRuns, tt.firstRun)
			}
			b := tt.cfg.Bracket(done)
			if b.Settled != tt.settled {
				t.Errorf("settled %v, want %v (%+v)", b.Settled, tt.settled, b)
			}
			if tt.pass > 0 && b.Pass != tt.pass {
				t.Errorf("best rate %v, want %v", b.Pass, tt.pass)
			}
			// Whatever the case, the answer is a rate that passed, and no
			// rate at or below it failed.
			if b.Found && (b.Pass > tt.limit || b.Fail <= b.Pass) {
				t.Errorf("bracket %+v against a limit of %v", b, tt.limit)
			}
			if b.Settled && (b.Fail-b.Pass > 0.05*b.Pass || b.Pass > tt.limit || b.Fail <= tt.limit) {
				t.Errorf("settled bracket %+v does not hold the limit %v within 5%%", b, tt.limit)
			}
			if tt.name == "nothing passes" && (b.Found || !math.IsInf(b.Fail, 1) && b.Fail != 30) {
				t.Errorf("bracket %+v; want no pass, the lowest rate failing", b)
			}
		})
	}
}

// A pass above a failure (a contradiction) does not move the answer past
// the failure.
func TestRateBracketContradiction(t *testing.T) {
	b := RateConfig{Rates: []float64{10}}.Bracket([]RateResult{{10, true}, {20, false}, {40, true}})
	if b.Pass != 10 || b.Fail != 20 {
		t.Errorf("bracket %+v; want pass 10, fail 20", b)
	}
}

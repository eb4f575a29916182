package search

import (
	"fmt"
	"slices"
	"testing"
)

// checkLeft runs a search against oracle and, before every point, checks
// that Left bounds what the rest of the search runs: every point it runs
// from there on is in Left.Points, and there are at most Left.Max of them.
// Once the search is done, nothing is left. It returns the bounds it saw.
func checkLeft(t *testing.T, cfg Config, oracle func(c, s int) bool, label string) []Left {
	t.Helper()
	full := Plan(cfg, oracle)
	var seen []Left
	for cut := 0; cut <= len(full.Run); cut++ {
		s := New(cfg)
		for _, k := range full.Run[:cut] {
			s.Record(k[0], k[1], oracle(k[0], k[1]))
		}
		left := s.Left()
		seen = append(seen, left)
		rest := full.Run[cut:]
		if len(rest) > left.Max || left.Max > len(left.Points) {
			t.Fatalf("%s after %d points: %d more ran, Left.Max %d of %d points", label, cut, len(rest), left.Max, len(left.Points))
		}
		for _, k := range rest {
			if !slices.Contains(left.Points, k) {
				t.Fatalf("%s after %d points: %v ran later but is not in Left %v", label, cut, k, left.Points)
			}
		}
		if !slices.IsSortedFunc(left.Points, cmpCell) {
			t.Fatalf("%s: Left.Points not sorted: %v", label, left.Points)
		}
	}
	return seen
}

// Over every monotone staircase of a 5×5 grid, and past the grid's edge
// with extension, Left is an upper bound on what the search still runs.
func TestLeftBoundsTheRest(t *testing.T) {
	for _, score := range []string{ScoreSessions, ScoreHarmonic} {
		cfg := Config{Concurrent: []int{1, 2, 4, 8, 16}, Sequential: []int{1, 2, 3, 5, 8}, Score: score}
		n := 0
		staircases(5, 5, func(h []int) {
			checkLeft(t, cfg, oracleOf(cfg.Concurrent, cfg.Sequential, h), fmt.Sprintf("%s %v", score, h))
			n++
		})
		if n != 252 {
			t.Fatalf("enumerated %d staircases, want 252", n)
		}
	}
	extended := []Config{
		{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxConcurrent: 64, MaxSequential: 64},
		{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, ExtendStep: 2},
		{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxConcurrent: 8, MaxSequential: 4},
		{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxPoints: 5, MaxConcurrent: 1 << 10, MaxSequential: 1 << 10},
	}
	for i, cfg := range extended {
		for limit := 0; limit <= 300; limit += 7 {
			checkLeft(t, cfg, func(c, s int) bool { return c*s <= limit }, fmt.Sprintf("config %d, limit %d", i, limit))
		}
	}
}

// Hand-worked bounds on a 2×2 grid, and the cap of max_points.
func TestLeftByHand(t *testing.T) {
	s := New(Config{Concurrent: []int{1, 2}, Sequential: []int{1, 2}})
	if got := s.Left(); got.Max != 4 || len(got.Points) != 4 {
		t.Fatalf("nothing run: Left %+v, want all 4 points", got)
	}
	// (1,1) passes and (2,2) fails: (1,2) and (2,1) are undecided, and
	// their only upper neighbour, (2,2), has run.
	s.Record(1, 1, true)
	s.Record(2, 2, false)
	want := [][2]int{{1, 2}, {2, 1}}
	if got := s.Left(); got.Max != 2 || !slices.Equal(got.Points, want) {
		t.Fatalf("after (1,1) pass, (2,2) fail: Left %+v, want %v", got, want)
	}
	s.Record(2, 1, true) // the best; (1,2) ranks below it
	if got := s.Left(); got.Max != 0 || len(got.Points) != 0 {
		t.Fatalf("settled: Left %+v, want nothing", got)
	}

	// max_points caps how many of the undecided points may run.
	s = New(Config{Concurrent: seqAxis(3), Sequential: seqAxis(3), MaxPoints: 4})
	s.Record(1, 1, true)
	if got := s.Left(); got.Max != 3 || len(got.Points) != 8 {
		t.Fatalf("max_points 4 after one point: Left.Max %d of %d points, want 3 of 8", got.Max, len(got.Points))
	}
}

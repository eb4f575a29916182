package search

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPlansGolden pins the order points are tried in (what -dry-run shows)
// for knee-shaped limits, so a change to the heuristic is a visible diff.
func TestPlansGolden(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		limit int // pass while C×S ≤ limit
	}{
		{"4x4 limit 12", Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)}, 12},
		{"4x4 limit 24 extended", Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxConcurrent: 64, MaxSequential: 8}, 24},
		{"8x8 limit 20 harmonic", Config{Concurrent: seqAxis(8), Sequential: seqAxis(8), Score: ScoreHarmonic}, 20},
		{"16x4 limit 20", Config{Concurrent: seqAxis(16), Sequential: seqAxis(4)}, 20},
		{"irregular limit 30", Config{Concurrent: []int{1, 2, 4, 8, 16}, Sequential: []int{1, 2, 3, 5, 8}}, 30},
	}
	var b strings.Builder
	for _, tc := range cases {
		r := Plan(tc.cfg, func(c, s int) bool { return c*s <= tc.limit })
		fmt.Fprintf(&b, "%s: ran %d of %d in-grid points\n", tc.name, len(r.Run), len(tc.cfg.Concurrent)*len(tc.cfg.Sequential))
		for i, k := range r.Run {
			fmt.Fprintf(&b, "  %2d. c=%d s=%d %v\n", i+1, k[0], k[1], r.Outcomes[k])
		}
		fmt.Fprintf(&b, "  in-grid best %+v, extended best %+v, bracketed %v, settled %v\n", r.InGridBest, r.ExtendedBest, r.Bracketed, r.Settled)
	}
	got := b.String()
	path := filepath.Join("testdata", "plans.golden.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("plans differ from %s (run with -update after checking):\n%s", path, got)
	}
}

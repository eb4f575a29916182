package spec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"0/3", Shard{0, 3}, ""},
		{"2/3", Shard{2, 3}, ""},
		{"0/1", Shard{0, 1}, ""},
		{"3/3", Shard{}, "with 3 parts it is 0 to 2"},
		{"-1/2", Shard{}, "with 2 parts it is 0 to 1"},
		{"0/0", Shard{}, "at least 1"},
		{"a/b", Shard{}, "want I/N"},
		{"1", Shard{}, "want I/N"},
		{"1/2/3", Shard{}, "want I/N"},
		{"", Shard{}, "want I/N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseShard(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// The 4×4 grid in 3 shards, worked by hand from the rule in
// docs/results.md: C=4 S=4 (16) to shard 0, C=3 S=4 and C=4 S=3 (12 each)
// to shards 1 and 2, C=3 S=3 (9) to shard 1 (12, the least, tied with shard
// 2: the lower index), C=2 S=4 (8) to shard 2, C=4 S=2 (8) to shard 0, and
// so on down to C=1 S=1. The shards get 34, 33 and 33.
func TestDealPointsWorkedExample(t *testing.T) {
	g := Grid{Concurrent: []int{1, 2, 3, 4}, Sequential: []int{1, 2, 3, 4}}
	want := [][][2]int{
		{{1, 1}, {1, 2}, {1, 3}, {1, 4}, {4, 2}, {4, 4}}, // 1+2+3+4+8+16 = 34
		{{2, 1}, {3, 2}, {3, 3}, {3, 4}, {4, 1}},         // 2+6+9+12+4 = 33
		{{2, 2}, {2, 3}, {2, 4}, {3, 1}, {4, 3}},         // 4+6+8+3+12 = 33
	}
	got := DealPoints(g.Points(), 3)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("shard %d: %v, want %v", i, got[i], want[i])
		}
		if p := (Shard{Index: i, Count: 3}).Points(g); !slices.Equal(p, want[i]) {
			t.Errorf("Shard{%d, 3}.Points = %v, want %v", i, p, want[i])
		}
	}
	if got := (Shard{}).Points(g); !slices.Equal(got, g.Points()) {
		t.Errorf("the unsharded shard runs %v, want the whole grid", got)
	}
}

// Every point belongs to exactly one shard, each in grid order, and no
// shard's work exceeds another's by more than the largest point's cost.
func TestDealPointsDisjointAndBalanced(t *testing.T) {
	grids := []Grid{
		{Concurrent: []int{1, 2, 3, 4}, Sequential: []int{1, 2, 3, 4}},
		{Concurrent: []int{8, 1, 4}, Sequential: []int{16, 2}},
		{Concurrent: []int{1}, Sequential: []int{1, 2, 3, 4, 5, 6, 7}},
		{Concurrent: []int{32, 64}, Sequential: []int{1}},
	}
	for _, g := range grids {
		for count := 1; count <= 9; count++ {
			t.Run(fmt.Sprintf("%v×%v/%d", g.Concurrent, g.Sequential, count), func(t *testing.T) {
				checkDeal(t, g, count)
			})
		}
	}
}

func checkDeal(t *testing.T, g Grid, count int) {
	t.Helper()
	all := g.Points()
	parts := DealPoints(all, count)
	if len(parts) != count {
		t.Fatalf("%d parts, want %d", len(parts), count)
	}
	seen := map[[2]int]int{}
	load := make([]int, count)
	largest := 0
	for k, part := range parts {
		for _, p := range part {
			seen[p]++
			load[k] += PointCost(p)
			largest = max(largest, PointCost(p))
		}
		gridOrder := slices.DeleteFunc(slices.Clone(all), func(p [2]int) bool { return !slices.Contains(part, p) })
		if !slices.Equal(part, gridOrder) {
			t.Errorf("part %d is %v, not in grid order %v", k, part, gridOrder)
		}
	}
	for _, p := range all {
		if seen[p] != 1 {
			t.Errorf("point %v is in %d parts", p, seen[p])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("the parts hold %d points, the grid %d", len(seen), len(all))
	}
	if spread := slices.Max(load) - slices.Min(load); count <= len(all) && spread > largest {
		t.Errorf("loads %v differ by %d, more than the largest point's cost %d", load, spread, largest)
	}
}

func TestCheckShard(t *testing.T) {
	grid := Grid{Concurrent: []int{1, 2}, Sequential: []int{1, 2}}
	tests := []struct {
		name  string
		sc    Scenario
		shard Shard
		want  string // "" for no error
	}{
		{"unsharded search", Scenario{Name: "x", Grid: grid, Search: &Search{Kind: "frontier"}}, Shard{}, ""},
		{"grid", Scenario{Name: "x", Grid: grid}, Shard{3, 4}, ""},
		{"frontier search", Scenario{Name: "x", Grid: grid, Search: &Search{Kind: "frontier"}}, Shard{0, 2},
			"remove the search block and run the whole grid, or run the search unsharded"},
		{"open loop", Scenario{Name: "x", Users: &Users{Rates: []float64{10, 20}}}, Shard{0, 2},
			"open-loop sweep (users block) searches its arrival rate"},
		{"more shards than points", Scenario{Name: "x", Grid: grid}, Shard{4, 5},
			`scenario "x": shard 4/5 has no point: the grid has 4 points, so at most 4 shards have work`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckShard(&tt.sc, tt.shard)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckShard: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckShard = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

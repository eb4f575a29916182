package spec

import (
	"slices"
	"testing"
)

func TestGridPoints(t *testing.T) {
	tests := []struct {
		name string
		g    Grid
		want [][2]int
	}{
		{"empty", Grid{}, [][2]int{}},
		{"no S", Grid{Concurrent: []int{1, 2}}, [][2]int{}},
		{"C outer, written order", Grid{Concurrent: []int{4, 1}, Sequential: []int{2, 3}},
			[][2]int{{4, 2}, {4, 3}, {1, 2}, {1, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Points(); !slices.Equal(got, tt.want) {
				t.Errorf("Points() = %v, want %v", got, tt.want)
			}
		})
	}
}

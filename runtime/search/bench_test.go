package search

import (
	"fmt"
	"testing"
)

func BenchmarkPlan(b *testing.B) {
	for _, n := range [][2]int{{4, 4}, {16, 4}, {16, 16}, {64, 64}} {
		cs, ss := seqAxis(n[0]), seqAxis(n[1])
		lim := n[0] * n[1] / 3
		oracle := func(c, s int) bool { return c*s <= lim }
		cfg := Config{Concurrent: cs, Sequential: ss}
		b.Run(fmt.Sprintf("%dx%d", n[0], n[1]), func(b *testing.B) {
			ran := 0
			for b.Loop() {
				ran = len(Plan(cfg, oracle).Run)
			}
			b.ReportMetric(float64(ran), "points")
		})
	}
}

package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
)

// Under the frontier search, points implied to fail only by an undecided
// point count toward the caveat: with (4,2) undecided, the unrun (4,4) and
// (8,2) rank above the best (2,8), and the headline says points that would
// rank above it could not be judged.
func TestHeadlineNamesPointsImpliedByUndecided(t *testing.T) {
	axes := []int{1, 2, 4, 8}
	cfg := search.Config{Concurrent: axes, Sequential: axes, Score: search.ScoreSessions}
	truth := func(c, s int) bool { return c*s <= 16 }
	undecided := [2]int{4, 2}
	s := search.New(cfg)
	r := &results.Results{Score: search.ScoreSessions, SLOs: []results.SLO{{Name: "kv", Condition: "kv_cache_usage_max < 0.9"}}}
	var outs []search.PointOutcome
	for {
		c, q, ok := s.Next()
		if !ok {
			break
		}
		o := metrics.Fail
		if [2]int{c, q} == undecided {
			o = metrics.NoData
		} else if truth(c, q) {
			o = metrics.Pass
		}
		r.Points = append(r.Points, pt(c, q, o, "kv_cache_usage_max: every scrape of /metrics during the point failed"))
		s.Record(c, q, o == metrics.Pass)
		outs = append(outs, search.PointOutcome{C: c, S: q, Passed: o == metrics.Pass})
	}
	res := s.Result()
	c, q, ok := search.Best(outs, cfg.Score)
	if !ok {
		t.Fatal("no best point")
	}
	r.Best = &results.Best{Concurrent: c, Sequential: q, Sessions: c * q}
	r.Search = &results.Search{Kind: "frontier"}
	var higher []string
	for k, o := range res.Implied {
		r.Search.Implied = append(r.Search.Implied, results.ImpliedPoint{Concurrent: k[0], Sequential: k[1], Passed: o == search.Pass})
		if o == search.Fail && search.Better(cfg.Score, k, [2]int{c, q}) {
			higher = append(higher, fmt.Sprintf("C=%d S=%d", k[0], k[1]))
		}
	}
	if len(higher) == 0 {
		t.Fatalf("no implied point ranks above the best (%d,%d); run %v", c, q, res.Run)
	}
	text, _ := conclusion(r)
	if !strings.Contains(text, "could not be judged") {
		t.Errorf("headline %q: %v rank above the best and were only implied to fail by the undecided point %v (run: %v)",
			text, higher, undecided, res.Run)
	}
}

// The caveat ranks undecided points by the scenario's score: with
// score = "harmonic" an undecided point with a higher harmonic score is
// cited, and one with more sessions but a lower score is not.
func TestHeadlineCaveatUsesTheScore(t *testing.T) {
	const why = "kv_cache_usage_max: the target has no metrics source"
	r := &results.Results{Score: "harmonic", SLOs: []results.SLO{{Name: "kv", Condition: "kv_cache_usage_max < 0.9"}}}
	// Best by harmonic mean among the passing: (2,10): 2*20/12 = 3.33.
	r.Points = []results.Point{pt(2, 10, metrics.Pass, ""), pt(4, 4, metrics.NoData, why)}
	r.Best = &results.Best{Concurrent: 2, Sequential: 10, Sessions: 20, Score: 2 * 20.0 / 12}
	text, _ := conclusion(r)
	if !strings.Contains(text, "could not be judged") {
		t.Errorf("headline %q: (4,4) has harmonic score 4 > 3.33 and could not be judged, so the best may be higher", text)
	}
	r.Points = []results.Point{pt(3, 3, metrics.Pass, ""), pt(1, 12, metrics.NoData, why)}
	r.Best = &results.Best{Concurrent: 3, Sequential: 3, Sessions: 9, Score: 3}
	text, _ = conclusion(r)
	if strings.Contains(text, "may be higher") {
		t.Errorf("headline %q: (1,12) has harmonic score 1.85 < 3 and could never beat the best, yet is cited", text)
	}
}

// A sweep stopped early (the target went down, or Ctrl-C) has a best point
// only among the points that ran; the headline says the sweep stopped and
// does not state that point as the limit.
func TestHeadlineOfAStoppedSweep(t *testing.T) {
	r := &results.Results{Score: "sessions", Stopped: "target is down: 8 consecutive connection failures", Complete: false,
		Grid:   results.Grid{Concurrent: []int{1, 2, 4}, Sequential: []int{1, 2, 4}},
		SLOs:   []results.SLO{{Name: "kv", Condition: "ttft_p95 <= 2s"}},
		Points: []results.Point{pt(1, 1, metrics.Pass, ""), pt(1, 2, metrics.Pass, "")},
		Best:   &results.Best{Concurrent: 1, Sequential: 2, Sessions: 2}}
	text, _ := conclusion(r)
	if !strings.Contains(text, "stopped") && !strings.Contains(text, "may be higher") {
		t.Errorf("headline %q states the best of 2 of 9 points as the limit of a sweep that stopped early", text)
	}
}

package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// keepPoints keeps the fixture's points that keep says to, and names the
// best of them.
func keepPoints(r *results.Results, keep func(c, s int) bool) {
	r.Points = slices.DeleteFunc(r.Points, func(p results.Point) bool { return !keep(p.Concurrent, p.Sequential) })
	r.Best = nil
	for _, p := range r.Points {
		n := p.Concurrent * p.Sequential
		if p.Passed && (r.Best == nil || n > r.Best.Sessions || n == r.Best.Sessions && p.Concurrent > r.Best.Concurrent) {
			r.Best = &results.Best{Concurrent: p.Concurrent, Sequential: p.Sequential, Sessions: n, Score: float64(n)}
		}
	}
}

// shardOf2 is the shard of the 4×4 grid in 3 shards that runs C=4 S=3,
// the fixture's best point (docs/results.md works the deal out).
var shard2of3 = [][2]int{{2, 2}, {2, 3}, {2, 4}, {3, 1}, {4, 3}}

// mergedWithout is the 4×4 fixture merged from shards 0 and 1 of 3, shard
// 2 not given: its points, the best C=4 S=3 among them, are missing.
func mergedWithout2() *results.Results {
	r := vllmFixture()
	keepPoints(r, func(c, s int) bool { return !slices.Contains(shard2of3, [2]int{c, s}) })
	r.Complete = false
	r.Merged = &results.Merged{Count: 3, Shards: []results.MergedShard{{Index: 0, Folder: "out-0/seed-vllm", Points: 6, Complete: true}, {Index: 1, Folder: "out-1/seed-vllm", Points: 5, Complete: true}}}
	r.Missing = &results.Missing{Shards: []int{2}}
	for _, k := range shard2of3 {
		r.Missing.Points = append(r.Missing.Points, results.MissingPoint{Concurrent: k[0], Sequential: k[1], Shard: 2})
	}
	return r
}

// A point that did not run says nothing about the limit: when one would
// rank above the best, the headline, the terminal and the explanation of
// the knee say the limit may be higher and is not measured, and never
// explain a knee below the true best.
func TestUnrunPointsLimitTheAnswer(t *testing.T) {
	shard1 := vllmFixture()
	keepPoints(shard1, func(c, s int) bool {
		return slices.Contains([][2]int{{2, 1}, {3, 2}, {3, 3}, {3, 4}, {4, 1}}, [2]int{c, s})
	})
	shard1.Shard = &results.Shard{Index: 1, Count: 3}
	lowMissing := vllmFixture()
	keepPoints(lowMissing, func(c, s int) bool { return c*s > 1 })
	lowMissing.Complete, lowMissing.Stopped = false, "shard 0: interrupted"
	lowMissing.Merged = &results.Merged{Count: 3, Shards: []results.MergedShard{{Index: 0, Stopped: "interrupted"}, {Index: 1, Complete: true}, {Index: 2, Complete: true}}}
	lowMissing.Missing = &results.Missing{Points: []results.MissingPoint{{Concurrent: 1, Sequential: 1, Shard: 0}}}
	noneRan := mergedWithout2()
	for i := range noneRan.Points {
		noneRan.Points[i].Passed = false
	}
	noneRan.Best = nil
	stopped := vllmFixture() // a whole sweep stopped before C=4 S=3, its best
	keepPoints(stopped, func(c, s int) bool { return c < 4 })
	stopped.Complete, stopped.Stopped = false, "target is down: connection refused"
	stoppedNone := vllmFixture()
	keepPoints(stoppedNone, func(c, s int) bool { return c > 1 && c < 4 })
	for i := range stoppedNone.Points {
		stoppedNone.Points[i].Passed = false
	}
	stoppedNone.Best = nil
	stoppedNone.Complete, stoppedNone.Stopped = false, "interrupted"
	stoppedLast := vllmFixture() // every point ran before the sweep stopped
	stoppedLast.Complete, stoppedLast.Stopped = false, "every request failed"
	tests := []struct {
		name     string
		r        *results.Results
		headline []string
		terminal []string
		unrun    bool // the knee is unknown for the points that did not run
	}{
		{"a missing shard held the best point", mergedWithout2(),
			[]string{"Best: at least 9 sessions (C=3, S=3)", "1 point that would rank above it did not run (shard 2/3 was not merged), so the limit may be higher."},
			[]string{"Points missing: 5 of the grid's 16 did not run: C=2 S=2, C=2 S=3, C=2 S=4, C=3 S=1, C=4 S=3 (shard 2/3 was not merged)",
				": at least 9  => C=3, S=3 (1 point that could rank above it did not run)",
				"1 point that would rank above it did not run"},
			true},
		{"only a smaller point is missing", lowMissing,
			[]string{"Best: 12 sessions (C=4, S=3)"},
			[]string{": 12  => C=4, S=3\n", "Points missing: 1 of the grid's 16 did not run: C=1 S=1 (shard 0/3 stopped early: interrupted)"},
			false},
		{"a shard's own folder", shard1,
			[]string{"Best: at least 9 sessions (C=3, S=3)", "2 points that would rank above it did not run (they are the other shards' points; mrqa merge combines the shards), so the limit may be higher."},
			[]string{"Shard 1/3 of the sweep: 5 of the grid's 16 points ran here; mrqa merge combines the shards' folders into the sweep's answer."},
			true},
		{"nothing passed and points are missing", noneRan,
			[]string{"No point that ran passed the SLOs", "5 points did not run (shard 2/3 was not merged): the limit is not known."},
			[]string{": not known: no point run passed, and 5 points did not run (C=2 S=2, C=2 S=3, C=2 S=4, C=3 S=1, …)"},
			true},
		{"a whole sweep stopped before its best", stopped,
			[]string{"Best: at least 9 sessions (C=3, S=3)", "did not run (the sweep stopped early: target is down: connection refused), so the limit may be higher."},
			[]string{": at least 9  => C=3, S=3 (", "Sweep stopped early (target is down"},
			true},
		{"a whole sweep stopped with nothing passed", stoppedNone,
			[]string{"No point that ran passed the SLOs", "8 points did not run (the sweep stopped early: interrupted): the limit is not known."},
			[]string{": not known: no point run passed, and 8 points did not run (C=1 S=1, C=1 S=2, C=1 S=3, C=1 S=4, …)"},
			true},
		{"a whole sweep stopped at its last point", stoppedLast,
			[]string{"Best: 12 sessions (C=4, S=3)", "The sweep stopped early (every request failed)"},
			[]string{": 12  => C=4, S=3\n"},
			false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, _ := conclusion(tt.r)
			for _, w := range tt.headline {
				if !strings.Contains(text, w) {
					t.Errorf("headline %q\nlacks %q", text, w)
				}
			}
			var term strings.Builder
			Terminal(&term, tt.r)
			for _, w := range tt.terminal {
				if !strings.Contains(term.String(), w) {
					t.Errorf("terminal lacks %q:\n%s", w, term.String())
				}
			}
			for _, w := range []string{"the limit is below the smallest point run", "Max (C x S) where " + sloText(tt.r) + ": 0 "} {
				if tt.unrun && (strings.Contains(text, w) || strings.Contains(term.String(), w)) {
					t.Errorf("with points that did not run, the summary states a limit: %q in\n%s\n%s", w, text, term.String())
				}
			}
			k := explainKnee(tt.r)
			if got := k != nil && k.Cause == CauseUnknown && strings.Contains(k.Text, "did not run"); got != tt.unrun {
				t.Errorf("knee %+v: unknown for points that did not run: %v, want %v", k, got, tt.unrun)
			}
		})
	}
}

// The page of a merged sweep says where its points came from: the shard
// folders, each point's replica when the shards named their own (without
// credentials), which points are missing, and why its scrapes are not
// drawn over time.
func TestMergedPage(t *testing.T) {
	r := mergedWithout2()
	for i := range r.Points {
		r.Points[i].TargetBaseURL = "http://u:urlpw-0451@10.0.0.1:8000/v1"
		if r.Points[i].Concurrent == 3 {
			r.Points[i].TargetBaseURL = "http://10.0.0.2:8000/v1"
		}
		r.Points[i].Server = &results.ServerSummary{}
	}
	var b strings.Builder
	if err := Write(&b, r, Options{Secrets: []string{fakeSecret}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, w := range []string{
		"one per shard (the point table names each point&#39;s): http://10.0.0.1:8000/v1, http://10.0.0.2:8000/v1",
		">base_url<",
		"merged from 2 of 3 shards: out-0/seed-vllm (shard 0/3, 6 points); out-1/seed-vllm (shard 1/3, 5 points)",
		"full grid: 11 of its 16 points measured",
		"Points missing: 5 of the grid&#39;s 16 did not run",
		"these form no single timeline",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if i := strings.Index(page, "urlpw-0451"); i >= 0 {
		t.Errorf("the page holds a point's base URL credentials: …%s…", page[max(0, i-300):i+40])
	}
}

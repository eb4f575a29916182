package report

import (
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// pt builds a point whose one SLO had the given outcome.
func pt(c, s int, o metrics.Outcome, reason string) results.Point {
	return results.Point{Concurrent: c, Sequential: s, Passed: o == metrics.Pass,
		SLOs: []results.SLOOutcome{{Name: "kv", Outcome: o, Reason: reason}}}
}

// The headline states only what the data supports.
func TestConclusion(t *testing.T) {
	const why = "kv_cache_usage_max: the target has no metrics source"
	cases := []struct {
		name   string
		points []results.Point
		best   *results.Best
		kind   string
		want   []string // substrings
		not    string
	}{
		{"every point without data", []results.Point{pt(1, 1, metrics.NoData, why), pt(2, 2, metrics.NoData, why)}, nil,
			"nodata", []string{"No conclusion: none of the 2 points could be judged", why}, "below the smallest"},
		{"smallest failed on data", []results.Point{pt(1, 1, metrics.Fail, ""), pt(2, 2, metrics.NoData, why)}, nil,
			"fail", []string{"the limit is below the smallest point run (C=1, S=1)", "1 of 2 points could not be judged"}, ""},
		{"smallest could not be judged", []results.Point{pt(1, 1, metrics.NoData, why), pt(2, 2, metrics.Fail, "")}, nil,
			"fail", []string{"the smallest point could not be judged"}, "below the smallest"},
		{"expression error everywhere", []results.Point{pt(1, 1, metrics.Error, "cannot be evaluated: integer divide by zero")}, nil,
			"nodata", []string{"No conclusion", "divide by zero"}, ""},
		{"best with larger points undecided", []results.Point{pt(1, 1, metrics.Pass, ""), pt(2, 2, metrics.NoData, why)}, &results.Best{Concurrent: 1, Sequential: 1},
			"pass", []string{"Best: 1 sessions", "1 point that would rank above it could not be judged", "the limit may be higher"}, ""},
		{"plain best", []results.Point{pt(1, 1, metrics.Pass, ""), pt(2, 2, metrics.Fail, "")}, &results.Best{Concurrent: 1, Sequential: 1},
			"pass", []string{"Best: 1 sessions (C=1, S=1) with"}, "could not be judged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &results.Results{Points: tc.points, Best: tc.best, SLOs: []results.SLO{{Name: "kv", Condition: "kv_cache_usage_max < 0.9"}}}
			text, kind := conclusion(r)
			if kind != tc.kind {
				t.Errorf("kind %q, want %q (%s)", kind, tc.kind, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if tc.not != "" && strings.Contains(text, tc.not) {
				t.Errorf("%q says %q", text, tc.not)
			}
		})
	}
}

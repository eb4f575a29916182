package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// runSpecific are the keys of results.json that differ between any two
// runs of one sweep, and between a sweep run whole and merged from its
// shards (docs/results.md, "Sharding"): when it ran, the folder's identity
// salt, and merge's record of the shard folders. A point's "started" is
// a time of day too.
var runSpecific = []string{"started", "finished", "identity_salt", "merged"}

// sameresults A B checks that two results.json files are one sweep's: equal
// field by field, every point in full, but for the run-specific keys.
func cmdSameResults(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sameresults A B")
	}
	a, b := resultsMap(ts, args[0]), resultsMap(ts, args[1])
	var diffs []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range a {
			yield(k)
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				yield(k)
			}
		}
	}) {
		if k == "points" {
			diffs = append(diffs, pointDiffs(a[k], b[k])...)
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: %s vs %s", k, jsonText(a[k]), jsonText(b[k])))
		}
	}
	if len(diffs) > 0 {
		ts.Fatalf("%s and %s differ:\n%s", args[0], args[1], strings.Join(diffs, "\n"))
	}
}

func resultsMap(ts *testscript.TestScript, path string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(path)), &m); err != nil {
		ts.Fatalf("%s: %v", path, err)
	}
	for _, k := range runSpecific {
		delete(m, k)
	}
	for _, p := range asList(m["points"]) {
		delete(p.(map[string]any), "started")
	}
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// pointDiffs names the points that differ, key by key.
func pointDiffs(a, b any) []string {
	pa, pb := asList(a), asList(b)
	if len(pa) != len(pb) {
		return []string{fmt.Sprintf("points: %d vs %d", len(pa), len(pb))}
	}
	var out []string
	for i := range pa {
		x, y := pa[i].(map[string]any), pb[i].(map[string]any)
		for k := range x {
			if !reflect.DeepEqual(x[k], y[k]) {
				out = append(out, fmt.Sprintf("points[%d].%s: %s vs %s", i, k, jsonText(x[k]), jsonText(y[k])))
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				out = append(out, fmt.Sprintf("points[%d].%s: absent vs %s", i, k, jsonText(y[k])))
			}
		}
	}
	return out
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 160 {
		return string(b[:160]) + "…"
	}
	return string(b)
}

// reportParts are what samereport compares: the sections' headings, the
// figures' headings, the headline, the explanation of the knee and the
// expect line.
var reportParts = []*regexp.Regexp{
	regexp.MustCompile(`<h2>.*?</h2>`),
	regexp.MustCompile(`<h3>.*?</h3>`),
	regexp.MustCompile(`(?s)<p id="mrqa-answer".*?</p>`),
	regexp.MustCompile(`(?s)<div id="mrqa-knee".*?</div>`),
	regexp.MustCompile(`(?s)<p id="mrqa-expect".*?</p>`),
}

// overTheRun are the server charts drawn from one timeline of scrapes,
// which a merge of shards that ran at the same time has not.
var overTheRun = regexp.MustCompile(`<h3>.* over the run</h3>`)

// samereport A B checks that two report.html files have the same sections,
// figures (but the server's charts over the run), headline, explanation
// of the knee and expect line.
func cmdSameReport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: samereport A B")
	}
	a, b := ts.ReadFile(args[0]), ts.ReadFile(args[1])
	for _, re := range reportParts {
		pa, pb := reportMatches(re, a), reportMatches(re, b)
		if len(pa) == 0 {
			ts.Fatalf("%s has no %s", args[0], re)
		}
		if !slices.Equal(pa, pb) {
			ts.Fatalf("%s differs:\n%s: %q\n%s: %q", re, args[0], pa, args[1], pb)
		}
	}
}

func reportMatches(re *regexp.Regexp, page string) []string {
	var out []string
	for _, m := range re.FindAllString(page, -1) {
		if !overTheRun.MatchString(m) {
			out = append(out, m)
		}
	}
	return out
}

package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// runShards runs every shard of sc's grid into its own folder, as N
// replicas would, and returns the folders (each an exec -out).
func runShards(t *testing.T, file *spec.File, sc *spec.Scenario, count int) []string {
	t.Helper()
	base := t.TempDir()
	var roots []string
	for i := range count {
		root := filepath.Join(base, fmt.Sprintf("shard-%d", i))
		runShard(t, file, sc, spec.Shard{Index: i, Count: count}, root)
		roots = append(roots, root)
	}
	return roots
}

// editResults changes a shard folder's results.json in place.
func editResults(t *testing.T, dir string, edit func(*results.Results)) {
	t.Helper()
	r, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(r)
	if err := results.Save(dir, r); err != nil {
		t.Fatal(err)
	}
}

// comparable is a results.json as JSON, without what differs between any
// two runs of one sweep: the times, the identity salt, and merge's own
// record of where the points came from.
func comparable(t *testing.T, r *results.Results) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"started", "finished", "identity_salt", "merged"} {
		delete(m, k)
	}
	for _, p := range m["points"].([]any) {
		delete(p.(map[string]any), "started")
	}
	return m
}

// Merging every shard gives the whole sweep's results: every field but
// the times, the salt and the merge's provenance, the points in full,
// and the best point, sweep figures and expect computed again.
func TestMergeEqualsWholeSweep(t *testing.T) {
	file, sc := shardScenario(t)
	sc.Expect = mustCompileSweep(t, "max_sessions >= 2")
	whole := runShard(t, file, sc, spec.Shard{}, t.TempDir())
	roots := runShards(t, file, sc, 3)
	out := filepath.Join(t.TempDir(), "merged")
	mr, err := Merge(roots, out, MergeOptions{})
	merged, warnings := mr.Scenarios, mr.Warnings
	if err != nil || len(warnings) > 0 || len(merged) != 1 {
		t.Fatalf("Merge: %v, warnings %v, %d scenarios", err, warnings, len(merged))
	}
	m := merged[0].Results
	if m.Best == nil || whole.Best == nil || *m.Best != *whole.Best || m.ExpectOutcome != whole.ExpectOutcome {
		t.Fatalf("merged best %+v expect %q, whole sweep %+v %q", m.Best, m.ExpectOutcome, whole.Best, whole.ExpectOutcome)
	}
	got, want := comparable(t, m), comparable(t, whole)
	for k := range union2(got, want) {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("results.json %q: merged %v, whole sweep %v", k, trim(got[k]), trim(want[k]))
		}
	}
	onDisk, err := results.Load(merged[0].Dir)
	if err != nil || !reflect.DeepEqual(comparable(t, onDisk), want) {
		t.Errorf("the merged results.json on disk is not what Merge returned (%v)", err)
	}
	if m.Merged == nil || len(m.Merged.Shards) != 3 || m.Missing != nil || !m.Complete {
		t.Errorf("merged %+v, missing %+v, complete %v", m.Merged, m.Missing, m.Complete)
	}
	for _, p := range m.Points {
		if _, err := os.Stat(filepath.Join(merged[0].Dir, p.Records)); err != nil {
			t.Errorf("point %s: %v", p.Name(), err)
		}
	}
}

func union2(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func trim(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func mustCompileSweep(t *testing.T, cond string) *metrics.Condition {
	t.Helper()
	c, err := metrics.Compile(cond, metrics.ScopeSweep)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Shards that are not parts of one sweep are refused, naming each
// difference with both values and the folders that hold them; nothing is
// written.
func TestMergeRefuses(t *testing.T) {
	file, sc := shardScenario(t)
	tests := []struct {
		name string
		// prepare edits the shard folders (roots[i]/shards) and returns the
		// folders to merge.
		prepare func(t *testing.T, roots []string) []string
		want    []string
	}{
		{"different variables", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[1], "shards"), func(r *results.Results) {
				r.Variables = []results.Var{{Name: "max_tokens", Value: "6", Source: "flag"}}
			})
			return roots
		}, []string{`variable max_tokens: "(not set)" in `, filepath.Join("shard-2", "shards") + `; "6" in `}},
		{"different scenario file", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[2], "shards"), func(r *results.Results) { r.File.SHA256 = "ffff" })
			return roots
		}, []string{`the scenario file's sha256: "0123abcd" in `, `"ffff" in `}},
		{"different scenario", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[2], "shards"), func(r *results.Results) { r.Identity["scenario"] = "other" })
			return roots
		}, []string{`identity scenario: "shards" in `, `"other" in `}},
		{"different grid", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[0], "shards"), func(r *results.Results) { r.Grid.Sequential = []int{1, 2} })
			return roots
		}, []string{`grid: {"concurrent":[1,2,3],"sequential":[1,2]} in `}},
		{"different measurement rules", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[0], "shards"), func(r *results.Results) { r.Identity["rules"] = "1" })
			return roots
		}, []string{`identity rules: "1" in `}},
		{"different shard counts", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[2], "shards"), func(r *results.Results) { r.Shard.Count = 4 })
			return roots
		}, []string{"the shard count: 3 in ", "; 4 in "}},
		{"a folder given twice", func(t *testing.T, roots []string) []string {
			return append(roots, roots[1]+string(filepath.Separator))
		}, []string{"are the same folder; give each shard's folder once"}},
		{"one shard twice", func(t *testing.T, roots []string) []string {
			copyDir(t, roots[1], roots[1]+"-again")
			return append(roots, roots[1]+"-again")
		}, []string{`shard 1/3 of scenario "shards" is in two folders`}},
		{"a point its shard does not run", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[0], "shards"), func(r *results.Results) {
				r.Points = append(r.Points, r.Points[0])
				r.Points[len(r.Points)-1].Concurrent = 9
			})
			return roots
		}, []string{"holds point C=9 S=1, which is not one of shard 0/3's points"}},
		{"a whole sweep", func(t *testing.T, roots []string) []string {
			editResults(t, filepath.Join(roots[0], "shards"), func(r *results.Results) { r.Shard = nil })
			return roots
		}, []string{"holds a whole sweep of scenario \"shards\" (it ran without -shard)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots := tt.prepare(t, runShards(t, file, sc, 3))
			out := filepath.Join(t.TempDir(), "merged")
			_, err := Merge(roots, out, MergeOptions{})
			if !errors.Is(err, ErrMerge) {
				t.Fatalf("Merge = %v, want ErrMerge", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to say %q", err, w)
				}
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused merge wrote %s", out)
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// A shard whose folder is absent and a shard that stopped early leave
// points missing:
// merge names each with its shard, marks the result incomplete, and the
// best point is the best of what ran.
func TestMergeMissing(t *testing.T) {
	file, sc := shardScenario(t)
	roots := runShards(t, file, sc, 3)
	stopped := filepath.Join(roots[1], "shards")
	var dropped results.Point
	editResults(t, stopped, func(r *results.Results) {
		dropped = r.Points[len(r.Points)-1]
		r.Points = r.Points[:len(r.Points)-1]
		r.Complete, r.Stopped = false, "interrupted"
	})
	// Shard 2's folder was never created (its pod failed before its first
	// point): it is given, as a Job's merge lists every shard's folder.
	absent := filepath.Join(filepath.Dir(roots[2]), "never-written")
	mr, err := Merge([]string{roots[0], roots[1], absent}, filepath.Join(t.TempDir(), "m"), MergeOptions{})
	merged, warnings := mr.Scenarios, mr.Warnings
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "never-written does not exist") {
		t.Errorf("warnings %q, want one naming the absent folder", warnings)
	}
	m := merged[0].Results
	var want []results.MissingPoint
	for _, k := range (spec.Shard{Index: 1, Count: 3}).Points(sc.Grid) {
		if k == [2]int{dropped.Concurrent, dropped.Sequential} {
			want = append(want, results.MissingPoint{Concurrent: k[0], Sequential: k[1], Shard: 1})
		}
	}
	for _, k := range (spec.Shard{Index: 2, Count: 3}).Points(sc.Grid) {
		want = append(want, results.MissingPoint{Concurrent: k[0], Sequential: k[1], Shard: 2})
	}
	slices.SortFunc(want, func(a, b results.MissingPoint) int { return a.Shard - b.Shard })
	if m.Missing == nil || !slices.Equal(m.Missing.Points, want) || !slices.Equal(m.Missing.Shards, []int{2}) {
		t.Fatalf("missing %+v, want points %+v and shard 2", m.Missing, want)
	}
	if m.Complete || m.Stopped != "shard 1: interrupted" {
		t.Errorf("complete %v, stopped %q", m.Complete, m.Stopped)
	}
	if len(m.Points)+len(want) != len(sc.Grid.Points()) || m.Sweep.PointsRun != len(m.Points) {
		t.Errorf("%d points merged, %d missing, sweep %+v", len(m.Points), len(want), m.Sweep)
	}
}

// Each shard may name its own replica: every point then records the base
// URL that measured it (its LMBenchmark file too, when the shards wrote
// them), and the identity says there was one per shard.
func TestMergeBaseURLPerShard(t *testing.T) {
	file, sc := shardScenario(t)
	roots := runShards(t, file, sc, 2)
	for i, root := range roots {
		editResults(t, filepath.Join(root, "shards"), func(r *results.Results) {
			r.Target.BaseURL = fmt.Sprintf("http://10.0.0.%d:8000/v1", i+1)
			r.Identity["target.base_url"] = r.Target.BaseURL
		})
	}
	if err := os.Mkdir(filepath.Join(roots[0], "shards", "lmbench"), 0o755); err != nil {
		t.Fatal(err)
	}
	mr, err := Merge(roots, filepath.Join(t.TempDir(), "m"), MergeOptions{})
	merged := mr.Scenarios
	if err != nil {
		t.Fatal(err)
	}
	m := merged[0].Results
	for _, p := range m.Points {
		i := slices.IndexFunc([]int{0, 1}, func(i int) bool {
			return slices.Contains((spec.Shard{Index: i, Count: 2}).Points(sc.Grid), [2]int{p.Concurrent, p.Sequential})
		})
		want := fmt.Sprintf("http://10.0.0.%d:8000/v1", i+1)
		if p.TargetBaseURL != want {
			t.Errorf("point %s: target_base_url %q, want %q", p.Name(), p.TargetBaseURL, want)
		}
		var lm struct {
			Params struct {
				BaseURL string `json:"base_url"`
			} `json:"params"`
		}
		b, err := os.ReadFile(filepath.Join(merged[0].Dir, "lmbench", results.LMBenchName(p.Concurrent, p.Sequential)))
		if err == nil {
			err = json.Unmarshal(b, &lm)
		}
		if err != nil || lm.Params.BaseURL != want {
			t.Errorf("point %s: LMBenchmark file: %v, base_url %q, want %q", p.Name(), err, lm.Params.BaseURL, want)
		}
	}
	if got := m.Identity["target.base_url"]; got != "one per shard: http://10.0.0.1:8000/v1, http://10.0.0.2:8000/v1" {
		t.Errorf("identity target.base_url = %q", got)
	}
}

// -out must be new or empty, never a shard's folder; -force replaces the
// run in it once the merged one is written.
func TestMergeOut(t *testing.T) {
	file, sc := shardScenario(t)
	roots := runShards(t, file, sc, 2)
	out := filepath.Join(t.TempDir(), "merged")
	if _, err := Merge(roots, out, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, "shards", "points", "c9_s9.jsonl")
	if err := os.WriteFile(stale, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(roots[0], link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		out   string
		force bool
		want  string
	}{
		{out, false, "is not empty (it holds shards): merge into a new or empty folder, or use -force"},
		// A new folder under a link to a shard's folder is inside it.
		{filepath.Join(link, "m"), true, "one folder or one inside the other"},
		{roots[0], true, "one folder or one inside the other"},
		{filepath.Join(roots[1], "shards", "m"), true, "one folder or one inside the other"},
		// Inside a shard's folder as given, beside its scenario folder: a
		// later merge of that folder would read the merged run as a shard's.
		{filepath.Join(roots[0], "m"), true, "one folder or one inside the other"},
	}
	for _, tt := range tests {
		_, err := Merge(roots, tt.out, MergeOptions{Force: tt.force})
		if !errors.Is(err, ErrOutputInUse) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Merge -out %s (force %v) = %v, want %q", tt.out, tt.force, err, tt.want)
		}
	}
	if _, err := Merge(roots, out, MergeOptions{Force: true}); err != nil {
		t.Fatalf("Merge -force: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-force left the replaced run's %s", stale)
	}
	if _, err := results.Load(filepath.Join(out, "shards")); err != nil {
		t.Error(err)
	}
}

// Shards run by different versions of mrqa merge with a warning: their
// measurement rules agree (a different rules version is refused, above).
func TestMergeToolVersionWarns(t *testing.T) {
	file, sc := shardScenario(t)
	roots := runShards(t, file, sc, 2)
	editResults(t, filepath.Join(roots[1], "shards"), func(r *results.Results) { r.ToolVersion = "v9.9.9" })
	mr, err := Merge(roots, filepath.Join(t.TempDir(), "m"), MergeOptions{})
	merged, warnings := mr.Scenarios, mr.Warnings
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "by mrqa v9.9.9; their measurement rules agree") {
		t.Errorf("warnings %q, want one naming v9.9.9", warnings)
	}
	if v := merged[0].Results.ToolVersion; v == "v9.9.9" {
		t.Errorf("merged tool_version %q, want the first shard's", v)
	}
}

// The shards' scrapes become one timeline only when they are one: the
// same server scraped one shard after another. Replicas, or shards at the
// same time, give none rather than lines that jump between servers.
func TestMergedSeries(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	series := func(url string, from, to int) *promscrape.Series {
		s := &promscrape.Series{URL: url, Kinds: map[string]string{"g": promscrape.KindGauge}}
		for sec := from; sec <= to; sec++ {
			s.Samples = append(s.Samples, promscrape.Sample{T: t0.Add(time.Duration(sec) * time.Second), Values: map[string]float64{"g": float64(sec)}})
		}
		return s
	}
	const a, b = "http://10.0.0.1:8000/metrics", "http://10.0.0.2:8000/metrics"
	tests := []struct {
		name   string
		shards []*promscrape.Series
		want   int // samples of the merged series; -1 for none
	}{
		{"one server, one shard after another", []*promscrape.Series{series(a, 20, 29), series(a, 0, 9)}, 20},
		{"one server, at the same time", []*promscrape.Series{series(a, 0, 9), series(a, 5, 14)}, -1},
		{"two replicas", []*promscrape.Series{series(a, 0, 9), series(b, 20, 29)}, -1},
		{"a shard that scraped nothing", []*promscrape.Series{series(a, 0, 9), nil}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var group []shardFolder
			for _, s := range tt.shards {
				group = append(group, shardFolder{r: &results.Results{ServerSeries: s}})
			}
			got := mergedSeries(group)
			switch {
			case tt.want < 0 && got != nil:
				t.Fatalf("merged %d samples, want no series", len(got.Samples))
			case tt.want >= 0 && (got == nil || len(got.Samples) != tt.want):
				t.Fatalf("merged %v, want %d samples", got, tt.want)
			case got != nil && !slices.IsSortedFunc(got.Samples, func(x, y promscrape.Sample) int { return x.T.Compare(y.T) }):
				t.Errorf("merged samples are not in time order")
			}
		})
	}
}

// TestMergeOfShardStoppedAtLastPoint: a shard that stopped early (every
// request of its last point failed, with abort_on_all_failed) holds all
// its points. The merge is not complete, as a whole sweep stopped at its
// last point is not, and says why it stopped.
func TestMergeOfShardStoppedAtLastPoint(t *testing.T) {
	grid := results.Grid{Concurrent: []int{1, 2}, Sequential: []int{1}}
	shard := func(i int, stopped string, pts ...[2]int) shardFolder {
		r := &results.Results{Scenario: "s", Grid: grid, Shard: &results.Shard{Index: i, Count: 2}, Complete: stopped == "", Stopped: stopped}
		for _, k := range pts {
			r.Points = append(r.Points, results.Point{Concurrent: k[0], Sequential: k[1]})
		}
		return shardFolder{dir: fmt.Sprintf("out-%d", i), r: r}
	}
	group := []shardFolder{shard(0, "", [2]int{2, 1}), shard(1, "every request failed", [2]int{1, 1})} // the deal gives C=2 to shard 0
	from := map[[2]int]*shardFolder{{2, 1}: &group[0], {1, 1}: &group[1]}
	m := mergedResults(group, from)
	if m.Missing != nil || m.Complete || m.Stopped != "shard 1: every request failed" {
		t.Errorf("merged: missing %v, complete %v, stopped %q; want no missing point, complete false, stopped %q",
			m.Missing, m.Complete, m.Stopped, "shard 1: every request failed")
	}
}

package runtime

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// ErrMerge: the shard folders cannot be merged as given (a usage error:
// exit 2). Nothing is written.
var ErrMerge = errors.New("cannot merge")

// MergeOptions control mrqa merge.
type MergeOptions struct {
	// Force replaces a run already in an output scenario folder, as exec
	// -force does: once the merged one is written.
	Force bool
}

// MergeResult is what Merge did: each scenario merged, warnings for the
// terminal, and the scenarios that the shards' configuration selected but
// no shard folder holds (every point of them is missing).
type MergeResult struct {
	Scenarios []MergedScenario
	Warnings  []string
	Missing   []string
}

// MergedScenario is one scenario merged from its shard folders.
type MergedScenario struct {
	Dir     string // where it was written: the output root's <scenario>
	Results *results.Results
}

// Merge combines the folders of a sharded sweep (each the -out of one
// mrqa exec -shard I/N, or one scenario folder in it) into outRoot, one
// folder per scenario laid out as exec lays out its own: results.json,
// points/, server_metrics.json when the shards' scrapes form one timeline,
// lmbench/ when the shards wrote it. The report is the caller's. It checks
// first that the shards are parts of one sweep and nothing is written
// when they are not (ErrMerge), or when outRoot holds something it may not
// replace (ErrOutputInUse).
func Merge(roots []string, outRoot string, opts MergeOptions) (MergeResult, error) {
	var res MergeResult
	folders, warnings, err := loadShardFolders(roots)
	res.Warnings = warnings
	if err != nil {
		return res, err
	}
	if err := checkSweep(folders); err != nil {
		return res, err
	}
	var plans []*mergePlan
	for _, group := range byScenario(folders) {
		p, err := planMerge(group)
		if err != nil {
			return res, err
		}
		res.Warnings = append(res.Warnings, p.warnings...)
		plans = append(plans, p)
	}
	if err := checkMergeOut(outRoot, roots, folders, opts.Force); err != nil {
		return res, err
	}
	res.Missing = missingScenarios(folders)
	for _, p := range plans {
		dir := filepath.Join(outRoot, p.r.Scenario)
		if err := writeMerged(dir, p); err != nil {
			return res, err
		}
		res.Scenarios = append(res.Scenarios, MergedScenario{Dir: dir, Results: p.r})
	}
	return res, nil
}

// missingScenarios are the scenarios some folder's configuration selected
// (results.json's scenarios) that no folder holds: no shard ran them. A
// grid with fewer points than shards is not one: its shard 0 always has a
// point, and the shards without any skip it.
func missingScenarios(folders []shardFolder) []string {
	var out []string
	for _, f := range folders {
		for _, name := range f.r.Scenarios {
			held := slices.ContainsFunc(folders, func(g shardFolder) bool { return g.r.Scenario == name })
			if !held && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// shardFolder is one scenario folder of one shard.
type shardFolder struct {
	dir string // as given, or the given folder joined with the scenario
	r   *results.Results
}

func (f *shardFolder) index() int { return f.r.Shard.Index }

// loadShardFolders reads the scenario folders of every given folder: the
// folder itself when it holds a results.json, else the folders directly
// inside it that do. A folder given twice is refused; one that does not
// exist or holds no run is a shard that wrote nothing (its points are
// reported missing).
func loadShardFolders(roots []string) ([]shardFolder, []string, error) {
	var out []shardFolder
	var warnings []string
	seen := map[string]string{}
	for _, root := range roots {
		abs, err := results.ResolvedDir(root)
		if err != nil {
			return nil, nil, err
		}
		if first, ok := seen[abs]; ok {
			return nil, nil, fmt.Errorf("%w: %s and %s are the same folder; give each shard's folder once", ErrMerge, first, root)
		}
		seen[abs] = root
		if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
			// A shard that failed before its first point may not have
			// created its folder; its points are missing, not an error.
			warnings = append(warnings, fmt.Sprintf("%s does not exist: nothing in it is merged, and its shard's points are reported missing", root))
			continue
		}
		dirs, err := scenarioFolders(root)
		if err != nil {
			return nil, nil, err
		}
		if len(dirs) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s holds no results.json, nor scenario folders that do: nothing in it is merged", root))
		}
		for _, dir := range dirs {
			f, err := loadShardFolder(dir)
			if err != nil {
				return nil, nil, err
			}
			if w := stillRunning(dir); w != "" {
				warnings = append(warnings, w)
			}
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, warnings, fmt.Errorf("%w: none of %s holds a shard's results", ErrMerge, strings.Join(roots, ", "))
	}
	return out, warnings, nil
}

// stillRunning says, when a live run holds dir's lock (a shard still
// measuring), that the merge reads only what it has finished so far.
func stillRunning(dir string) string {
	path := filepath.Join(dir, lockName)
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	h := parseHolder(b)
	held, elsewhere := h.heldBy(thisProcess(), path)
	switch {
	case !held:
		return ""
	case elsewhere:
		return fmt.Sprintf("%s is locked by a run on %s, which may still be measuring: the merge has only the points it had finished; merge again (-force) once it ends", dir, h.host)
	}
	return fmt.Sprintf("%s is still being written by a running mrqa (process %d): the merge has only the points it had finished; merge again (-force) once it ends", dir, h.pid)
}

// scenarioFolders lists the run folders of root: root itself, or the
// folders directly inside it that hold a results.json.
func scenarioFolders(root string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, "results.json")); err == nil {
		return []string{root}, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("shard folder: %w", err)
	}
	var dirs []string
	for _, e := range entries {
		sub := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "results.json")); e.IsDir() && err == nil {
			dirs = append(dirs, sub)
		}
	}
	return dirs, nil
}

func loadShardFolder(dir string) (shardFolder, error) {
	r, err := results.Load(dir)
	if err != nil {
		return shardFolder{}, err
	}
	if r.Shard == nil {
		return shardFolder{}, fmt.Errorf("%w: %s holds a whole sweep of scenario %q (it ran without -shard), not a shard of one", ErrMerge, dir, r.Scenario)
	}
	return shardFolder{dir: dir, r: r}, nil
}

// byScenario groups the folders by scenario, in the order the scenarios
// first appear, each group by shard index.
func byScenario(folders []shardFolder) [][]shardFolder {
	var names []string
	groups := map[string][]shardFolder{}
	for _, f := range folders {
		if _, ok := groups[f.r.Scenario]; !ok {
			names = append(names, f.r.Scenario)
		}
		groups[f.r.Scenario] = append(groups[f.r.Scenario], f)
	}
	out := make([][]shardFolder, len(names))
	for i, n := range names {
		out[i] = groups[n]
		slices.SortStableFunc(out[i], func(a, b shardFolder) int { return cmp.Compare(a.index(), b.index()) })
	}
	return out
}

// mergePlan is one scenario's merge, checked and computed, not yet written.
type mergePlan struct {
	r        *results.Results
	from     map[[2]int]*shardFolder // where each point's records are
	lmbench  bool                    // some shard wrote LMBenchmark files
	warnings []string
}

// planMerge checks that a scenario's shard folders are disjoint parts of
// one sweep and computes the merged results from their points.
func planMerge(group []shardFolder) (*mergePlan, error) {
	if diffs := differences(group, scenarioFields(group)); len(diffs) > 0 {
		return nil, differentErr(diffs)
	}
	if err := checkIndexes(group); err != nil {
		return nil, err
	}
	p := &mergePlan{from: map[[2]int]*shardFolder{}}
	if err := p.collectPoints(group); err != nil {
		return nil, err
	}
	p.r = mergedResults(group, p.from)
	if err := recompute(p.r); err != nil {
		return nil, err
	}
	p.warnings = versionWarnings(group)
	for i := range group {
		if _, err := os.Stat(filepath.Join(group[i].dir, "lmbench")); err == nil {
			p.lmbench = true
		}
	}
	return p, nil
}

// checkIndexes refuses two folders that claim one shard of a scenario.
func checkIndexes(group []shardFolder) error {
	for i := 1; i < len(group); i++ {
		if a, b := group[i-1], group[i]; a.index() == b.index() {
			return fmt.Errorf("%w: shard %d/%d of scenario %q is in two folders, %s and %s; give each shard once",
				ErrMerge, a.index(), a.r.Shard.Count, a.r.Scenario, a.dir, b.dir)
		}
	}
	return nil
}

// collectPoints takes each folder's points, refusing a point its shard
// does not run (the folder is not what its shard spec says) and a point
// two folders hold.
func (p *mergePlan) collectPoints(group []shardFolder) error {
	grid := spec.Grid{Concurrent: group[0].r.Grid.Concurrent, Sequential: group[0].r.Grid.Sequential}
	parts := spec.DealPoints(grid.Points(), group[0].r.Shard.Count)
	for i := range group {
		f := &group[i]
		for _, pt := range f.r.Points {
			k := [2]int{pt.Concurrent, pt.Sequential}
			if other, ok := p.from[k]; ok {
				return fmt.Errorf("%w: point %s is in %s and in %s: the shards overlap", ErrMerge, pt.Name(), other.dir, f.dir)
			}
			if !slices.Contains(parts[f.index()], k) {
				return fmt.Errorf("%w: %s holds point %s, which is not one of shard %d/%d's points (%s)",
					ErrMerge, f.dir, pt.Name(), f.index(), f.r.Shard.Count, pointList(parts[f.index()]))
			}
			if _, err := os.Stat(filepath.Join(f.dir, filepath.FromSlash(pt.Records))); err != nil {
				return fmt.Errorf("shard folder %s: point %s: %w", f.dir, pt.Name(), err)
			}
			p.from[k] = f
		}
	}
	return nil
}

func pointList(ps [][2]int) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("C=%d S=%d", p[0], p[1])
	}
	return strings.Join(parts, ", ")
}

// mergedResults builds the merged sweep from the lowest shard's results:
// its points in grid order (the order a whole sweep runs them), where
// they came from, and what is missing.
func mergedResults(group []shardFolder, from map[[2]int]*shardFolder) *results.Results {
	m := *group[0].r
	m.Shard = nil
	grid := spec.Grid{Concurrent: m.Grid.Concurrent, Sequential: m.Grid.Sequential}
	several := len(replicas(group)) > 1
	m.Points = []results.Point{}
	for _, k := range grid.Points() {
		f, ok := from[k]
		if !ok {
			continue
		}
		pt := *pointOf(f.r, k)
		if several {
			pt.TargetBaseURL = replica(f)
		}
		m.Points = append(m.Points, pt)
	}
	if several {
		m.Identity = maps.Clone(m.Identity)
		m.Identity["target.base_url"] = "one per shard: " + strings.Join(identityURLs(group), ", ")
	}
	m.Merged, m.Missing = provenance(group, grid)
	m.Stopped = stoppedShards(group)
	m.Complete = m.Missing == nil && m.Stopped == "" // as a whole sweep stopped at its last point
	m.Started, m.Finished = span(group)
	m.ServerSeries = mergedSeries(group)
	return &m
}

func pointOf(r *results.Results, k [2]int) *results.Point {
	for i := range r.Points {
		if r.Points[i].Concurrent == k[0] && r.Points[i].Sequential == k[1] {
			return &r.Points[i]
		}
	}
	return nil
}

// replicas are the distinct servers the shards measured (see replica).
func replicas(group []shardFolder) []string {
	var out []string
	for i := range group {
		if u := replica(&group[i]); !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// replica names the server a shard measured: its base URL (credentials
// removed), or, when the URL is sensitive, "(sensitive) " and the salted
// digest its identity holds. The shards of one sweep share their salt, so
// two shards' digests are equal only for one URL: the digest tells the
// replicas apart without the URL being written.
func replica(f *shardFolder) string {
	if id := f.r.Identity["target.base_url"]; strings.HasPrefix(id, secretPrefix) {
		return "(sensitive) " + id
	}
	return f.r.Target.BaseURL
}

// identityURLs are the distinct base URLs as the shards' identities hold
// them (a secret one as its digest).
func identityURLs(group []shardFolder) []string {
	var out []string
	for _, f := range group {
		if u := f.r.Identity["target.base_url"]; !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// provenance records each merged shard folder and, when some of the
// grid's points are in none of them, which points and shards are missing.
func provenance(group []shardFolder, grid spec.Grid) (*results.Merged, *results.Missing) {
	count := group[0].r.Shard.Count
	merged := &results.Merged{Count: count}
	missing := &results.Missing{}
	parts := spec.DealPoints(grid.Points(), count)
	for index, part := range parts {
		i := slices.IndexFunc(group, func(f shardFolder) bool { return f.index() == index })
		switch {
		case i >= 0:
			merged.Shards = append(merged.Shards, mergedShard(&group[i]))
		case len(part) > 0: // a shard dealt no point of this grid owes none
			missing.Shards = append(missing.Shards, index)
		}
		for _, k := range part {
			if i < 0 || pointOf(group[i].r, k) == nil {
				missing.Points = append(missing.Points, results.MissingPoint{Concurrent: k[0], Sequential: k[1], Shard: index})
			}
		}
	}
	if len(missing.Points) == 0 {
		return merged, nil
	}
	return merged, missing
}

func mergedShard(f *shardFolder) results.MergedShard {
	r := f.r
	return results.MergedShard{Index: r.Shard.Index, Folder: f.dir, BaseURL: r.Target.BaseURL, ToolVersion: r.ToolVersion,
		Started: r.Started, Finished: r.Finished, Points: len(r.Points), Complete: r.Complete, Stopped: r.Stopped}
}

// stoppedShards says which shards stopped early, and why.
func stoppedShards(group []shardFolder) string {
	var parts []string
	for _, f := range group {
		if f.r.Stopped != "" {
			parts = append(parts, fmt.Sprintf("shard %d: %s", f.index(), f.r.Stopped))
		}
	}
	return strings.Join(parts, "; ")
}

// span is the merged sweep's start (the first shard's) and end (the last
// shard's to finish; zero when none recorded one).
func span(group []shardFolder) (started, finished time.Time) {
	for i, f := range group {
		if i == 0 || f.r.Started.Before(started) {
			started = f.r.Started
		}
		if f.r.Finished.After(finished) {
			finished = f.r.Finished
		}
	}
	return started, finished
}

// versionWarnings notes shards run by different versions of mrqa. Their
// measurement rules agree (the identity compares them); the merged
// results record the first shard's version.
func versionWarnings(group []shardFolder) []string {
	var out []string
	for _, f := range group[1:] {
		if v, first := f.r.ToolVersion, group[0].r.ToolVersion; v != first {
			out = append(out, fmt.Sprintf("scenario %q: %s was run by mrqa %s and %s by mrqa %s; their measurement rules agree, and the merged results record %s",
				f.r.Scenario, group[0].dir, first, f.dir, v, first))
		}
	}
	return out
}

// recompute derives what a grid sweep computes at its end (best point,
// sweep metrics, expect) from the merged points, with the sweep's code.
func recompute(r *results.Results) error {
	var expect *metrics.Condition
	if r.Expect != "" {
		var err error
		if expect, err = metrics.Compile(r.Expect, metrics.ScopeSweep); err != nil {
			return fmt.Errorf("%w: scenario %q: expect %q: %v", ErrMerge, r.Scenario, r.Expect, err)
		}
	}
	finalizeGrid(r, r.Score, expect)
	return nil
}

// mergedSeries is the shards' scrapes as one timeline, or nil when they
// form none. They do when every shard scraped the same server one after
// another (their spans do not overlap): then they are appended in time
// order, as -resume appends a run's scrapes to the one it continues.
// Shards on separate replicas, or at the same time, are as many timelines
// as shards, and each shard folder keeps its own.
func mergedSeries(group []shardFolder) *promscrape.Series {
	var all []*promscrape.Series
	for _, f := range group {
		s := f.r.ServerSeries
		if s == nil || len(s.Samples) == 0 {
			return nil
		}
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *promscrape.Series) int { return a.Samples[0].T.Compare(b.Samples[0].T) })
	out := all[0]
	for _, s := range all[1:] {
		last := out.Samples[len(out.Samples)-1].T
		if s.URL != out.URL || !s.Samples[0].T.After(last) {
			return nil
		}
		out = mergeSeries(out, *s)
	}
	return out
}

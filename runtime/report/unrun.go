package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// unrun is what a sweep's folder lacks of its grid (results.NotRun): the
// points that did not run, and why, in words. A merged sweep's are its
// missing points; a shard's own folder lacks every point it did not run
// (the other shards', and its own not run yet); a whole sweep that stopped
// early, the points it did not reach. A point that did not run says
// nothing about the limit, so none may be assumed to pass or fail. It is
// the one home of what the terminal, the page and a merge say about them.
type unrun struct {
	points [][2]int
	why    string
}

// unrunOf says what r lacks; nothing for a complete sweep.
func unrunOf(r *results.Results) unrun {
	u := unrun{points: r.NotRun()}
	switch {
	case len(u.points) == 0:
	case r.Missing != nil:
		u.why = missingWhy(r)
	case r.Shard != nil:
		u.why = "they are the other shards' points; mrqa merge combines the shards"
	case r.Stopped != "":
		u.why = "the sweep stopped early: " + r.Stopped
	default:
		u.why = "the sweep has not finished"
	}
	return u
}

func gridOf(r *results.Results) spec.Grid {
	return spec.Grid{Concurrent: r.Grid.Concurrent, Sequential: r.Grid.Sequential}
}

// missingWhy says, shard by shard, why a merged sweep's points are
// missing: "shard 2/3 was not merged; shard 1/3 stopped early: interrupted".
func missingWhy(r *results.Results) string {
	count := 0
	if r.Merged != nil {
		count = r.Merged.Count
	}
	var shards []int
	for _, p := range r.Missing.Points {
		if !slices.Contains(shards, p.Shard) {
			shards = append(shards, p.Shard)
		}
	}
	slices.Sort(shards)
	var parts []string
	for _, i := range shards {
		parts = append(parts, fmt.Sprintf("shard %d/%d %s", i, count, shardFate(r, i)))
	}
	return strings.Join(parts, "; ")
}

// shardFate says why a shard's points are missing.
func shardFate(r *results.Results, index int) string {
	if slices.Contains(r.Missing.Shards, index) || r.Merged == nil {
		return "was not merged"
	}
	for _, s := range r.Merged.Shards {
		if s.Index == index && s.Stopped != "" {
			return "stopped early: " + s.Stopped
		}
	}
	return "did not run them"
}

// above counts the points that did not run and would rank above best by
// the sweep's score; every one of them when no point passed (best nil).
func (u unrun) above(score string, best *results.Point) int {
	if best == nil {
		return len(u.points)
	}
	n := 0
	for _, k := range u.points {
		if search.Better(score, k, [2]int{best.Concurrent, best.Sequential}) {
			n++
		}
	}
	return n
}

// unrunKnee is the explanation of a knee that points not run leave
// unknown, or nil when none would rank above the best.
func unrunKnee(r *results.Results, best *results.Point) *Knee {
	u := unrunOf(r)
	n := u.above(r.Score, best)
	if n == 0 {
		return nil
	}
	k := &Knee{Cause: CauseUnknown, Below: best}
	if best == nil {
		k.Text = fmt.Sprintf("No point that ran passed, and %d point%s did not run (%s), so where the limit lies is not measured.", n, plural(n), u.why)
	} else {
		k.Text = fmt.Sprintf("%d point%s that would rank above %s did not run (%s), so where the limit lies is not measured.", n, plural(n), pointName(best), u.why)
	}
	switch {
	case r.Shard != nil:
		k.Move = "Merge this shard's folder with the other shards' (mrqa merge) to see the whole grid."
	case r.Missing != nil:
		k.Move = "Run the points that are missing (mrqa exec -shard I/N, with -resume for a shard that stopped) and merge the shards again."
	default:
		k.Move = "Run the points that did not run (mrqa exec -resume continues the sweep)."
	}
	return k
}

// unrunLine is the terminal's line about a sharded sweep's folder: what a
// merge lacks, or what part of the sweep a shard's folder is; "" for a
// sweep that ran in one folder.
func unrunLine(r *results.Results) string {
	all := len(gridOf(r).Points())
	switch {
	case r.Missing != nil:
		var pts []string
		for _, p := range r.Missing.Points {
			pts = append(pts, fmt.Sprintf("C=%d S=%d", p.Concurrent, p.Sequential))
		}
		return fmt.Sprintf("Points missing: %d of the grid's %d did not run: %s (%s).", len(pts), all, strings.Join(pts, ", "), missingWhy(r))
	case r.Shard != nil && !isOpen(r):
		return fmt.Sprintf("Shard %d/%d of the sweep: %d of the grid's %d points ran here; mrqa merge combines the shards' folders into the sweep's answer.",
			r.Shard.Index, r.Shard.Count, len(r.Points), all)
	}
	return ""
}

// answerLine is the terminal's "Max (C x S)" line: the best point's
// sessions as the limit only when no point that did not run could rank
// above it; "at least" when one could; "not known" when no point that ran
// passed and some did not run.
func answerLine(r *results.Results, slo string) string {
	u := unrunOf(r)
	b := r.Best
	switch n := u.above(r.Score, bestPoint(r)); {
	case b != nil && n > 0:
		return fmt.Sprintf("Max (C x S) where %s: at least %d  => C=%d, S=%d (%d point%s that could rank above it did not run)",
			slo, b.Sessions, b.Concurrent, b.Sequential, n, plural(n))
	case b != nil:
		return fmt.Sprintf("Max (C x S) where %s: %d  => C=%d, S=%d", slo, b.Sessions, b.Concurrent, b.Sequential)
	case len(u.points) > 0:
		return fmt.Sprintf("Max (C x S) where %s: not known: no point run passed, and %s did not run (%s)",
			slo, countText(len(u.points), "point"), pointsText(u.points, 4))
	}
	return fmt.Sprintf("Max (C x S) where %s: 0  => no point passed the SLOs", slo)
}

// countText is "1 point", "5 points".
func countText(n int, noun string) string {
	return fmt.Sprintf("%d %s%s", n, noun, plural(n))
}

// pointsText names up to max points, "C=1 S=1, C=1 S=2, …".
func pointsText(points [][2]int, max int) string {
	var parts []string
	for i, k := range points {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("C=%d S=%d", k[0], k[1]))
	}
	return strings.Join(parts, ", ")
}

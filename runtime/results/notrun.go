package results

import "slices"

// NotRun is the grid's points this folder lacks, whose verdicts are
// therefore unknown: a merged sweep's missing points; for a shard's
// folder, every grid point not in it (the other shards' and its own not
// run yet); for a whole grid sweep that has not completed (stopped early,
// interrupted, or still running), the points it did not reach and its
// search did not decide. Nothing for a complete sweep or an open-loop one.
// It is the one rule every judgement of the sweep (best point, expect,
// headline) reads: a point that did not run is assumed neither to pass nor
// to fail.
func (r *Results) NotRun() [][2]int {
	switch {
	case r.RateSearch != nil || slices.ContainsFunc(r.Points, func(p Point) bool { return p.Rate > 0 }):
		return nil
	case r.Missing != nil:
		out := make([][2]int, len(r.Missing.Points))
		for i, p := range r.Missing.Points {
			out[i] = [2]int{p.Concurrent, p.Sequential}
		}
		return out
	case r.Shard == nil && (r.Complete || r.Merged != nil):
		return nil
	}
	var out [][2]int
	for _, c := range r.Grid.Concurrent {
		for _, s := range r.Grid.Sequential {
			if !r.ran(c, s) && !r.implied(c, s) {
				out = append(out, [2]int{c, s})
			}
		}
	}
	return out
}

func (r *Results) ran(c, s int) bool {
	return slices.ContainsFunc(r.Points, func(p Point) bool { return p.Concurrent == c && p.Sequential == s })
}

func (r *Results) implied(c, s int) bool {
	return r.Search != nil && slices.ContainsFunc(r.Search.Implied, func(p ImpliedPoint) bool { return p.Concurrent == c && p.Sequential == s })
}

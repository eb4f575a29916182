package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is one of Count disjoint parts of a grid sweep, numbered from 0
// (mrqa exec -shard I/N, Kubernetes' JOB_COMPLETION_INDEX). Count 0 is the
// whole sweep, unsharded.
type Shard struct {
	Index, Count int
}

// Sharded reports whether s is a part of a sweep rather than the whole.
func (s Shard) Sharded() bool { return s.Count > 0 }

// String writes the shard as -shard takes it: "1/3".
func (s Shard) String() string {
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// ParseShard reads -shard's "I/N": N parts, I counting from 0 to N-1.
func ParseShard(text string) (Shard, error) {
	i, n, ok := strings.Cut(text, "/")
	index, ierr := strconv.Atoi(i)
	count, cerr := strconv.Atoi(n)
	switch {
	case !ok || ierr != nil || cerr != nil:
		return Shard{}, fmt.Errorf("%q: want I/N, the part I of N parts, I from 0 to N-1 (as 0/3, 1/3, 2/3)", text)
	case count < 1:
		return Shard{}, fmt.Errorf("%q: the count N must be at least 1", text)
	case index < 0 || index >= count:
		return Shard{}, fmt.Errorf("%q: the index counts from 0, so with %d parts it is 0 to %d", text, count, count-1)
	}
	return Shard{Index: index, Count: count}, nil
}

// Points are the grid points this shard runs, in grid order: all of them
// when the sweep is not sharded.
func (s Shard) Points(g Grid) [][2]int {
	if !s.Sharded() {
		return g.Points()
	}
	return DealPoints(g.Points(), s.Count)[s.Index]
}

// PointCost is a point's expected work, the unit shards are balanced in:
// its C×S sessions (each sends rounds+1 requests, the same for every point
// of a grid).
func PointCost(p [2]int) int { return p[0] * p[1] }

// DealPoints splits a grid's points (in grid order) into count disjoint
// parts balanced in expected work, a rule anyone can follow from the grid
// alone: take the points by cost (PointCost), largest first, ties in grid
// order, and give each to the part whose points cost least so far, ties
// to the lowest index. Each part lists its points in grid order.
func DealPoints(points [][2]int, count int) [][][2]int {
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(PointCost(points[b]), PointCost(points[a])) })
	owner := make([]int, len(points))
	load := make([]int, count)
	for _, i := range order {
		least := 0
		for k := range load {
			if load[k] < load[least] {
				least = k
			}
		}
		owner[i] = least
		load[least] += PointCost(points[i])
	}
	parts := make([][][2]int, count)
	for i, p := range points {
		parts[owner[i]] = append(parts[owner[i]], p)
	}
	return parts
}

// CheckShard says why sc cannot run as shard s, or nil when it can (and
// always when s is the whole sweep). Only a grid can be dealt out in
// advance: a frontier search and an open-loop rate search choose each
// point from the results before it. A shard with no point would run
// nothing.
func CheckShard(sc *Scenario, s Shard) error {
	if !s.Sharded() {
		return nil
	}
	switch {
	case sc.Users != nil:
		return fmt.Errorf("scenario %q: -shard deals a grid's points out in advance, but an open-loop sweep (users block) searches its arrival rate, choosing each rate from the results of the ones before; run it unsharded", sc.Name)
	case sc.Search != nil:
		return fmt.Errorf("scenario %q: -shard deals a grid's points out in advance, but a frontier search (search block) chooses each point from the results of the ones before; to shard this sweep, remove the search block and run the whole grid, or run the search unsharded", sc.Name)
	}
	if n := len(sc.Grid.Points()); len(s.Points(sc.Grid)) == 0 {
		return fmt.Errorf("scenario %q: shard %s has no point: the grid has %d point%s, so at most %d shards have work; use a count of at most %d", sc.Name, s, n, plural(n), n, n)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

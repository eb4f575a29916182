package search

import "slices"

// Left is what a search may still run. Which of these points run depends on
// their outcomes, so it is an upper bound: the runtime's estimate of the
// time a sweep has left uses it, and says it is one.
type Left struct {
	// Points may still run, sorted: the points of the grid (grown as far as
	// the axis limits allow, with Extend) whose outcome is unknown and that
	// rank above the best point known to pass, and the untried upper
	// neighbours of those and of the best, which the search runs to check
	// its answer. While the results stay monotone, it runs no other point.
	Points [][2]int
	// Max is how many of them may run: len(Points), or fewer under
	// MaxPoints. 0 once the search is done.
	Max int
}

// Left reports what the search may still run, from the results so far.
func (s *Search) Left() Left {
	if _, ok := s.run().next(); !ok {
		return Left{}
	}
	g := s.widest()
	e := s.evaluate(g)
	may := map[[2]int]bool{}
	for _, k := range e.cand {
		may[k] = true
	}
	ranked := e.cand
	if e.found {
		ranked = append(slices.Clone(e.cand), e.best)
	}
	for _, k := range ranked {
		for _, u := range g.upper(k) {
			if _, run := s.results[u]; !run {
				may[u] = true
			}
		}
	}
	out := Left{Points: make([][2]int, 0, len(may))}
	for k := range may {
		out.Points = append(out.Points, k)
	}
	slices.SortFunc(out.Points, cmpCell)
	out.Max = len(out.Points)
	if s.cfg.MaxPoints > 0 {
		out.Max = min(out.Max, s.cfg.MaxPoints-len(s.order))
	}
	return out
}

// widest is the grid the search may grow to: the declared one, with
// Extend each axis grown step by step up to its limit.
func (s *Search) widest() grid {
	if !s.cfg.Extend || len(s.cs) == 0 || len(s.ss) == 0 {
		return grid{s.cs, s.ss}
	}
	return grid{s.grownAxis(s.cs, s.maxC), s.grownAxis(s.ss, s.maxS)}
}

func (s *Search) grownAxis(a []int, limit int) []int {
	out := slices.Clone(a)
	for n := s.step(out[len(out)-1]); n <= limit; n = s.step(n) {
		out = append(out, n)
	}
	return out
}

package search

import "slices"

// grid is a set of axes; its cells are their product.
type grid struct{ cs, ss []int }

func (g grid) cells() [][2]int {
	out := make([][2]int, 0, len(g.cs)*len(g.ss))
	for _, c := range g.cs {
		for _, s := range g.ss {
			out = append(out, [2]int{c, s})
		}
	}
	return out
}

// dominates reports a ≥ b on both axes.
func dominates(a, b [2]int) bool { return a[0] >= b[0] && a[1] >= b[1] }

// eval is what the results say about one grid.
type eval struct {
	score  string
	status map[[2]int]Outcome // Pass/Fail, run or implied; Unknown otherwise
	best   [2]int
	found  bool
	// cand are the cells whose outcome is unknown and that rank above best:
	// the candidates for the best point.
	cand [][2]int
	// verify are the best point's upper neighbours (next C at the same S,
	// next S at the same C) that are implied to fail but were not run. They
	// are run before the best is called settled: that costs little (on
	// knee-shaped frontiers they are usually the failures that settle the
	// best anyway) and it is what catches a contradiction next to the answer.
	verify [][2]int
}

func (e *eval) settled() bool { return len(e.cand) == 0 && len(e.verify) == 0 }

func (e *eval) point() Point {
	return Point{C: e.best[0], S: e.best[1], Found: e.found}
}

// trusted splits the run points into the passes and failures that imply
// outcomes for others. A point involved in a contradiction implies nothing:
// the cells it would have decided are run instead.
func (s *Search) trusted() (passes, fails [][2]int) {
	var ps, fs [][2]int
	for _, k := range s.order {
		if s.results[k] {
			ps = append(ps, k)
		} else {
			fs = append(fs, k)
		}
	}
	for _, p := range ps {
		if !slices.ContainsFunc(fs, func(f [2]int) bool { return dominates(p, f) }) {
			passes = append(passes, p)
		}
	}
	for _, f := range fs {
		if !slices.ContainsFunc(ps, func(p [2]int) bool { return dominates(p, f) }) {
			fails = append(fails, f)
		}
	}
	return passes, fails
}

func (s *Search) contradictions() []Contradiction {
	var out []Contradiction
	for _, f := range s.order {
		if s.results[f] {
			continue
		}
		for _, p := range s.order {
			if s.results[p] && dominates(p, f) {
				out = append(out, Contradiction{Fail: f, Pass: p})
			}
		}
	}
	return out
}

func (s *Search) evaluate(g grid) *eval {
	e := &eval{score: s.cfg.Score, status: map[[2]int]Outcome{}}
	passes, fails := s.trusted()
	cells := g.cells()
	for _, k := range cells {
		if v, ok := s.results[k]; ok {
			e.status[k] = outcome(v)
			continue
		}
		switch {
		case slices.ContainsFunc(passes, func(p [2]int) bool { return dominates(p, k) }):
			e.status[k] = Pass
		case slices.ContainsFunc(fails, func(f [2]int) bool { return dominates(k, f) }):
			e.status[k] = Fail
		}
	}
	for _, k := range cells {
		if e.status[k] == Pass && (!e.found || Better(e.score, k, e.best)) {
			e.best, e.found = k, true
		}
	}
	for _, k := range cells {
		if e.status[k] == Unknown && (!e.found || Better(e.score, k, e.best)) {
			e.cand = append(e.cand, k)
		}
	}
	if e.found && len(e.cand) == 0 {
		for _, k := range g.upper(e.best) {
			if _, run := s.results[k]; !run && !s.noVerify {
				e.verify = append(e.verify, k)
			}
		}
	}
	return e
}

// upper returns k's neighbours one step up each axis that lie in g.
func (g grid) upper(k [2]int) [][2]int {
	var out [][2]int
	if i := slices.Index(g.cs, k[0]); i >= 0 && i+1 < len(g.cs) {
		out = append(out, [2]int{g.cs[i+1], k[1]})
	}
	if j := slices.Index(g.ss, k[1]); j >= 0 && j+1 < len(g.ss) {
		out = append(out, [2]int{k[0], g.ss[j+1]})
	}
	return out
}

// choose picks the candidate whose outcome, whichever it is, leaves the
// fewest candidates (minimax). If x passes, only the candidates ranking above
// x remain; if it fails, those that x does not lie below remain. Ties go to
// the smaller sum of the two, then to the higher-ranked cell (a pass there
// settles more). With no candidates left, the verification points run,
// highest-ranked first.
func (e *eval) choose() ([2]int, bool) {
	if len(e.cand) == 0 {
		if len(e.verify) == 0 {
			return [2]int{}, false
		}
		best := e.verify[0]
		for _, k := range e.verify[1:] {
			if Better(e.score, k, best) {
				best = k
			}
		}
		return best, true
	}
	var pick [2]int
	pickMax, pickSum := -1, -1
	n := len(e.cand)
	for _, x := range e.cand {
		above, over := 0, 0
		for _, z := range e.cand {
			if Better(e.score, z, x) {
				above++
			}
			if dominates(z, x) {
				over++
			}
		}
		rp, rf := above, n-over
		m, sum := max(rp, rf), rp+rf
		if pickMax < 0 || m < pickMax || (m == pickMax && (sum < pickSum || (sum == pickSum && Better(e.score, x, pick)))) {
			pick, pickMax, pickSum = x, m, sum
		}
	}
	return pick, true
}

// state is the search replayed from its results: the declared grid's
// evaluation, the grown grid's, and the point to run next.
type state struct {
	g         grid
	inGrid    *eval
	last      *eval
	pick      [2]int
	has       bool
	bracketed bool
}

func (st state) next() ([2]int, bool) { return st.pick, st.has }

// run replays the search from the recorded results. It is a pure function of
// them (not of the order they came in, except through contradictions), which
// is what lets -resume continue a search by replaying the points on disk.
func (s *Search) run() state {
	g := grid{s.cs, s.ss}
	e := s.evaluate(g)
	st := state{g: g, inGrid: e, last: e}
	budget := s.cfg.MaxPoints <= 0 || len(s.order) < s.cfg.MaxPoints
	if len(g.cs) == 0 || len(g.ss) == 0 {
		return st
	}
	if !e.settled() {
		if budget {
			st.pick, st.has = e.choose()
		}
		return st
	}
	if !s.cfg.Extend {
		return st
	}
	for {
		ng, grew, capped := s.grow(g, e.best, e.found)
		if !grew {
			st.bracketed = e.found && !capped
			return st
		}
		g = ng
		e = s.evaluate(g)
		st.g, st.last = g, e
		if !e.settled() {
			if budget {
				st.pick, st.has = e.choose()
			}
			return st
		}
	}
}

// grow adds the next value to each axis the best point sits at the end of.
// capped reports that an axis needed growing but its limit forbade it.
func (s *Search) grow(g grid, best [2]int, found bool) (ng grid, grew, capped bool) {
	if !found {
		return g, false, false
	}
	ng = grid{cs: g.cs, ss: g.ss}
	if c := g.cs[len(g.cs)-1]; best[0] == c {
		if n := s.step(c); n <= s.maxC {
			ng.cs = append(slices.Clone(g.cs), n)
			grew = true
		} else {
			capped = true
		}
	}
	if v := g.ss[len(g.ss)-1]; best[1] == v {
		if n := s.step(v); n <= s.maxS {
			ng.ss = append(slices.Clone(g.ss), n)
			grew = true
		} else {
			capped = true
		}
	}
	return ng, grew, capped
}

func (s *Search) step(v int) int {
	if s.cfg.ExtendStep > 0 {
		return v + s.cfg.ExtendStep
	}
	return 2 * v
}

// Package search implements the frontier search (search "frontier" in
// docs/language.md): it finds the best grid point (the passing point with the
// best score) while running only the points whose outcome is not implied by
// the points already run, and, when asked, grows the grid past its edge until
// the limit is bracketed.
//
// The search assumes monotonicity: if (c, s) fails, every (c', s') with c' ≥ c
// and s' ≥ s fails; if it passes, every smaller point passes. Results that
// contradict the assumption are reported and the cells they make uncertain are
// run instead of implied.
//
// Choosing the next point: the candidates are the points whose outcome is
// unknown and that score above the best point known to pass. The search runs
// the candidate whose outcome, whichever it turns out to be, leaves the fewest
// candidates (a pass removes every candidate ranked below it, a failure every
// candidate above it on both axes). Once none is left, the best point's upper
// neighbours are run if they were only implied to fail, which is what catches
// a contradiction next to the answer. Over every monotone staircase of a 4×4,
// 8×8 and 16×4 grid this runs at most 37.5%, 17.2% and 15.6% of the points.
//
// Next depends on the outcomes, so a dry run can only show the order for an
// assumed oracle: Plan with one.
//
// The package is a pure algorithm: no I/O, no clock, no goroutines. The caller
// loops over Next, runs the point, and calls Record; Record also replays points
// already on disk when a run resumes.
package search

import (
	"slices"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Outcome is what is known about a grid point. no_data counts as Fail.
type Outcome int

// Outcomes.
const (
	Unknown Outcome = iota
	Pass
	Fail
)

// String is "pass", "fail" or "unknown".
func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	default:
		return "unknown"
	}
}

// Score names accepted by Config.Score.
const (
	ScoreSessions = spec.ScoreSessions
	ScoreHarmonic = spec.ScoreHarmonic
)

// DefaultMaxFactor bounds extension on an axis whose maximum is 0: the axis
// may grow to this many times the grid's largest value on it.
const DefaultMaxFactor = spec.SearchMaxFactor

// Config is the frontier search's configuration: the declared grid axes (in
// any order, duplicates ignored) and the search "frontier" block.
type Config struct {
	Concurrent, Sequential []int
	Score                  string // "sessions" (default) | "harmonic"

	Extend     bool
	ExtendStep int // 0: double the axis's largest value; otherwise add this
	// MaxConcurrent and MaxSequential cap extension on each axis; 0 means
	// DefaultMaxFactor times the grid's largest value.
	MaxConcurrent, MaxSequential int
	// MaxPoints caps the number of points run in all, in-grid points
	// included; 0 means no cap beyond the axes'.
	MaxPoints int
}

// Point is a best point; Found is false when no point passed.
type Point struct {
	C     int
	S     int
	Found bool
}

// PointOutcome is a point that was run, for Best.
type PointOutcome struct {
	C, S   int
	Passed bool
}

// Contradiction is a pair of run points that breaks monotonicity: Fail is
// dominated by Pass (Fail.C ≤ Pass.C and Fail.S ≤ Pass.S) yet failed.
type Contradiction struct {
	Fail [2]int
	Pass [2]int
}

// Result is the state of a search: final once Next reports ok=false. It is
// not written as is: the runtime copies what results.json keeps of it into
// the results package's Search.
type Result struct {
	// InGridBest is the best point of the declared grid. It equals the full
	// grid's best when Settled and the results were monotone.
	InGridBest Point
	// ExtendedBest is the best point of the grown grid; equal to InGridBest
	// when extension is off or never grew the grid.
	ExtendedBest Point
	// Settled: every point scoring above InGridBest is known to fail.
	Settled bool
	// Bracketed: with Extend, ExtendedBest is settled and has a failing
	// (measured or implied) neighbour beyond it on each axis; false when an
	// axis limit or MaxPoints stopped the growth first.
	Bracketed bool
	// Concurrent and Sequential are the axes of the grown grid (the declared
	// ones without extension).
	Concurrent []int
	Sequential []int
	// Run lists the points run, in order; Outcomes their results.
	Run      [][2]int
	Outcomes map[[2]int]Outcome
	// Implied holds the points of the grown grid that were not run but whose
	// outcome the monotone assumption implies. Points neither run nor implied
	// are absent.
	Implied map[[2]int]Outcome
	// NonMonotone lists every run point involved in a contradiction, sorted;
	// Contradictions the pairs themselves.
	NonMonotone    [][2]int
	Contradictions []Contradiction
}

// Search is a frontier search in progress. It is not safe for concurrent use.
type Search struct {
	cfg     Config
	cs, ss  []int // declared axes, sorted, unique, positive
	maxC    int
	maxS    int
	results map[[2]int]bool
	order   [][2]int
	// noVerify turns off the measured check of the best point's upper
	// neighbours; tests use it to measure what the check costs.
	noVerify bool
}

// New returns a search over cfg's grid. Axis values ≤ 0 are dropped.
func New(cfg Config) *Search {
	s := &Search{cfg: cfg, results: map[[2]int]bool{}}
	s.cs = axis(cfg.Concurrent)
	s.ss = axis(cfg.Sequential)
	s.maxC = cfg.MaxConcurrent
	if s.maxC <= 0 && len(s.cs) > 0 {
		s.maxC = DefaultMaxFactor * s.cs[len(s.cs)-1]
	}
	s.maxS = cfg.MaxSequential
	if s.maxS <= 0 && len(s.ss) > 0 {
		s.maxS = DefaultMaxFactor * s.ss[len(s.ss)-1]
	}
	return s
}

func axis(v []int) []int {
	out := make([]int, 0, len(v))
	for _, x := range v {
		if x > 0 {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Record stores the outcome of a run point (no_data is a failure). Recording
// a point again replaces its outcome. Points outside the grid are accepted:
// they still imply outcomes for the grid's points.
func (s *Search) Record(c, seq int, passed bool) {
	k := [2]int{c, seq}
	if _, ok := s.results[k]; !ok {
		s.order = append(s.order, k)
	}
	s.results[k] = passed
}

// Next returns the next point to run; ok is false when the search is done.
// It does not change the search: calling it twice without Record returns the
// same point.
func (s *Search) Next() (c, seq int, ok bool) {
	p, ok := s.run().next()
	return p[0], p[1], ok
}

// Result reports the search's state.
func (s *Search) Result() Result {
	st := s.run()
	r := Result{
		InGridBest:   st.inGrid.point(),
		ExtendedBest: st.last.point(),
		Settled:      st.inGrid.settled(),
		Concurrent:   slices.Clone(st.g.cs),
		Sequential:   slices.Clone(st.g.ss),
		Run:          slices.Clone(s.order),
		Outcomes:     map[[2]int]Outcome{},
		Implied:      map[[2]int]Outcome{},
	}
	if s.cfg.Extend {
		r.Bracketed = st.bracketed
	}
	for _, k := range s.order {
		r.Outcomes[k] = outcome(s.results[k])
	}
	for _, k := range st.g.cells() {
		if _, run := s.results[k]; run {
			continue
		}
		if o := st.last.status[k]; o == Pass || o == Fail {
			r.Implied[k] = o
		}
	}
	r.Contradictions = s.contradictions()
	seen := map[[2]int]bool{}
	for _, x := range r.Contradictions {
		for _, k := range [][2]int{x.Fail, x.Pass} {
			if !seen[k] {
				seen[k] = true
				r.NonMonotone = append(r.NonMonotone, k)
			}
		}
	}
	slices.SortFunc(r.NonMonotone, cmpCell)
	return r
}

func outcome(passed bool) Outcome {
	if passed {
		return Pass
	}
	return Fail
}

func cmpCell(a, b [2]int) int {
	if a[0] != b[0] {
		return a[0] - b[0]
	}
	return a[1] - b[1]
}

// Plan runs a whole search against oracle, which says whether a point passes.
func Plan(cfg Config, oracle func(c, s int) bool) Result {
	s := New(cfg)
	// Every step records a new point, and the grown grid is finite, so this
	// bound is never reached by a correct search; it guards against a bug
	// turning into an endless loop.
	limit := 1 << 16
	for range limit {
		c, seq, ok := s.Next()
		if !ok {
			break
		}
		s.Record(c, seq, oracle(c, seq))
	}
	return s.Result()
}

// Best applies the best-point rule (score in docs/language.md) to points
// that were run: the passing point with the largest C×S, ties to the larger
// C ("sessions"), or the largest 2CS/(C+S), ties to the larger C then the
// larger S ("harmonic").
func Best(points []PointOutcome, score string) (c, s int, found bool) {
	var best [2]int
	for _, p := range points {
		if !p.Passed {
			continue
		}
		k := [2]int{p.C, p.S}
		if !found || Better(score, k, best) {
			best, found = k, true
		}
	}
	return best[0], best[1], found
}

// Better reports whether point a ranks strictly above point b under score
// (see Best). Any score other than "harmonic" is "sessions".
func Better(score string, a, b [2]int) bool {
	if score == ScoreHarmonic {
		// 2ab/(a+b) compared without division: all values are positive.
		l := int64(a[0]) * int64(a[1]) * int64(b[0]+b[1])
		r := int64(b[0]) * int64(b[1]) * int64(a[0]+a[1])
		if l != r {
			return l > r
		}
	} else if x, y := a[0]*a[1], b[0]*b[1]; x != y {
		return x > y
	}
	if a[0] != b[0] {
		return a[0] > b[0]
	}
	return a[1] > b[1]
}

// ScoreOf is the point's score: C×S, or 2CS/(C+S) for "harmonic".
func ScoreOf(score string, c, s int) float64 {
	if score == ScoreHarmonic {
		return 2 * float64(c) * float64(s) / float64(c+s)
	}
	return float64(c * s)
}

// FromSpec builds the configuration of a scenario's frontier search; sp may
// be nil (no extension).
func FromSpec(g spec.Grid, score string, sp *spec.Search) Config {
	cfg := Config{Concurrent: slices.Clone(g.Concurrent), Sequential: slices.Clone(g.Sequential), Score: score}
	if sp != nil {
		cfg.Extend = sp.Extend
		cfg.ExtendStep = sp.ExtendStep
		cfg.MaxConcurrent = sp.MaxConcurrent
		cfg.MaxSequential = sp.MaxSequential
		cfg.MaxPoints = sp.MaxPoints
	}
	return cfg
}

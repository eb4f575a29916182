package search

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// staircases calls f with every monotone pass/fail function on an nc×ns grid
// of indices: h[i] is how many of the smallest S values pass at the i-th C
// value, non-increasing in i. There are C(nc+ns, nc) of them.
func staircases(nc, ns int, f func(h []int)) {
	h := make([]int, nc)
	var rec func(i, maxH int)
	rec = func(i, maxH int) {
		if i == nc {
			f(h)
			return
		}
		for v := 0; v <= maxH; v++ {
			h[i] = v
			rec(i+1, v)
		}
	}
	rec(0, ns)
}

func seqAxis(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// oracleOf maps a staircase of indices onto axis values.
func oracleOf(cs, ss []int, h []int) func(c, s int) bool {
	return func(c, s int) bool {
		i, j := slices.Index(cs, c), slices.Index(ss, s)
		if i < 0 || j < 0 {
			panic(fmt.Sprintf("oracle asked about (%d,%d) outside the grid", c, s))
		}
		return j < h[i]
	}
}

func fullGridBest(cs, ss []int, score string, oracle func(c, s int) bool) Point {
	var pts []PointOutcome
	for _, c := range cs {
		for _, s := range ss {
			pts = append(pts, PointOutcome{C: c, S: s, Passed: oracle(c, s)})
		}
	}
	c, s, ok := Best(pts, score)
	return Point{C: c, S: s, Found: ok}
}

// checkPlan runs a search against a monotone oracle and checks it against
// the full grid: same best, settled, implied outcomes true, nothing reported
// as non-monotone. It returns how many points ran.
func checkPlan(t *testing.T, cfg Config, oracle func(c, s int) bool, label string) int {
	t.Helper()
	r := Plan(cfg, oracle)
	want := fullGridBest(cfg.Concurrent, cfg.Sequential, cfg.Score, oracle)
	if r.InGridBest != want {
		t.Fatalf("%s: in-grid best %+v, full grid %+v (run %v)", label, r.InGridBest, want, r.Run)
	}
	if !r.Settled {
		t.Fatalf("%s: not settled", label)
	}
	if len(r.NonMonotone) != 0 {
		t.Fatalf("%s: monotone oracle reported non-monotone %v", label, r.NonMonotone)
	}
	for k, o := range r.Implied {
		if (o == Pass) != oracle(k[0], k[1]) {
			t.Fatalf("%s: implied %v at %v, oracle says %v", label, o, k, oracle(k[0], k[1]))
		}
	}
	seen := map[[2]int]bool{}
	for _, k := range r.Run {
		if seen[k] {
			t.Fatalf("%s: ran %v twice", label, k)
		}
		seen[k] = true
	}
	return len(r.Run)
}

func TestEveryStaircase6x6(t *testing.T) {
	axes := []struct {
		name   string
		cs, ss []int
	}{
		{"dense", seqAxis(6), seqAxis(6)},
		{"irregular", []int{1, 2, 4, 8, 16, 32}, []int{1, 2, 3, 5, 8, 13}},
	}
	for _, ax := range axes {
		for _, score := range []string{ScoreSessions, ScoreHarmonic} {
			t.Run(ax.name+"/"+score, func(t *testing.T) {
				cfg := Config{Concurrent: ax.cs, Sequential: ax.ss, Score: score}
				n, total, worst := 0, 0, 0
				staircases(6, 6, func(h []int) {
					ran := checkPlan(t, cfg, oracleOf(ax.cs, ax.ss, h), fmt.Sprint(h))
					if ran >= 36 {
						t.Fatalf("staircase %v: ran all %d points", h, ran)
					}
					n++
					total += ran
					worst = max(worst, ran)
				})
				if n != 924 {
					t.Fatalf("enumerated %d staircases, want 924", n)
				}
				t.Logf("%d staircases: mean %.1f%%, max %.1f%% of 36 points", n, 100*float64(total)/float64(n)/36, 100*float64(worst)/36)
			})
		}
	}
}

type fraction struct {
	n           int
	mean, worst float64
}

// measure runs the search over oracles and returns the fraction of the grid
// it ran, on average and at worst.
func measure(t *testing.T, cfg Config, noVerify bool, oracles func(f func(func(c, s int) bool, string))) fraction {
	t.Helper()
	cells := float64(len(cfg.Concurrent) * len(cfg.Sequential))
	var fr fraction
	total := 0.0
	oracles(func(o func(c, s int) bool, label string) {
		s := New(cfg)
		s.noVerify = noVerify
		for {
			c, q, ok := s.Next()
			if !ok {
				break
			}
			s.Record(c, q, o(c, q))
		}
		r := s.Result()
		if want := fullGridBest(cfg.Concurrent, cfg.Sequential, cfg.Score, o); r.InGridBest != want {
			t.Fatalf("%s: best %+v, want %+v", label, r.InGridBest, want)
		}
		f := float64(len(r.Run)) / cells
		fr.n++
		total += f
		fr.worst = max(fr.worst, f)
	})
	fr.mean = total / float64(fr.n)
	return fr
}

func allStaircases(cs, ss []int) func(f func(func(c, s int) bool, string)) {
	return func(f func(func(c, s int) bool, string)) {
		staircases(len(cs), len(ss), func(h []int) { f(oracleOf(cs, ss, slices.Clone(h)), fmt.Sprint(h)) })
	}
}

// knees are the frontiers load-driven SLOs draw: a point passes while its
// load C^a·S^b stays under a limit, for every limit that leaves at least one
// point passing and one failing, and a few weightings of the two axes.
func knees(cs, ss []int) func(f func(func(c, s int) bool, string)) {
	return func(f func(func(c, s int) bool, string)) {
		for _, w := range [][2]float64{{1, 1}, {1, 0.5}, {0.5, 1}, {1, 1.5}} {
			load := func(c, s int) float64 { return pow(float64(c), w[0]) * pow(float64(s), w[1]) }
			var limits []float64
			for _, c := range cs {
				for _, s := range ss {
					limits = append(limits, load(c, s))
				}
			}
			slices.Sort(limits)
			limits = slices.Compact(limits)
			for _, lim := range limits[:len(limits)-1] {
				f(func(c, s int) bool { return load(c, s) <= lim }, fmt.Sprintf("w=%v lim=%v", w, lim))
			}
		}
	}
}

func pow(x, y float64) float64 {
	switch y {
	case 1:
		return x
	case 0.5:
		return sqrt(x)
	case 1.5:
		return x * sqrt(x)
	}
	panic("unsupported exponent")
}

func sqrt(x float64) float64 {
	r := x
	for range 60 {
		r = (r + x/r) / 2
	}
	return r
}

// TestFractions runs every staircase of the acceptance grids (a sample for
// 8×8 keeps the suite fast) and the knee-shaped ones, and holds the search
// to the acceptance target of running at most 40% of the points.
func TestFractions(t *testing.T) {
	grids := []struct {
		name   string
		cs, ss []int
		all    bool
	}{
		{"4x4", seqAxis(4), seqAxis(4), true},
		{"8x8", seqAxis(8), seqAxis(8), false},
		{"16x4", seqAxis(16), seqAxis(4), true},
	}
	for _, g := range grids {
		for _, score := range []string{ScoreSessions, ScoreHarmonic} {
			t.Run(g.name+"/"+score, func(t *testing.T) {
				cfg := Config{Concurrent: g.cs, Sequential: g.ss, Score: score}
				sets := map[string]func(f func(func(c, s int) bool, string)){"knees": knees(g.cs, g.ss)}
				if g.all {
					sets["all staircases"] = allStaircases(g.cs, g.ss)
				} else {
					sets["every 7th staircase"] = sampledStaircases(g.cs, g.ss, 7)
				}
				for name, set := range sets {
					fr := measure(t, cfg, false, set)
					t.Logf("%s: %d oracles, mean %.1f%%, max %.1f%% of the points", name, fr.n, 100*fr.mean, 100*fr.worst)
					if fr.worst > 0.40 {
						t.Errorf("%s: ran up to %.1f%% of the points, want ≤ 40%%", name, 100*fr.worst)
					}
				}
			})
		}
	}
}

func sampledStaircases(cs, ss []int, every int) func(f func(func(c, s int) bool, string)) {
	return func(f func(func(c, s int) bool, string)) {
		i := 0
		staircases(len(cs), len(ss), func(h []int) {
			if i%every == 0 {
				f(oracleOf(cs, ss, slices.Clone(h)), fmt.Sprint(h))
			}
			i++
		})
	}
}

func TestVerifyCost(t *testing.T) {
	// The measured check of the best's neighbours must be worth its price:
	// on 4×4 knees it costs at most one point per search on average.
	cfg := Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)}
	with := measure(t, cfg, false, knees(cfg.Concurrent, cfg.Sequential))
	without := measure(t, cfg, true, knees(cfg.Concurrent, cfg.Sequential))
	extra := (with.mean - without.mean) * 16
	t.Logf("verification costs %.2f points per 4×4 search on average", extra)
	if extra < 0 || extra > 1 {
		t.Fatalf("verification costs %.2f points, want within [0, 1]", extra)
	}
}

func TestRecordContradiction(t *testing.T) {
	s := New(Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)})
	s.Record(2, 2, false)
	s.Record(1, 1, true)
	s.Record(3, 3, true)
	r := s.Result()
	if want := [][2]int{{2, 2}, {3, 3}}; !slices.Equal(r.NonMonotone, want) {
		t.Fatalf("NonMonotone = %v, want %v", r.NonMonotone, want)
	}
	if want := []Contradiction{{Fail: [2]int{2, 2}, Pass: [2]int{3, 3}}}; !slices.Equal(r.Contradictions, want) {
		t.Fatalf("Contradictions = %v, want %v", r.Contradictions, want)
	}
	// Neither contradicting point implies anything: (2,3) lies above the
	// failure and below the pass, so it must stay unimplied.
	if o, ok := r.Implied[[2]int{2, 3}]; ok {
		t.Fatalf("(2,3) implied %v despite the contradiction", o)
	}
	// (1,1) is still a trusted pass: (1,1) is run, nothing below it.
	if r.Outcomes[[2]int{1, 1}] != Pass {
		t.Fatalf("(1,1) outcome %v", r.Outcomes[[2]int{1, 1}])
	}
}

// TestPlantedIsland adds one passing cell just above the best point of every
// 6×6 staircase. The search must still name the full grid's best, and report
// the contradiction whenever the points it ran contain one.
func TestPlantedIsland(t *testing.T) {
	cs, ss := seqAxis(6), seqAxis(6)
	for _, score := range []string{ScoreSessions, ScoreHarmonic} {
		cfg := Config{Concurrent: cs, Sequential: ss, Score: score}
		planted, reported := 0, 0
		staircases(6, 6, func(h []int) {
			base := oracleOf(cs, ss, h)
			b := fullGridBest(cs, ss, score, base)
			if !b.Found {
				return
			}
			for _, u := range (grid{cs, ss}).upper([2]int{b.C, b.S}) {
				oracle := func(c, s int) bool { return base(c, s) || [2]int{c, s} == u }
				label := fmt.Sprintf("%s %v island %v", score, h, u)
				r := Plan(cfg, oracle)
				if want := fullGridBest(cs, ss, score, oracle); r.InGridBest != want {
					t.Fatalf("%s: best %+v, full grid %+v (run %v)", label, r.InGridBest, want, r.Run)
				}
				contradicted := false
				for _, f := range r.Run {
					for _, p := range r.Run {
						if !oracle(f[0], f[1]) && oracle(p[0], p[1]) && dominates(p, f) {
							contradicted = true
						}
					}
				}
				if contradicted != (len(r.NonMonotone) > 0) {
					t.Fatalf("%s: contradiction among run points %v, reported %v", label, contradicted, r.NonMonotone)
				}
				if contradicted && !slices.Contains(r.NonMonotone, u) {
					t.Fatalf("%s: island not among reported %v", label, r.NonMonotone)
				}
				planted++
				if contradicted {
					reported++
				}
			}
		})
		t.Logf("%s: %d planted islands, %d detected by the points run", score, planted, reported)
		if reported == 0 {
			t.Fatalf("%s: no planted island was ever detected", score)
		}
	}
}

func TestExtendBracketsLimit(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		limit     int // a point passes while C×S ≤ limit
		wantIn    Point
		wantExt   Point
		bracketed bool
		wantAxisC int // largest C of the grown grid
	}{
		{
			name:  "double past a 4x4",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxConcurrent: 64, MaxSequential: 64},
			limit: 20, wantIn: Point{4, 4, true}, wantExt: Point{16, 1, true}, bracketed: true, wantAxisC: 32,
		},
		{
			name:  "step past a 4x4",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, ExtendStep: 2, MaxConcurrent: 64, MaxSequential: 64},
			limit: 20, wantIn: Point{4, 4, true}, wantExt: Point{6, 3, true}, bracketed: true, wantAxisC: 8,
		},
		{
			name:  "axis cap stops growth",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxConcurrent: 8, MaxSequential: 4},
			limit: 1000, wantIn: Point{4, 4, true}, wantExt: Point{8, 4, true}, bracketed: false, wantAxisC: 8,
		},
		{
			name:  "limit inside the grid: nothing to extend",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true},
			limit: 6, wantIn: Point{3, 2, true}, wantExt: Point{3, 2, true}, bracketed: true, wantAxisC: 4,
		},
		{
			name:  "nothing passes",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true},
			limit: 0, wantIn: Point{}, wantExt: Point{}, bracketed: false, wantAxisC: 4,
		},
		{
			name:  "extension off",
			cfg:   Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)},
			limit: 20, wantIn: Point{4, 4, true}, wantExt: Point{4, 4, true}, bracketed: false, wantAxisC: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oracle := func(c, s int) bool { return c*s <= tc.limit }
			r := Plan(tc.cfg, oracle)
			if r.InGridBest != tc.wantIn || r.ExtendedBest != tc.wantExt || r.Bracketed != tc.bracketed {
				t.Fatalf("in-grid %+v extended %+v bracketed %v; want %+v %+v %v (run %v)",
					r.InGridBest, r.ExtendedBest, r.Bracketed, tc.wantIn, tc.wantExt, tc.bracketed, r.Run)
			}
			if got := r.Concurrent[len(r.Concurrent)-1]; got != tc.wantAxisC {
				t.Fatalf("grown C axis %v, want it to end at %d", r.Concurrent, tc.wantAxisC)
			}
			// The extended best is the full best of the grown grid.
			if want := fullGridBest(r.Concurrent, r.Sequential, tc.cfg.Score, oracle); r.ExtendedBest != want {
				t.Fatalf("extended best %+v, full grown grid %+v", r.ExtendedBest, want)
			}
			if r.Bracketed {
				// Bracketed: one step past the best fails on each axis it could grow.
				for _, u := range (grid{r.Concurrent, r.Sequential}).upper([2]int{r.ExtendedBest.C, r.ExtendedBest.S}) {
					if oracle(u[0], u[1]) {
						t.Fatalf("bracketed but %v passes", u)
					}
				}
			}
			for _, k := range r.Run {
				if k[0] > max(tc.cfg.MaxConcurrent, 4*DefaultMaxFactor) || k[1] > max(tc.cfg.MaxSequential, 4*DefaultMaxFactor) {
					t.Fatalf("ran %v beyond the axis limits", k)
				}
			}
		})
	}
}

func TestMaxPoints(t *testing.T) {
	cfg := Config{Concurrent: seqAxis(4), Sequential: seqAxis(4), Extend: true, MaxPoints: 5, MaxConcurrent: 1 << 10, MaxSequential: 1 << 10}
	r := Plan(cfg, func(c, s int) bool { return c*s <= 100 })
	if len(r.Run) != 5 {
		t.Fatalf("ran %d points, want the cap of 5", len(r.Run))
	}
	if r.Bracketed {
		t.Fatalf("bracketed though the cap stopped the search")
	}
}

// TestResume replays every prefix of a search into a fresh one: continuing
// from it must run the same points and reach the same result.
func TestResume(t *testing.T) {
	cfg := Config{Concurrent: []int{1, 2, 4, 8}, Sequential: []int{1, 2, 3, 4}, Extend: true, MaxConcurrent: 32, MaxSequential: 8}
	oracle := func(c, s int) bool { return c*s <= 20 }
	full := Plan(cfg, oracle)
	for cut := 0; cut <= len(full.Run); cut++ {
		s := New(cfg)
		for _, k := range full.Run[:cut] {
			s.Record(k[0], k[1], oracle(k[0], k[1]))
		}
		for {
			c, q, ok := s.Next()
			if !ok {
				break
			}
			s.Record(c, q, oracle(c, q))
		}
		r := s.Result()
		if !slices.Equal(r.Run, full.Run) || r.ExtendedBest != full.ExtendedBest || r.InGridBest != full.InGridBest {
			t.Fatalf("resumed after %d points: run %v best %+v/%+v; uninterrupted %v %+v/%+v",
				cut, r.Run, r.InGridBest, r.ExtendedBest, full.Run, full.InGridBest, full.ExtendedBest)
		}
	}
}

func TestNextIsPure(t *testing.T) {
	s := New(Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)})
	c1, s1, ok1 := s.Next()
	c2, s2, ok2 := s.Next()
	if c1 != c2 || s1 != s2 || ok1 != ok2 || !ok1 {
		t.Fatalf("Next twice: (%d,%d,%v) then (%d,%d,%v)", c1, s1, ok1, c2, s2, ok2)
	}
}

func TestBest(t *testing.T) {
	pts := func(passing ...[2]int) []PointOutcome {
		out := []PointOutcome{{C: 9, S: 9, Passed: false}}
		for _, p := range passing {
			out = append(out, PointOutcome{C: p[0], S: p[1], Passed: true})
		}
		return out
	}
	tests := []struct {
		name  string
		in    []PointOutcome
		score string
		want  Point
	}{
		{"sessions largest product", pts([2]int{2, 2}, [2]int{1, 5}), ScoreSessions, Point{1, 5, true}},
		{"sessions tie to larger C", pts([2]int{3, 4}, [2]int{4, 3}, [2]int{2, 6}), ScoreSessions, Point{4, 3, true}},
		{"harmonic prefers balance", pts([2]int{3, 3}, [2]int{1, 12}), ScoreHarmonic, Point{3, 3, true}},
		{"harmonic tie to larger C", pts([2]int{2, 6}, [2]int{6, 2}), ScoreHarmonic, Point{6, 2, true}},
		{"default score is sessions", pts([2]int{3, 3}, [2]int{1, 12}), "", Point{1, 12, true}},
		{"failures never win", pts(), ScoreSessions, Point{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s, ok := Best(tc.in, tc.score)
			if got := (Point{c, s, ok}); got != tc.want {
				t.Fatalf("Best = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFromSpec(t *testing.T) {
	g := spec.Grid{Concurrent: []int{1, 2}, Sequential: []int{3}}
	got := FromSpec(g, ScoreHarmonic, &spec.Search{Kind: "frontier", Extend: true, ExtendStep: 2, MaxConcurrent: 9, MaxSequential: 7, MaxPoints: 5})
	want := Config{Concurrent: []int{1, 2}, Sequential: []int{3}, Score: ScoreHarmonic, Extend: true, ExtendStep: 2, MaxConcurrent: 9, MaxSequential: 7, MaxPoints: 5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FromSpec = %+v, want %+v", got, want)
	}
	if got := FromSpec(g, "", nil); got.Extend || got.Score != "" || len(got.Concurrent) != 2 {
		t.Fatalf("FromSpec(nil) = %+v", got)
	}
}

// TestRunOutsideGrid: a point run outside the grid is kept among the
// outcomes, and the points implied are all inside the grid and not run.
func TestRunOutsideGrid(t *testing.T) {
	cfg := Config{Concurrent: seqAxis(4), Sequential: seqAxis(4)}
	s := New(cfg)
	s.Record(9, 9, false)
	for {
		c, q, ok := s.Next()
		if !ok {
			break
		}
		s.Record(c, q, c*q <= 6)
	}
	r := s.Result()
	if r.Outcomes[[2]int{9, 9}] != Fail || r.Run[0] != [2]int{9, 9} {
		t.Fatalf("outcome of 9x9 %v, run %v", r.Outcomes[[2]int{9, 9}], r.Run)
	}
	for k, o := range r.Implied {
		if _, run := r.Outcomes[k]; run || k[0] > 4 || k[1] > 4 {
			t.Fatalf("implied %v at %v: run or outside the grid", o, k)
		}
		if want := outcome(k[0]*k[1] <= 6); o != want {
			t.Fatalf("implied %v at %v, want %v", o, k, want)
		}
	}
	for _, k := range r.Run[1:] {
		if k[0] > 4 || k[1] > 4 || r.Outcomes[k] != outcome(k[0]*k[1] <= 6) {
			t.Fatalf("ran %v: outcome %v", k, r.Outcomes[k])
		}
	}
}

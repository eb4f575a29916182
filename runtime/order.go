package runtime

import (
	"math"
	"slices"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// pointOrder yields the points to run: the grid (or a shard's part of it)
// in order, a frontier search, or, for an open-loop scenario, the rate
// search.
type pointOrder struct {
	grid   [][2]int
	done   map[[2]int]bool
	search *search.Search
	rate   *search.RateConfig // an open-loop scenario's; nil otherwise
	rates  []search.RateResult
}

func newPointOrder(sc *spec.Scenario, shard spec.Shard) *pointOrder {
	o := &pointOrder{done: map[[2]int]bool{}}
	if sc.Users != nil {
		cfg := search.RateConfigFromSpec(sc.Users, sc.Search)
		o.rate = &cfg
		return o
	}
	if sc.Search != nil {
		o.search = search.New(searchConfig(sc))
		return o
	}
	o.grid = shard.Points(sc.Grid)
	return o
}

func searchConfig(sc *spec.Scenario) search.Config {
	return search.FromSpec(sc.Grid, sc.Score, sc.Search)
}

// pending is what may still run besides the point in flight (none: a
// point outside the grid): the grid's points not yet done, or the points
// the frontier search may still run, an upper bound. Each point sends
// C×S×(rounds+1) requests.
func (o *pointOrder) pending(rounds int, inFlight [2]int) pending {
	var pts [][2]int
	most := 0
	if o.search != nil {
		left := o.search.Left()
		pts, most = left.Points, left.Max
	} else {
		for _, k := range o.grid {
			if !o.done[k] {
				pts = append(pts, k)
			}
		}
		most = len(pts)
	}
	var reqs []int
	for _, k := range pts {
		if k == inFlight {
			most--
			continue
		}
		reqs = append(reqs, k[0]*k[1]*(rounds+1))
	}
	return newPending(reqs, most, o.search != nil)
}

// recordPoint records a finished point, closed-loop or open-loop.
func (o *pointOrder) recordPoint(p *results.Point) {
	if p.Rate > 0 {
		o.recordRate(p.Rate, p.Passed)
		return
	}
	o.record(p.Concurrent, p.Sequential, p.Passed)
}

// recordRate records an open-loop point; a rate that ran again replaces
// its earlier outcome.
func (o *pointOrder) recordRate(rate float64, passed bool) {
	o.rates = slices.DeleteFunc(o.rates, func(r search.RateResult) bool { return r.Rate == rate })
	o.rates = append(o.rates, search.RateResult{Rate: rate, Passed: passed})
}

// nextRate is the rate the rate search runs next, if any.
func (o *pointOrder) nextRate() (float64, bool) {
	return o.rate.NextRate(o.rates)
}

// ratePending is what a rate search may still run: its points depend on
// results, so none is counted.
func (o *pointOrder) ratePending() pending {
	return pending{bound: true, open: true}
}

func (o *pointOrder) record(c, s int, passed bool) {
	o.done[[2]int{c, s}] = true
	if o.search != nil {
		o.search.Record(c, s, passed)
	}
}

func (o *pointOrder) next() (int, int, bool) {
	if o.search != nil {
		return o.search.Next()
	}
	for _, p := range o.grid {
		if !o.done[p] {
			return p[0], p[1], true
		}
	}
	return 0, 0, false
}

// finalize computes the best point, the sweep metrics and expect.
func finalize(sc *spec.Scenario, r *results.Results, o *pointOrder) {
	if o.rate != nil {
		finalizeRates(sc, r, o)
		return
	}
	expect := sc.Expect
	if r.Shard != nil {
		expect = nil // a shard holds part of the sweep: merge judges expect on the whole
	}
	finalizeGrid(r, sc.Score, expect)
	if o.search != nil {
		r.Search = searchResults(sc, o.search.Result())
	}
}

// finalizeGrid computes a grid sweep's best point by score, its sweep
// metrics and the outcome of expect (nil: none) from its points: the end
// of every grid sweep, and of mrqa merge over its shards' points.
func finalizeGrid(r *results.Results, score string, expect *metrics.Condition) {
	var outs []search.PointOutcome
	r.Sweep = metrics.Sweep{PointsRun: len(r.Points)}
	for _, p := range r.Points {
		outs = append(outs, search.PointOutcome{C: p.Concurrent, S: p.Sequential, Passed: p.Passed})
		if p.Passed {
			r.Sweep.PointsPassed++
		}
	}
	r.Best = nil
	if c, s, ok := search.Best(outs, score); ok {
		r.Best = &results.Best{Concurrent: c, Sequential: s, Sessions: c * s, Score: search.ScoreOf(score, c, s)}
		r.Sweep.MaxSessions, r.Sweep.BestConcurrent, r.Sweep.BestSequential = c*s, c, s
	}
	r.ExpectOutcome = ""
	switch {
	case expect == nil:
	case len(r.NotRun()) > 0:
		r.ExpectOutcome = metrics.NotJudged
	default:
		r.ExpectOutcome = expect.Eval(r.Sweep)
	}
}

// searchResults records what the frontier search found for results.json.
func searchResults(sc *spec.Scenario, res search.Result) *results.Search {
	si := &results.Search{Kind: sc.Search.Kind}
	if res.InGridBest.Found {
		si.InGridBest = &results.Best{Concurrent: res.InGridBest.C, Sequential: res.InGridBest.S, Sessions: res.InGridBest.C * res.InGridBest.S, Score: search.ScoreOf(sc.Score, res.InGridBest.C, res.InGridBest.S)}
	}
	if res.ExtendedBest.Found && sc.Search.Extend {
		si.ExtendedBest = &results.Best{Concurrent: res.ExtendedBest.C, Sequential: res.ExtendedBest.S, Sessions: res.ExtendedBest.C * res.ExtendedBest.S, Score: search.ScoreOf(sc.Score, res.ExtendedBest.C, res.ExtendedBest.S)}
	}
	for k, v := range res.Implied {
		si.Implied = append(si.Implied, results.ImpliedPoint{Concurrent: k[0], Sequential: k[1], Passed: v == search.Pass})
	}
	slices.SortFunc(si.Implied, func(a, b results.ImpliedPoint) int {
		if a.Concurrent != b.Concurrent {
			return a.Concurrent - b.Concurrent
		}
		return a.Sequential - b.Sequential
	})
	si.NonMonotone = res.NonMonotone
	si.Concurrent, si.Sequential = res.Concurrent, res.Sequential
	si.Settled, si.Bracketed = res.Settled, res.Bracketed
	si.Order = res.Run
	return si
}

// finalizeRates computes an open-loop sweep's best point, the highest
// passing rate below every failing one (search.RateConfig.Bracket), and
// the rate search's bracket.
func finalizeRates(sc *spec.Scenario, r *results.Results, o *pointOrder) {
	r.Sweep = metrics.Sweep{PointsRun: len(r.Points)}
	for _, p := range r.Points {
		if p.Passed {
			r.Sweep.PointsPassed++
		}
	}
	b := o.rate.Bracket(o.rates)
	r.Best = nil
	if b.Found {
		r.Best = &results.Best{Rate: b.Pass, Score: b.Pass}
		r.Sweep.BestRate = b.Pass
	}
	rs := &results.RateSearch{Settled: b.Settled}
	if b.Found {
		rs.Pass = &b.Pass
	}
	if !math.IsInf(b.Fail, 1) {
		rs.Fail = &b.Fail
	}
	for _, x := range o.rates {
		rs.Order = append(rs.Order, x.Rate)
	}
	r.RateSearch = rs
	r.ExpectOutcome = ""
	if sc.Expect != nil {
		r.ExpectOutcome = sc.Expect.Eval(r.Sweep)
	}
}

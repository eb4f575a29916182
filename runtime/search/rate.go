package search

import (
	"math"
	"slices"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// The search on an open-loop scenario's arrival rate (a users block) works
// on one axis, so it needs none of the grid's machinery: it runs the
// declared rates from the lowest while they pass; once one fails it bisects
// between the highest passing rate and the lowest failing one until they
// are within Precision of each other; when every declared rate passes it
// doubles the highest, up to MaxRate, if Extend asks. It assumes that a
// higher rate never does better; a result that contradicts it (a pass above
// a failure) is ignored in favour of the lower failure, so the answer stays
// bracketed by a pass and a failure that were both measured.

// RateConfig is a rate search.
type RateConfig struct {
	Rates     []float64 // the declared rates, sessions per minute
	Extend    bool
	MaxRate   float64 // the most Extend may reach; 0: SearchMaxFactor × the largest declared
	MaxPoints int     // 0: no limit
	Precision float64 // stop once fail − pass ≤ Precision × pass; 0: spec.RatePrecision
}

// RateConfigFromSpec builds the search of an open-loop scenario.
func RateConfigFromSpec(u *spec.Users, sp *spec.Search) RateConfig {
	cfg := RateConfig{Rates: u.Rates, Precision: spec.RatePrecision}
	if sp != nil {
		cfg.Extend, cfg.MaxRate, cfg.MaxPoints = sp.Extend, sp.MaxRate, sp.MaxPoints
	}
	return cfg
}

// RateResult is a rate that ran.
type RateResult struct {
	Rate   float64
	Passed bool
}

// RateBracket is what the results say about the highest passing rate.
type RateBracket struct {
	Pass  float64 // the highest passing rate below every failure; 0: none passed
	Fail  float64 // the lowest failing rate; +Inf: none failed
	Found bool    // some rate passed
	// Settled: Pass and Fail are within the precision, so the limit is known.
	Settled bool
}

// Bracket reads the results so far.
func (c RateConfig) Bracket(done []RateResult) RateBracket {
	b := RateBracket{Fail: math.Inf(1)}
	for _, r := range done {
		if !r.Passed {
			b.Fail = min(b.Fail, r.Rate)
		}
	}
	for _, r := range done {
		if r.Passed && r.Rate < b.Fail && r.Rate > b.Pass {
			b.Pass, b.Found = r.Rate, true
		}
	}
	b.Settled = b.Found && b.Fail-b.Pass <= c.precision()*b.Pass
	return b
}

func (c RateConfig) precision() float64 {
	if c.Precision > 0 {
		return c.Precision
	}
	return spec.RatePrecision
}

func (c RateConfig) maxRate() float64 {
	return spec.MaxSearchRate(c.Rates, &spec.Search{Extend: true, MaxRate: c.MaxRate})
}

// NextRate is the rate to run next, or false when the search is over.
func (c RateConfig) NextRate(done []RateResult) (float64, bool) {
	if len(c.Rates) == 0 || c.MaxPoints > 0 && len(done) >= c.MaxPoints {
		return 0, false
	}
	b := c.Bracket(done)
	ran := func(rate float64) bool {
		return slices.ContainsFunc(done, func(r RateResult) bool { return r.Rate == rate })
	}
	declared := slices.Sorted(slices.Values(c.Rates))
	for _, r := range declared {
		if r > b.Pass && r < b.Fail && !ran(r) {
			return r, true
		}
	}
	switch {
	case !b.Found || b.Settled:
		return 0, false // nothing passed (nothing below the lowest rate is tried), or the limit is known
	case !math.IsInf(b.Fail, 1):
		return (b.Pass + b.Fail) / 2, true
	case c.Extend && b.Pass < c.maxRate():
		return min(2*b.Pass, c.maxRate()), true
	}
	return 0, false
}

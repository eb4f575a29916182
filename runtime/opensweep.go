package runtime

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openloop"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// OpenExecutor runs one open-loop point: sessions arriving on the point's
// schedule, whatever the server is doing. Both executors implement it:
// HTTPExecutor on the real clock, the virtual executor on the simulated one.
type OpenExecutor interface {
	RunOpen(ctx context.Context, p *OpenPoint, emit func(metrics.Record)) (Execution, error)
}

// runRatePoint runs one open-loop point at rate sessions per minute, as
// runPoint does a grid point.
func (s *sweep) runRatePoint(rate float64, first bool) error {
	ox, ok := s.tgt.exec.(OpenExecutor)
	if !ok {
		return fmt.Errorf("%w: this target's executor cannot run open-loop points", ErrPlan)
	}
	return s.runOne(first, func() (pointRun, error) {
		plan, err := PlanOpenPoint(s.sc, s.docs, rate)
		if err != nil {
			return pointRun{}, err
		}
		return pointRun{
			label: "rate_" + results.FormatRate(rate),
			start: func() { s.prog.ratePoint(rate, plan.Requests(), s.pending(noPoint)) },
			exec:  func() (Execution, error) { return ox.RunOpen(s.ctx, plan, s.prog.record) },
			build: func(run Execution) results.Point {
				return buildOpenPoint(s.sc, plan, run.Records, run.Epoch, run.Span)
			},
		}, nil
	})
}

// buildOpenPoint aggregates an open-loop point's records as buildPoint
// does a grid point's; the caller adds server metrics and judges it. The
// turns that start during the warm-up are flagged in recs (the records
// file keeps them) and left out of every figure: the point measures the
// server once the arrivals have built up its load.
func buildOpenPoint(sc *spec.Scenario, plan *OpenPoint, recs []metrics.Record, started time.Time, dur time.Duration) results.Point {
	slices.SortStableFunc(recs, func(a, b metrics.Record) int { return cmp.Compare(a.Start, b.Start) })
	measured := metrics.MarkWarmup(recs, sc.Users.Warmup.Seconds())
	pt := results.Point{
		Rate:     plan.Rate,
		Started:  started.UTC(),
		Duration: dur.Seconds(),
		Metrics:  metrics.Aggregate(0, 0, measured),
		Records:  filepath.ToSlash(results.RateRecordsPath(plan.Rate)),
		CDF:      metrics.CDF(measured),
		Turns:    turnStats(measured, plan.Rounds),
	}
	load := metrics.MeasureLoad(measured)
	pt.Load = &load
	pt.Errors = errorsByKind(measured)
	// Sessions are counted whole, warm-up included; the active ones over
	// the measured window, as the turns are.
	from := min(sc.Users.Warmup.Seconds(), dur.Seconds())
	pt.Users = results.UsersOf(metrics.CountSessions(recs, from, max(dur.Seconds(), from)))
	tl := metrics.SessionTimeline(recs, dur.Seconds(), timelineStep(dur))
	pt.Users.Timeline = &tl
	for i := range plan.Sessions {
		s := &plan.Sessions[i]
		pt.Sessions = append(pt.Sessions, results.SessionDocument{Session: s.Label, Document: s.Doc.ID})
	}
	return pt
}

// errorsByKind counts the failed records by kind, canceled ones left out;
// nil when none failed.
func errorsByKind(recs []metrics.Record) map[string]int {
	var out map[string]int
	for i := range recs {
		if k := recs[i].Error; k != "" && k != metrics.ErrCanceled {
			if out == nil {
				out = map[string]int{}
			}
			out[k]++
		}
	}
	return out
}

// dryRunOpen prints an open-loop scenario's plan: the declared rates, each
// with the sessions its schedule holds and their requests.
func dryRunOpen(w io.Writer, sc *spec.Scenario) error {
	u := sc.Users
	fmt.Fprintf(w, "scenario %q: target %q, corpus %q, script %q, %d rounds, open loop: %s arrivals, think time %s %s\n",
		sc.Name, sc.Target.Name, sc.Corpus.Name, sc.Script.Name, sc.Rounds, u.Arrival, u.Think.Distribution, u.Think.Mean)
	for _, slo := range sc.SLOs {
		fmt.Fprintf(w, "  slo %q: %s\n", slo.Name, slo.Condition.Text)
	}
	fmt.Fprintf(w, "  rate search: the declared rates from the lowest while they pass, then bisection to %.0f%%\n", spec.RatePrecision*100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate/min\tsessions\trequests\t")
	for _, rate := range slices.Sorted(slices.Values(u.Rates)) {
		sched, err := openloop.Schedule(u, rate, sc.Rounds, sc.Seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", results.FormatRate(rate), len(sched), len(sched)*(sc.Rounds+1))
	}
	return tw.Flush()
}

// timelineStep cuts a point into at most about 100 buckets of whole seconds.
func timelineStep(span time.Duration) float64 {
	return max(1, math.Ceil(span.Seconds()/100))
}

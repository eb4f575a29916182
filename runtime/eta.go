package runtime

import (
	"fmt"
	"slices"
	"time"
)

// estimate predicts the wall time a sweep has left from the points it has
// finished in this run: their wall time per request, applied to the
// requests still to send. A point's wall time grows with its requests
// (C×S sessions × rounds + 1), so a small first point does not make the
// large ones look quick.
type estimate struct {
	wall     time.Duration // of the points finished in this run
	requests int           // the requests those points planned
}

// add counts a finished point.
func (e *estimate) add(wall time.Duration, requests int) {
	if wall > 0 && requests > 0 {
		e.wall += wall
		e.requests += requests
	}
}

// known reports whether a point has finished, so there is a rate to use.
func (e *estimate) known() bool { return e.requests > 0 }

// of is the wall time requests take at the measured rate.
func (e *estimate) of(requests int) time.Duration {
	if !e.known() || requests <= 0 {
		return 0
	}
	return time.Duration(float64(e.wall) * float64(requests) / float64(e.requests))
}

// left is the wall time left: the point in flight's unsent requests
// (inFlight), then the pending points, each after the cooldown.
func (e *estimate) left(inFlight int, p pending, cooldown time.Duration) time.Duration {
	return e.of(inFlight) + e.of(p.atMost()) + time.Duration(p.max)*cooldown
}

// pending is what a sweep may still run after the point in flight.
type pending struct {
	requests []int // of each point that may still run, largest first
	max      int   // how many of them may run
	// bound: a frontier search, whose results decide which points run;
	// the counts and times are upper bounds, not a plan.
	bound bool
	// open: a rate search, whose points are not known in advance; none
	// is counted, and no time left is estimated.
	open bool
}

func newPending(requests []int, most int, bound bool) pending {
	slices.SortFunc(requests, func(a, b int) int { return b - a })
	return pending{requests: requests, max: max(0, min(most, len(requests))), bound: bound}
}

// atMost is the requests of the max largest pending points.
func (p pending) atMost() int {
	sum := 0
	for _, r := range p.requests[:p.max] {
		sum += r
	}
	return sum
}

// fmtWall writes a wall-clock duration for a progress line: tenths under
// ten seconds, whole seconds under a minute, then minutes and hours.
func fmtWall(d time.Duration) string {
	d = max(d, 0)
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	switch d = d.Round(time.Second); {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

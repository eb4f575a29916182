package metrics

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Sessions describes an open-loop point's sessions, from its records: how
// many started, finished and were dropped, and how many were active at
// once. A session is active from its first request's start to the end of
// its last one, think times included.
type Sessions struct {
	Started  int `json:"started"`
	Finished int `json:"finished"` // started and not cut short by a canceled run
	Dropped  int `json:"dropped"`  // arrived while max_active sessions were active
	// ActiveMean is the time-average of active sessions over the window the
	// caller chose; ActiveMax the most at any instant in it.
	ActiveMean float64 `json:"active_mean"`
	ActiveMax  int     `json:"active_max"`
	// DurationMean is the mean time from a finished session's arrival to
	// its last answer's end.
	DurationMean time.Duration `json:"duration_mean"`
}

// SessionSpan is one session's time on the point's clock, in seconds.
type SessionSpan struct {
	Session    string
	Start, End float64
	Canceled   bool
}

// SessionSpans returns the sessions of recs that started (dropped ones
// left out), in order of start, and how many were dropped.
func SessionSpans(recs []Record) (spans []SessionSpan, dropped int) {
	idx := map[string]int{}
	drops := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Error == ErrDropped {
			drops[r.Session] = true
			continue
		}
		j, ok := idx[r.Session]
		if !ok {
			j = len(spans)
			idx[r.Session] = j
			spans = append(spans, SessionSpan{Session: r.Session, Start: r.Start, End: r.Start})
		}
		s := &spans[j]
		s.Start = min(s.Start, r.Start)
		s.End = max(s.End, r.Start+r.Duration)
		s.Canceled = s.Canceled || r.Error == ErrCanceled
	}
	slices.SortStableFunc(spans, func(a, b SessionSpan) int { return cmp.Compare(a.Start, b.Start) })
	return spans, len(drops)
}

// CountSessions summarises recs' sessions, with the active sessions
// averaged over [from, to] (seconds on the point's clock, to > from).
func CountSessions(recs []Record, from, to float64) Sessions {
	spans, dropped := SessionSpans(recs)
	out := Sessions{Started: len(spans), Dropped: dropped}
	var total float64
	for _, s := range spans {
		if s.Canceled {
			continue
		}
		out.Finished++
		total += s.End - s.Start
	}
	if out.Finished > 0 {
		out.DurationMean = Duration(total / float64(out.Finished))
	}
	out.ActiveMean, out.ActiveMax = occupancy(spans, from, to)
	return out
}

// occupancy integrates the number of active spans over [from, to].
func occupancy(spans []SessionSpan, from, to float64) (mean float64, peak int) {
	type edge struct {
		at    float64
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, s := range spans {
		edges = append(edges, edge{s.Start, 1}, edge{s.End, -1})
	}
	// At equal times an end comes before a start: a session that ends as
	// another begins never overlaps it.
	slices.SortFunc(edges, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta))
	})
	active, area, last := 0, 0.0, from
	for _, e := range edges {
		if e.at > to {
			break
		}
		if e.at > from {
			area += float64(active) * (e.at - last)
			last = e.at
		}
		if e.at >= from {
			peak = max(peak, active) // the count just before the edge
		}
		active += e.delta
	}
	area += float64(active) * (to - last)
	peak = max(peak, active)
	if to > from {
		mean = area / (to - from)
	}
	return mean, peak
}

// Timeline is an open-loop point over time, in buckets of Step seconds
// from the point's start: sessions arriving (dropped ones included), the
// sessions active on average, and the steady turns' TTFT p95 by the
// bucket they started in (0 where none started; failed turns as +Inf).
type Timeline struct {
	Step     float64   `json:"step_s"`
	Arrivals []int     `json:"arrivals"`
	Active   []float64 `json:"active"`
	TTFTP95  []Seconds `json:"ttft_p95"`
}

// SessionTimeline cuts recs' point, span seconds long, into buckets of
// step seconds (step > 0).
func SessionTimeline(recs []Record, span, step float64) Timeline {
	n := max(1, int(math.Ceil(span/step)))
	tl := Timeline{Step: step, Arrivals: make([]int, n), Active: make([]float64, n), TTFTP95: make([]Seconds, n)}
	bucket := func(t float64) int { return min(n-1, max(0, int(t/step))) }
	spans, _ := SessionSpans(recs)
	for _, s := range spans {
		tl.Arrivals[bucket(s.Start)]++
	}
	ttft := make([][]time.Duration, n)
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Error == ErrDropped && r.Turn == 0:
			tl.Arrivals[bucket(r.Start)]++
		case r.Turn > 0 && r.Sent() && r.Error != ErrCanceled:
			ttft[bucket(r.Start)] = append(ttft[bucket(r.Start)], r.TTFTOrInf())
		}
	}
	for b := range n {
		from := float64(b) * step
		to := min(from+step, span) // the last bucket ends with the point
		if to <= from {
			to = from + step
		}
		tl.Active[b], _ = occupancy(spans, from, to)
		if st, ok := Summarize(ttft[b]); ok {
			tl.TTFTP95[b] = Sec(st.P95)
		}
	}
	return tl
}

package runtime

import (
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// progress reports a sweep's progress on stderr: one redrawn line on a
// terminal, plain lines otherwise. Workers only count into it; the line is
// redrawn by a goroutine of its own, so a worker never sorts samples or
// writes to the terminal between two requests.
//
// Besides the point in flight it tells the sweep's elapsed wall time and
// an estimate of what is left (see estimate), shown once a point of this
// run has finished. On the virtual clock a point's figures are simulated
// time and say so; elapsed and left are wall time on either clock.
type progress struct {
	w        io.Writer
	tty      bool
	scenario string
	now      func() time.Time

	mu         sync.Mutex
	simulated  bool // the virtual clock: a point's durations are simulated
	cooldown   time.Duration
	began      time.Time // the sweep's first point
	finished   int       // points done, a resumed run's included
	est        estimate
	pend       pending   // after the point in flight
	name       string    // the point in flight: "C=2 S=3" or "rate=30/min"
	started    time.Time // the point in flight
	reqs, reqN int
	errs       int
	steady     []time.Duration
	stop       chan struct{} // ends the redraw loop of the point in flight
	width      func() int    // the terminal's columns; nil or 0: 80
}

// newProgress reports to w (nil: nowhere), reading the time from now (nil:
// time.Now).
func newProgress(w io.Writer, tty bool, scenario string, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	return &progress{w: w, tty: tty, scenario: scenario, now: now}
}

func (p *progress) line(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lineLocked(format, args...)
}

func (p *progress) lineLocked(format string, args ...any) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "%s: "+format+"\n", append([]any{p.scenario}, args...)...)
}

// start begins the sweep's clock; done points are already complete (a
// resumed run's), and cooldown is the wait before every later point.
func (p *progress) start(done int, cooldown time.Duration, simulated bool) {
	p.mu.Lock()
	p.finished, p.cooldown, p.simulated, p.began = done, cooldown, simulated, p.now()
	p.mu.Unlock()
	if done > 0 {
		p.line("resuming: %d points already complete", done)
	}
}

// point begins a closed-loop point of requests requests; pend is what may
// run after it.
func (p *progress) point(c, s, requests int, pend pending) {
	p.begin(fmt.Sprintf("C=%d S=%d", c, s), requests, pend)
}

// ratePoint begins an open-loop point at rate sessions per minute.
func (p *progress) ratePoint(rate float64, requests int, pend pending) {
	p.begin("rate="+results.FormatRate(rate)+"/min", requests, pend)
}

// begin begins the point named name.
func (p *progress) begin(name string, requests int, pend pending) {
	p.stopRedraw()
	p.mu.Lock()
	p.name, p.reqs, p.reqN, p.errs, p.steady = name, 0, requests, 0, p.steady[:0]
	p.pend, p.started = pend, p.now()
	p.mu.Unlock()
	if p.w == nil {
		return
	}
	if !p.tty {
		p.line("point %s: %d requests (%s)", name, requests, p.ordinal())
		return
	}
	stop := make(chan struct{})
	p.stop = stop
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p.redraw()
			}
		}
	}()
}

// ordinal is "point 3 of 9", "point 3 of at most 7" for a frontier
// search, or "point 3" for a rate search, whose length is not known.
func (p *progress) ordinal() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.finished + 1
	switch {
	case p.pend.open:
		return fmt.Sprintf("point %d", n)
	case p.pend.bound:
		return fmt.Sprintf("point %d of at most %d", n, n+p.pend.max)
	}
	return fmt.Sprintf("point %d of %d", n, n+p.pend.max)
}

// stopRedraw ends the redraw loop, if one runs. Only the sweep's goroutine
// starts and stops it.
func (p *progress) stopRedraw() {
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// record is called from worker goroutines as requests complete.
func (p *progress) record(r metrics.Record) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs++
	if !r.OK() && r.Error != metrics.ErrCanceled {
		p.errs++
	}
	if r.Turn > 0 {
		p.steady = append(p.steady, r.TTFTOrInf())
	}
}

// redraw rewrites the terminal's progress line.
func (p *progress) redraw() {
	line := fitLine(p.flightLine(), p.columns())
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K"+line)
}

// columns is the terminal's width, 80 when it is not known.
func (p *progress) columns() int {
	if p.width != nil {
		if w := p.width(); w > 0 {
			return w
		}
	}
	return 80
}

// fitLine cuts a line to fewer runes than the terminal has columns, ending
// it with "…" when cut: "\r\033[K" clears only the cursor's row, so a line
// that wrapped onto the next would leave its tail behind at every redraw.
func fitLine(line string, columns int) string {
	max := columns - 1
	if max < 2 || utf8.RuneCountInString(line) <= max {
		return line
	}
	r := []rune(line)
	return string(r[:max-1]) + "…"
}

// flightLine is the terminal's line for the point in flight.
func (p *progress) flightLine() string {
	ord := p.ordinal()
	p.mu.Lock()
	defer p.mu.Unlock()
	p95 := "-"
	if len(p.steady) > 0 {
		v := append([]time.Duration(nil), p.steady...)
		if st, ok := metrics.Summarize(v); ok {
			p95 = p.sim(fmtDur(st.P95))
		}
	}
	now := p.now()
	sweep := fmt.Sprintf("sweep %s", fmtWall(now.Sub(p.began)))
	if p.est.known() {
		sweep += ", " + p.leftText(p.est.left(p.reqN-p.reqs, p.pend, p.cooldown))
	}
	return fmt.Sprintf("%s: %s %s  requests %d/%d in %s  ttft_p95 %s  errors %d  %s",
		p.scenario, ord, p.name, p.reqs, p.reqN, fmtWall(now.Sub(p.started)), p95, p.errs, sweep)
}

// leftText words an estimate of the time left: approximate, and for a
// search an upper bound.
func (p *progress) leftText(d time.Duration) string {
	if p.pend.bound {
		return fmt.Sprintf("at most ~%s left", fmtWall(d))
	}
	return fmt.Sprintf("~%s left", fmtWall(d))
}

// sim labels a point's duration as simulated on the virtual clock.
func (p *progress) sim(d string) string {
	if p.simulated {
		return "simulated " + d
	}
	return d
}

// done reports a finished point; pend is what may run from now on.
func (p *progress) done(pt *results.Point, pend pending) {
	p.stopRedraw()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	p.est.add(p.now().Sub(p.started), p.reqN)
	p.pend = pend
	if p.w == nil {
		return
	}
	verdict := "pass"
	switch {
	case pt.Undecided():
		verdict = "NO DATA: " + pt.FirstReason()
	case !pt.Passed:
		verdict = "FAIL"
	}
	p.lineLocked("point %s done in %s: ttft_p95 %s (%d samples), errors %d  %s",
		pt.Name(), p.sim(fmt.Sprintf("%.1fs", pt.Duration)), p.sim(fmtDur(pt.Metrics.TTFTP95)),
		pt.Metrics.Samples, pt.Metrics.Errors, verdict)
	if c := pt.Client; c != nil && c.Limited {
		p.lineLocked("warning: point %s may be client-limited: %s", pt.Name(), c.Why)
	}
	p.lineLocked("%s", p.sweepText())
}

// sweepText is the line that follows a point's: the sweep's points done
// (of how many), its elapsed wall time, and the time left.
func (p *progress) sweepText() string {
	elapsed := fmtWall(p.now().Sub(p.began))
	var s string
	switch {
	case p.pend.bound && p.pend.max > 0:
		s = fmt.Sprintf("sweep: %d point%s in %s, at most %d more", p.finished, plural(p.finished), elapsed, p.pend.max)
	case p.pend.bound:
		s = fmt.Sprintf("sweep: %d point%s in %s", p.finished, plural(p.finished), elapsed)
	default:
		s = fmt.Sprintf("sweep: %d/%d points in %s", p.finished, p.finished+p.pend.max, elapsed)
	}
	if p.pend.max > 0 && p.est.known() {
		s += ", " + p.leftText(p.est.left(0, p.pend, p.cooldown))
	}
	return s
}

func (p *progress) finish() {
	p.stopRedraw()
	if p.w != nil && p.tty {
		p.mu.Lock()
		fmt.Fprint(p.w, "\r\033[K")
		p.mu.Unlock()
	}
}

func fmtDur(d time.Duration) string {
	if d == metrics.Inf {
		return "+Inf"
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

package runtime

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// progress reports a sweep's progress on stderr: one redrawn line on a
// terminal, plain lines otherwise. Workers only count into it; the line is
// redrawn by a goroutine of its own, so a worker never sorts samples or
// writes to the terminal between two requests.
type progress struct {
	w        io.Writer
	tty      bool
	scenario string

	mu         sync.Mutex
	total      int // points planned; 0 when a search decides
	finished   int
	c, s       int
	reqs, reqN int
	errs       int
	steady     []time.Duration
	stop       chan struct{} // ends the redraw loop of the point in flight
}

func newProgress(w io.Writer, tty bool, scenario string) *progress {
	return &progress{w: w, tty: tty, scenario: scenario}
}

func (p *progress) line(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "%s: "+format+"\n", append([]any{p.scenario}, args...)...)
}

func (p *progress) start(total, done int) {
	p.mu.Lock()
	p.total, p.finished = total, done
	p.mu.Unlock()
	if done > 0 {
		p.line("resuming: %d points already complete", done)
	}
}

func (p *progress) point(c, s, requests int) {
	p.stopRedraw()
	p.mu.Lock()
	p.c, p.s, p.reqs, p.reqN, p.errs, p.steady = c, s, 0, requests, 0, p.steady[:0]
	p.mu.Unlock()
	if p.w == nil {
		return
	}
	if !p.tty {
		p.line("point C=%d S=%d: %d requests", c, s, requests)
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
	p.mu.Lock()
	defer p.mu.Unlock()
	total := "?"
	if p.total > 0 {
		total = fmt.Sprint(p.total)
	}
	p95 := "-"
	if len(p.steady) > 0 {
		v := append([]time.Duration(nil), p.steady...)
		if st, ok := metrics.Summarize(v); ok {
			p95 = fmtDur(st.P95)
		}
	}
	fmt.Fprintf(p.w, "\r\033[K%s: point %d/%s C=%d S=%d  requests %d/%d  ttft_p95 %s  errors %d",
		p.scenario, p.finished+1, total, p.c, p.s, p.reqs, p.reqN, p95, p.errs)
}

func (p *progress) done(pt *results.Point) {
	p.stopRedraw()
	p.mu.Lock()
	p.finished++
	p.mu.Unlock()
	verdict := "pass"
	switch {
	case pt.Undecided():
		verdict = "NO DATA: " + pt.FirstReason()
	case !pt.Passed:
		verdict = "FAIL"
	}
	p.line("point C=%d S=%d done in %.1fs: ttft_p95 %s (%d samples), errors %d  %s",
		pt.Concurrent, pt.Sequential, pt.Duration, fmtDur(pt.Metrics.TTFTP95), pt.Metrics.Samples, pt.Metrics.Errors, verdict)
	if c := pt.Client; c != nil && c.Limited {
		p.line("warning: point C=%d S=%d may be client-limited: %s", pt.Concurrent, pt.Sequential, c.Why)
	}
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

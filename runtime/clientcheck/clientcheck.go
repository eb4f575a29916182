// Package clientcheck watches the benchmark client itself while a point
// runs: how late its goroutines get to run (a ticker's lateness) and how
// much CPU the process uses. A client that stalls or saturates its cores
// stamps first tokens late, so a point it may have distorted is flagged
// rather than trusted. docs/PERFORMANCE.md states the rule and its figures.
package clientcheck

import (
	"fmt"
	"runtime"
	"time"
)

// Period is how often the monitor's ticker fires; a tick that comes later
// than this after the previous one measures a scheduling stall.
const Period = 10 * time.Millisecond

// The rule (see Judge).
const (
	// StallFloor: stalls shorter than this are scheduling noise next to a
	// network round trip, whatever the TTFT.
	StallFloor = 10 * time.Millisecond
	// StallShare: a stall this large a share of the steady TTFT p95 can move
	// the p95 by that much, since every first token stamped during it is
	// late by up to the stall.
	StallShare = 0.10
	// CPUShare: the process used this share of the cores it may run on.
	CPUShare = 0.90
)

// Report is what the monitor saw over one point.
type Report struct {
	Wall     time.Duration // how long the monitor ran
	Ticks    int           // ticks observed
	LagMax   time.Duration // the longest stall
	LagP99   time.Duration // an upper bound on the 99th percentile stall (a power of two)
	Stalls   int           // ticks later than StallFloor
	CPU      time.Duration // process CPU time (user + system); 0 when unknown
	Cores    int           // GOMAXPROCS while it ran
	CPUKnown bool
}

// Utilization is the process's CPU time over what its cores could give.
func (r Report) Utilization() float64 {
	if !r.CPUKnown || r.Wall <= 0 || r.Cores <= 0 {
		return 0
	}
	return r.CPU.Seconds() / (r.Wall.Seconds() * float64(r.Cores))
}

// Judge applies the rule: the point is client-limited when its longest
// stall is at least StallFloor and at least StallShare of the steady TTFT
// p95 of successful turns (ttftP95; 0 when there is none), or when the
// process used CPUShare of its cores. why says which, in words.
func Judge(r Report, ttftP95 time.Duration) (limited bool, why string) {
	threshold := max(StallFloor, time.Duration(float64(ttftP95)*StallShare))
	if r.LagMax >= threshold {
		return true, fmt.Sprintf("the client stalled for %s (threshold %s: %.0f%% of the steady ttft_ok_p95, at least %s); first tokens stamped then are late by up to that",
			r.LagMax.Round(time.Millisecond), threshold.Round(time.Millisecond), StallShare*100, StallFloor)
	}
	if u := r.Utilization(); u >= CPUShare {
		return true, fmt.Sprintf("the client used %.0f%% of its %d cores", u*100, r.Cores)
	}
	return false, ""
}

// Monitor measures one point. Start it when the point's clock starts and
// Stop it when the point ends.
type Monitor struct {
	now     func() time.Time
	stop    chan struct{}
	done    chan Report
	startCP time.Duration
	cpuOK   bool
}

// Start begins watching. now is the clock (time.Now outside tests).
func Start(now func() time.Time) *Monitor {
	if now == nil {
		now = time.Now
	}
	m := &Monitor{now: now, stop: make(chan struct{}), done: make(chan Report, 1)}
	m.startCP, m.cpuOK = processCPU()
	go m.loop()
	return m
}

func (m *Monitor) loop() {
	t := time.NewTicker(Period)
	defer t.Stop()
	start := m.now()
	prev := start
	var h lagHistogram
	for {
		select {
		case <-m.stop:
			r := h.report()
			r.Wall = m.now().Sub(start)
			r.Cores = runtime.GOMAXPROCS(0)
			if cpu, ok := processCPU(); ok && m.cpuOK {
				r.CPU, r.CPUKnown = cpu-m.startCP, true
			}
			m.done <- r
			return
		case <-t.C:
			now := m.now()
			h.observe(now.Sub(prev) - Period)
			prev = now
		}
	}
}

// Stop ends the watch and returns what it saw.
func (m *Monitor) Stop() Report {
	close(m.stop)
	return <-m.done
}

// lagHistogram counts stalls in power-of-two buckets from 1 ms up, so a
// long point costs no memory.
type lagHistogram struct {
	buckets [16]int // bucket i: lag ≤ 2^i ms (the last: anything longer)
	n       int
	max     time.Duration
	stalls  int
}

func (h *lagHistogram) observe(lag time.Duration) {
	lag = max(lag, 0)
	h.n++
	h.max = max(h.max, lag)
	if lag >= StallFloor {
		h.stalls++
	}
	i := 0
	for i < len(h.buckets)-1 && lag > time.Duration(1<<i)*time.Millisecond {
		i++
	}
	h.buckets[i]++
}

func (h *lagHistogram) report() Report {
	r := Report{Ticks: h.n, LagMax: h.max, Stalls: h.stalls}
	rank := (h.n*99 + 99) / 100 // ceil(0.99 n)
	seen := 0
	for i, c := range h.buckets {
		seen += c
		if h.n > 0 && seen >= rank {
			r.LagP99 = min(time.Duration(1<<i)*time.Millisecond, h.max)
			break
		}
	}
	return r
}

package runtime

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// lockedBuffer is a bytes.Buffer safe for the redraw goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Workers only count into the progress; the terminal line is drawn by the
// progress's own goroutine, never on a worker's path between two requests.
func TestProgressWorkersNeverWrite(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, true, "sc", nil)
	p.start(0, 0, false)
	p.point(2, 3, 18, pending{})
	before := out.String()
	for i := 0; i < 50; i++ {
		p.record(metrics.Record{Turn: 1, TTFT: 0.25})
	}
	if out.String() != before {
		t.Fatalf("record wrote to the terminal: %q", strings.TrimPrefix(out.String(), before))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "requests 50/18") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); !strings.Contains(got, "C=2 S=3  requests 50/18 in ") || !strings.Contains(got, "ttft_p95 0.250s") {
		t.Fatalf("redraw line missing: %q", got)
	}
	p.finish()
	n := len(out.String())
	time.Sleep(300 * time.Millisecond)
	if len(out.String()) != n {
		t.Fatal("progress kept redrawing after finish")
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The estimate scales the wall time per request of the finished points to
// the requests left, and adds a cooldown before each pending point.
func TestEstimate(t *testing.T) {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	tests := []struct {
		name     string
		finished [][2]int // wall seconds, requests
		inFlight int      // requests of the point in flight not yet done
		pend     pending
		cooldown time.Duration
		want     time.Duration
	}{
		// 40 s for 200 requests: 0.2 s a request. 50 in flight (10 s),
		// 300 pending (60 s), two cooldowns of 5 s.
		{"a grid", [][2]int{{10, 100}, {30, 100}}, 50, newPending([]int{100, 200}, 2, false), 5 * time.Second, 80 * time.Second},
		// A search may run at most 2 of its 3 points: the largest two,
		// 600 requests, bound the time.
		{"a search's bound", [][2]int{{10, 100}, {30, 100}}, 0, newPending([]int{100, 400, 200}, 2, true), 0, 120 * time.Second},
		// 4 s for the 8 requests of a small point: a 32-request point
		// takes 16 s, not another 4.
		{"scaled by requests", [][2]int{{4, 8}}, 0, newPending([]int{32}, 1, false), 0, 16 * time.Second},
		{"nothing pending", [][2]int{{4, 8}}, 2, pending{}, time.Minute, sec(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e estimate
			for _, f := range tt.finished {
				e.add(time.Duration(f[0])*time.Second, f[1])
			}
			if !e.known() {
				t.Fatal("not known after a finished point")
			}
			if got := e.left(tt.inFlight, tt.pend, tt.cooldown); got != tt.want {
				t.Errorf("left = %v, want %v", got, tt.want)
			}
		})
	}
	var none estimate
	if none.known() || none.left(10, newPending([]int{10}, 1, false), 0) != 0 {
		t.Error("an estimate without a finished point claims to know")
	}
	if p := newPending([]int{1, 2, 3}, 5, true); p.max != 3 || p.atMost() != 6 {
		t.Errorf("max %d, atMost %d: want 3 and 6 when the cap exceeds the points", p.max, p.atMost())
	}
}

func TestFmtWall(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0.0s"},
		{0, "0.0s"},
		{9940 * time.Millisecond, "9.9s"},
		{12400 * time.Millisecond, "12s"},
		{59600 * time.Millisecond, "1m00s"},
		{61 * time.Second, "1m01s"},
		{3599600 * time.Millisecond, "1h00m"},
		{2*time.Hour + 5*time.Minute, "2h05m"},
	}
	for _, tt := range tests {
		if got := fmtWall(tt.d); got != tt.want {
			t.Errorf("fmtWall(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// donePoint is a finished, passing point of duration seconds on its clock.
func donePoint(c, s int, duration float64) *results.Point {
	return &results.Point{Concurrent: c, Sequential: s, Duration: duration, Passed: true,
		Metrics: metrics.Point{TTFTP95: 250 * time.Millisecond, Samples: 4}}
}

// Not on a terminal, each point's lines end with one for the sweep: its
// elapsed wall time and, once a point has finished, the estimate of what
// is left;
// for a search, upper bounds that say so; on the virtual clock, a point's
// own durations are labelled simulated. A 2×2 grid with rounds = 3: points
// of 4, 8, 8 and 16 requests.
func TestProgressLines(t *testing.T) {
	type step struct {
		c, s, requests int
		before, after  pending // what may run besides the point, before and after it
		wall           time.Duration
	}
	tests := []struct {
		name      string
		simulated bool
		steps     []step
		want      []string
	}{
		{"grid", false, []step{
			{1, 1, 4, newPending([]int{8, 8, 16}, 3, false), newPending([]int{8, 8, 16}, 3, false), 2 * time.Second},
			// 8 s for 12 requests; 24 requests left: 16 s.
			{1, 2, 8, newPending([]int{8, 16}, 2, false), newPending([]int{8, 16}, 2, false), 6 * time.Second},
			{2, 2, 16, newPending([]int{8}, 1, false), newPending([]int{8}, 1, false), 9 * time.Second},
			{2, 1, 8, pending{}, pending{}, 3 * time.Second},
		}, []string{
			"sc: point C=1 S=1: 4 requests (point 1 of 4)",
			"sc: point C=1 S=1 done in 2.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 1/4 points in 2.0s, ~16s left",
			"sc: point C=1 S=2: 8 requests (point 2 of 4)",
			"sc: point C=1 S=2 done in 6.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 2/4 points in 8.0s, ~16s left",
			"sc: point C=2 S=2: 16 requests (point 3 of 4)",
			// 17 s for 28 requests; 8 left: 4.857 s.
			"sc: point C=2 S=2 done in 9.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 3/4 points in 17s, ~4.9s left",
			"sc: point C=2 S=1: 8 requests (point 4 of 4)",
			"sc: point C=2 S=1 done in 3.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 4/4 points in 20s",
		}},
		{"search", false, []step{
			// After (1,1): at most 2 of (1,2), (2,1), (2,2) may run.
			{1, 1, 4, newPending([]int{16, 8, 8}, 2, true), newPending([]int{16, 8, 8}, 2, true), 2 * time.Second},
			// After (2,2) failed: at most (1,2) and (2,1), one of them.
			{2, 2, 16, newPending([]int{8, 8}, 1, true), newPending([]int{8, 8}, 1, true), 6 * time.Second},
			{2, 1, 8, pending{bound: true}, pending{bound: true}, 2 * time.Second},
		}, []string{
			"sc: point C=1 S=1: 4 requests (point 1 of at most 3)",
			// 0.5 s a request; at most the 24 requests of (2,2) and one other.
			"sc: point C=1 S=1 done in 2.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 1 point in 2.0s, at most 2 more, at most ~12s left",
			"sc: point C=2 S=2: 16 requests (point 2 of at most 3)",
			// 8 s for 20 requests: 0.4 s a request, 8 requests at most.
			"sc: point C=2 S=2 done in 6.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 2 points in 8.0s, at most 1 more, at most ~3.2s left",
			"sc: point C=2 S=1: 8 requests (point 3 of at most 3)",
			"sc: point C=2 S=1 done in 2.0s: ttft_p95 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 3 points in 10s",
		}},
		{"virtual clock", true, []step{
			{1, 1, 4, newPending([]int{8}, 1, false), newPending([]int{8}, 1, false), 500 * time.Millisecond},
		}, []string{
			"sc: point C=1 S=1: 4 requests (point 1 of 2)",
			// The point's span and TTFT are simulated; the sweep's times are wall time.
			"sc: point C=1 S=1 done in simulated 2.0s: ttft_p95 simulated 0.250s (4 samples), errors 0  pass",
			"sc: sweep: 1/2 points in 0.5s, ~1.0s left",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var out bytes.Buffer
			p := newProgress(&out, false, "sc", clk.now)
			p.start(0, 0, tt.simulated)
			for _, st := range tt.steps {
				p.point(st.c, st.s, st.requests, st.before)
				clk.advance(st.wall)
				p.done(donePoint(st.c, st.s, float64(st.wall)/float64(time.Second)+map[bool]float64{true: 1.5}[tt.simulated]), st.after)
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// On a terminal, the redrawn line shows the point in flight (requests
// done of planned, its elapsed wall time) and the sweep's; no estimate
// until a point has finished, then one that counts the point in flight's
// unsent requests. A cooldown waits before each pending point.
func TestProgressFlightLine(t *testing.T) {
	clk := newFakeClock()
	var out lockedBuffer
	p := newProgress(&out, true, "sc", clk.now)
	defer p.finish()
	p.start(0, time.Second, false)
	p.point(1, 1, 4, newPending([]int{8, 16}, 2, false))
	clk.advance(500 * time.Millisecond)
	if got, want := p.flightLine(), "sc: point 1 of 3 C=1 S=1  requests 0/4 in 0.5s  ttft_p95 -  errors 0  sweep 0.5s"; got != want {
		t.Errorf("first point:\n got %q\nwant %q", got, want)
	}
	clk.advance(1500 * time.Millisecond)
	p.done(donePoint(1, 1, 2), newPending([]int{8, 16}, 2, false))
	p.point(2, 1, 8, newPending([]int{16}, 1, false))
	clk.advance(1500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		p.record(metrics.Record{Turn: 1, TTFT: 0.25})
	}
	p.record(metrics.Record{Turn: 0, Error: "http_500"})
	// 0.5 s a request: 4 unsent (2 s), 16 pending (8 s), one cooldown.
	if got, want := p.flightLine(), "sc: point 2 of 3 C=2 S=1  requests 4/8 in 1.5s  ttft_p95 0.250s  errors 1  sweep 3.5s, ~11s left"; got != want {
		t.Errorf("second point:\n got %q\nwant %q", got, want)
	}
	p.mu.Lock()
	p.simulated = true
	p.mu.Unlock()
	if got := p.flightLine(); !strings.Contains(got, "ttft_p95 simulated 0.250s") || !strings.Contains(got, "in 1.5s") {
		t.Errorf("virtual clock: %q, want the TTFT labelled simulated and the wall times not", got)
	}
}

// What may still run: the grid's points not done, or the frontier search's
// upper bound, without the point in flight; C×S×(rounds+1) requests each.
func TestPointOrderPending(t *testing.T) {
	sc := testScenario(3)
	sc.Grid = spec.Grid{Concurrent: []int{1, 2}, Sequential: []int{1, 2}}
	o := newPointOrder(sc, spec.Shard{})
	if got := o.pending(3, [2]int{1, 1}); got.bound || got.max != 3 || !slices.Equal(got.requests, []int{16, 8, 8}) {
		t.Errorf("grid, (1,1) in flight: %+v, want 16, 8, 8 requests", got)
	}
	o.record(1, 1, true)
	o.record(2, 2, false)
	if got := o.pending(3, noPoint); got.bound || got.max != 2 || !slices.Equal(got.requests, []int{8, 8}) {
		t.Errorf("grid, two done: %+v, want 8, 8 requests", got)
	}

	sc.Search = &spec.Search{Kind: spec.SearchFrontier}
	o = newPointOrder(sc, spec.Shard{})
	c, s, _ := o.next()
	got := o.pending(3, [2]int{c, s})
	if !got.bound || got.max != 3 || len(got.requests) != 3 || got.atMost() != 4*(1+2+2+4)-4*c*s {
		t.Errorf("search, (%d,%d) in flight: %+v, want the other three points as a bound", c, s, got)
	}
	o.record(1, 1, true)
	o.record(2, 2, true) // the best possible: nothing is left
	if got := o.pending(3, noPoint); !got.bound || got.max != 0 {
		t.Errorf("search settled: %+v, want nothing left", got)
	}
}

// A sweep on the virtual clock labels each point's durations simulated and
// ends with every point counted.
func TestSweepProgressVirtual(t *testing.T) {
	file, sc := sweepScenario(t, "", false)
	sc.Target = &spec.Target{Name: "sim", Simulator: &spec.Simulator{Profile: "quickstart", Clock: "virtual"}}
	var out bytes.Buffer
	if _, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir(), Progress: &out}); err != nil {
		t.Fatal(err)
	}
	log := out.String()
	for _, want := range []string{
		"point C=1 S=1: 2 requests (point 1 of 2)",
		"point C=1 S=1 done in simulated ",
		"ttft_p95 simulated ",
		"t: sweep: 1/2 points in ",
		"t: sweep: 2/2 points in ",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("progress lacks %q:\n%s", want, log)
		}
	}
	if !regexp.MustCompile(`sweep: 1/2 points in [0-9.]+s, ~[0-9.]+s left`).MatchString(log) {
		t.Errorf("no estimate after the first point:\n%s", log)
	}
}

// A redrawn line never wraps: "\r\033[K" clears only the cursor's row, so a
// wrapped tail would stay behind at every redraw. It is cut to fewer runes
// than the terminal has columns (80 when the width is unknown).
func TestFitLine(t *testing.T) {
	long := "quickstart: point 6/9 C=2 S=3  requests 12/18 in 3.1s  ttft_p95 672ms  errors 0  sweep 31s, ~0.8s left"
	cases := []struct {
		columns int
		want    string
	}{
		{200, long},
		{40, "quickstart: point 6/9 C=2 S=3  request…"},
		{2, long}, // too narrow to cut sensibly: left alone
	}
	for _, tc := range cases {
		got := fitLine(long, tc.columns)
		if got != tc.want {
			t.Errorf("%d columns: %q, want %q", tc.columns, got, tc.want)
		}
		if tc.columns > 2 && utf8.RuneCountInString(got) >= tc.columns {
			t.Errorf("%d columns: %d runes", tc.columns, utf8.RuneCountInString(got))
		}
	}
	p := newProgress(nil, true, "sc", nil)
	if p.columns() != 80 {
		t.Fatalf("unknown width: %d columns, want 80", p.columns())
	}
	p.width = func() int { return 0 }
	if p.columns() != 80 {
		t.Fatalf("width 0: %d columns, want 80", p.columns())
	}
}

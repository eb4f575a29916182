package report

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// openFixture is an open-loop sweep: 30 and 60 sessions a minute pass,
// 90 fails; the search bracketed the limit between 60 and 90.
func openFixture() *results.Results {
	pass, fail := 60.0, 90.0
	r := &results.Results{Scenario: "chat", SLOs: []results.SLO{{Name: "ttft", Condition: "ttft_p95 <= 2s"}},
		Best:       &results.Best{Rate: 60, Score: 60},
		RateSearch: &results.RateSearch{Pass: &pass, Fail: &fail, Settled: false, Order: []float64{30, 90, 60}},
		Complete:   true}
	for _, p := range []struct {
		rate   float64
		p95    float64
		active float64
	}{{30, 0.4, 7.5}, {90, 9.5, 40.2}, {60, 1.1, 16}} {
		ok := p.p95 <= 2
		o := metrics.Fail
		if ok {
			o = metrics.Pass
		}
		r.Points = append(r.Points, results.Point{Rate: p.rate, Passed: ok,
			Metrics: metrics.Point{TTFTP50: metrics.Duration(p.p95 / 2), TTFTP95: metrics.Duration(p.p95), TTFTP99: metrics.Duration(p.p95 * 1.2), Samples: 100, Requests: 130},
			SLOs:    []results.SLOOutcome{{Name: "ttft", Outcome: o}},
			Users:   &results.Users{Started: int(p.rate * 2), Dropped: 0, ActiveMean: p.active, ActiveMax: int(p.active * 1.5)}})
	}
	return r
}

// The terminal summary of an open-loop sweep is by rate: a row per rate in
// rate order with its sessions, the best rate starred, the answer as a
// rate, and the knee explanation saying it covers grids only; nothing
// names a C × S point, which an open-loop sweep does not have.
func TestTerminalOpenLoop(t *testing.T) {
	var b strings.Builder
	Terminal(&b, openFixture())
	out := b.String()
	for _, want := range []string{
		"rate/min", "Max arrival rate where ttft_p95 <= 2s: 60/min",
		"The next rate measured, 90/min, failed.", "Why: The data cannot say why 90/min arriving sessions fails",
		"(held at 2 of 3 points, at rate=60/min: pass)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"C=0", "Max (C x S)", "0 sessions"} {
		if strings.Contains(out, bad) {
			t.Errorf("summary says %q:\n%s", bad, out)
		}
	}
	row := func(rate string) int {
		loc := regexp.MustCompile(`(?m)^\s+` + rate + `\s+\d`).FindStringIndex(out)
		if loc == nil {
			return -1
		}
		return loc[0]
	}
	i30, i60, i90 := row("30"), row("60"), row("90")
	if i30 < 0 || i60 < i30 || i90 < i60 || !strings.Contains(out[i60:i90], "★ ✓") {
		t.Errorf("rows not in rate order with 60 starred:\n%s", out)
	}
}

// The knee explanation says nothing about an open-loop sweep but that it
// covers grids only; the page's headline is the best rate.
func TestKneeOpenLoop(t *testing.T) {
	r := openFixture()
	k := explainKnee(r)
	if k == nil || k.Below == nil || k.Below.Rate != 60 || k.Above == nil || k.Above.Rate != 90 {
		t.Fatalf("knee %+v; want the 60/min point below, the 90/min one above", k)
	}
	if !strings.Contains(k.Text, "why 90/min arriving sessions fails where 60/min arriving sessions passes") || strings.Contains(k.Text, "C=") || strings.Contains(k.Text, "working set") {
		t.Errorf("knee text %q: rates, no C×S point, no working set summed over sessions that came and went", k.Text)
	}
	if text, kind := conclusion(r); kind != "pass" || !strings.HasPrefix(text, "Best: 60/min") {
		t.Errorf("conclusion %q (%s)", text, kind)
	}
	r.Best, r.RateSearch.Pass = nil, nil
	for i := range r.Points {
		r.Points[i].Passed = false
	}
	if text, kind := conclusion(r); kind != "fail" || !strings.Contains(text, "below the lowest rate run (30/min)") {
		t.Errorf("conclusion with no pass %q (%s)", text, kind)
	}
}

// The page of an open-loop sweep has a rate table and TTFT p95 against the
// rate in place of the grid's heatmap and working set, and names no C × S
// point, which the sweep does not have.
func TestPageOpenLoop(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, openFixture(), Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`id="mrqa-rate"`, "ttft_p95 against the arrival rate", "rate/min", `id="mrqa-knee"`,
		"<dt>Rates</dt><dd>open loop; rate search: 3 rates measured (30, 60, 90 sessions/min)",
		"Best: 60/min arriving sessions", "active_<wbr>mean",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{`id="mrqa-heatmap"`, `id="mrqa-working-set"`, "0×0", "C=0, S=0", "0 sessions ("} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q", bad)
		}
	}
}

// The comparison page compares open-loop sweeps by their best rate, and
// does not set a rate against a grid's sessions.
func TestCompareOpenLoop(t *testing.T) {
	faster := openFixture()
	faster.Scenario, faster.Best.Rate = "chat_fast", 90
	mixed := compareSentences([]*results.Results{vllmFixture(), openFixture()}, []string{"grid", "chat"})
	same := compareSentences([]*results.Results{openFixture(), faster}, []string{"chat", "chat_fast"})
	if len(mixed) != 1 || !strings.Contains(mixed[0].Text, "chat reaches 60/min arriving sessions and grid 12 sessions (C=4, S=3)") || !strings.Contains(mixed[0].Text, "not compared") {
		t.Errorf("grid beside open loop: %+v", mixed)
	}
	if len(same) != 1 || !strings.Contains(same[0].Text, "chat_fast allows 1.50× the arrival rate of chat (90/min arriving sessions vs 60/min arriving sessions)") {
		t.Errorf("two open loops: %+v", same)
	}
}

// A comparison page with an open-loop scenario shows its rate chart in
// place of a heatmap and keys its rows in the point table by rate.
func TestComparePageOpenLoop(t *testing.T) {
	var b strings.Builder
	if err := WriteCompare(&b, []*results.Results{vllmFixture(), openFixture()}, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"chat: 60/min arriving sessions", "<td data-v=\"", ">90/min</td>", "not compared"} {
		if !strings.Contains(page, want) {
			t.Errorf("comparison page lacks %q", want)
		}
	}
	if strings.Contains(page, "0 sessions (C=0, S=0)") {
		t.Error("comparison page names a C=0, S=0 point")
	}
}

// A prediction beside a measurement pairs open-loop points by rate: each
// rate gets its own row, not one row for every rate at C=0, S=0.
func TestVersusOpenLoop(t *testing.T) {
	measured := openFixture()
	measured.Points = measured.Points[:2] // 30 and 90
	rows := buildVersus(openFixture(), measured).Table.Rows
	var got []string
	for _, r := range rows {
		got = append(got, r.Cells[2].Text+" "+r.Cells[len(r.Cells)-1].Text)
	}
	if want := "30/min agree,60/min —,90/min agree"; strings.Join(got, ",") != want {
		t.Errorf("rows %q, want %q", strings.Join(got, ","), want)
	}
}

// The sessions chart lays each point's timeline at its place on the run's
// time axis, bucket centres, with a gap between points, and says when the
// server's KV usage is missing.
func TestSessionsTimeChart(t *testing.T) {
	r := openFixture()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range r.Points {
		p := &r.Points[i]
		p.Started, p.Duration = t0.Add(time.Duration(i*100)*time.Second), 20
		p.Users.Timeline = &metrics.Timeline{Step: 10, Arrivals: []int{1, 2}, Active: []float64{0.5, 1.5}, TTFTP95: []metrics.Seconds{1, 0}}
	}
	c := sessionsTimeChart(r, t0, nil, nil)
	if c.Empty != "" || len(c.Lines) != 3 || !strings.Contains(c.Note, "No KV-cache usage") {
		t.Fatalf("chart %+v; want three lines and a note on the missing KV usage", c)
	}
	arr := c.Lines[0]
	next := slices.Index(arr.X, 105)
	if arr.X[0] != 5 || arr.Y[0] != 6 || arr.X[1] != 15 || arr.Y[1] != 12 || !math.IsNaN(arr.Y[2]) || next < 3 || arr.Y[next] != 6 {
		t.Errorf("arrivals x %v y %v; want 5→6/min, 15→12/min, a gap, the next point at 105 s", arr.X, arr.Y)
	}
	if tt := c.Lines[2]; tt.Y[0] != 1 || !math.IsNaN(tt.Y[1]) {
		t.Errorf("ttft %v; want 1 s then a gap where no steady turn started", tt.Y)
	}
}

package sim

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openloop"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// knownProfile is a server whose cost is easy to reason about: an opening
// of 8 Ki tokens costs about 0.17 s of prefill, a decode step 2 ms plus
// 0.1 ms a sequence, and the cache never fills. Prefill bounds it near
// 5 openings a second; see TestOpenKnee for where the knee lies.
func knownProfile() engine.Config {
	return engine.Config{MaxModelLen: 65536, KVCacheTokens: 1 << 22,
		StepFixed: 2 * time.Millisecond, PrefillToken: 2e-5, DecodeSeq: 1e-4}
}

// openSessions turns a seeded schedule into simulator sessions: each reads
// its own 8 Ki-token document and asks three questions, 32-token answers.
func openSessions(t testing.TB, u *spec.Users, rate float64) []OpenSession {
	const rounds = 3
	sched, err := openloop.Schedule(u, rate, rounds, 11)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]OpenSession, len(sched))
	for i, s := range sched {
		name := openloop.Label(s.Index)
		sess := Session{Name: name, Document: "doc-" + name, DocumentTokens: DocumentPrefixTokens(0, 8, 8192),
			Turns: []Turn{{NewTokens: OpeningTokens(0, 8+8192), MaxTokens: 32}}}
		for range rounds {
			sess.Turns = append(sess.Turns, Turn{NewTokens: FollowUpTokens(12), MaxTokens: 32})
		}
		out[i] = OpenSession{Session: sess, Arrival: s.Arrival, Think: s.Think}
	}
	return out
}

func chatUsers(d time.Duration) *spec.Users {
	return &spec.Users{Arrival: spec.ArrivalPoisson, Duration: d,
		Think: spec.Think{Distribution: spec.ThinkExponential, Mean: 5 * time.Second}}
}

// steadyP95 is ttft_p95 over follow-ups, as metrics.Aggregate computes it.
func openP95(recs []metrics.Record) time.Duration {
	return metrics.Aggregate(0, 0, recs).TTFTP95
}

type kneeRun struct {
	p95       time.Duration
	activeMax int
}

func runKnee(t *testing.T, rate float64, d time.Duration) kneeRun {
	t.Helper()
	recs, err := RunOpen(context.Background(), knownProfile(), openSessions(t, chatUsers(d), rate), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kneeRun{openP95(recs), metrics.CountSessions(recs, 0, d.Seconds()).ActiveMax}
}

// Below the knee (about 330 sessions a minute on knownProfile) a run twice
// as long sees the same TTFT and the same crowd; above it the sessions
// queue up without bound: twice the arrivals, twice the backlog, and TTFT
// grows with the run.
func TestOpenKnee(t *testing.T) {
	tests := []struct {
		rate  float64
		below bool
	}{{60, true}, {120, true}, {480, false}}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.rate, 'g', -1, 64), func(t *testing.T) {
			short, long := runKnee(t, tt.rate, 2*time.Minute), runKnee(t, tt.rate, 4*time.Minute)
			growth := float64(long.activeMax) / float64(short.activeMax)
			slower := float64(long.p95) / float64(short.p95)
			t.Logf("ttft p95 %v → %v, active max %d → %d", short.p95, long.p95, short.activeMax, long.activeMax)
			if tt.below {
				if long.p95 > 500*time.Millisecond || slower > 1.25 || growth > 1.25 {
					t.Errorf("below the knee: ttft p95 %v → %v, active max %d → %d; want flat", short.p95, long.p95, short.activeMax, long.activeMax)
				}
				return
			}
			if slower < 1.7 || growth < 1.7 || short.p95 < 10*time.Second {
				t.Errorf("above the knee: ttft p95 %v → %v, active max %d → %d; want both to about double", short.p95, long.p95, short.activeMax, long.activeMax)
			}
		})
	}
}

// Little's law: over a steady window, the mean number of active sessions
// is the arrival rate times the mean time a session stays.
func TestOpenLittlesLaw(t *testing.T) {
	const from, to = 60.0, 600.0 // past the ramp-up, to the last arrival
	recs, err := RunOpen(context.Background(), knownProfile(), openSessions(t, chatUsers(10*time.Minute), 120), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	spans, _ := metrics.SessionSpans(recs)
	var n int
	var stay float64
	for _, s := range spans {
		if s.Start >= from && s.Start < to {
			n++
			stay += s.End - s.Start
		}
	}
	lambda, w := float64(n)/(to-from), stay/float64(n)
	got := metrics.CountSessions(recs, from, to)
	t.Logf("λ = %.3f/s, W = %.2fs, λW = %.2f, mean active %.2f", lambda, w, lambda*w, got.ActiveMean)
	if math.Abs(got.ActiveMean-lambda*w) > 0.05*lambda*w {
		t.Errorf("mean active %.2f, λW = %.3f/s × %.2fs = %.2f: more than 5%% apart", got.ActiveMean, lambda, w, lambda*w)
	}
	// The realised rate is the declared one, 2 a second, within Poisson's
	// spread over 1080 arrivals.
	if math.Abs(lambda-2) > 0.1 {
		t.Errorf("arrivals came at %.3f/s, declared 2/s", lambda)
	}
}

// A session stays active through its think times, the dropped ones never
// start, and a full house drops the arrivals beyond max_active.
func TestOpenMaxActive(t *testing.T) {
	u := &spec.Users{Arrival: spec.ArrivalConstant, Sessions: 10,
		Think: spec.Think{Distribution: spec.ThinkConstant, Mean: time.Minute}}
	recs, err := RunOpen(context.Background(), knownProfile(), openSessions(t, u, 60), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sessions arrive a second apart and stay three minutes: u1–u4 start,
	// u5–u10 find four active and are dropped, all four turns each.
	ss := metrics.CountSessions(recs, 0, 200)
	if ss.Started != 4 || ss.Dropped != 6 || ss.Finished != 4 || ss.ActiveMax != 4 {
		t.Errorf("%+v; want 4 started and finished, 6 dropped, at most 4 active", ss)
	}
	var dropped []string
	for _, r := range recs {
		if r.Error == metrics.ErrDropped {
			if r.Sent() || r.TTFTOrInf() != metrics.Inf {
				t.Errorf("dropped %s turn %d counts as sent or with a TTFT", r.Session, r.Turn)
			}
			dropped = append(dropped, r.Session)
		}
	}
	if len(dropped) != 24 || dropped[0] != "u5" || dropped[23] != "u10" {
		t.Errorf("dropped turns %v; want u5…u10, four each", dropped)
	}
	// Each started session's follow-ups start a minute after the previous
	// answer ended.
	if d := ss.DurationMean; d < 3*time.Minute || d > 3*time.Minute+5*time.Second {
		t.Errorf("mean session %v; want three minutes of thinking and a little serving", d)
	}
	if p := metrics.Aggregate(0, 0, recs).TTFTP95; p != metrics.Inf {
		t.Errorf("ttft_p95 %v; the dropped sessions' turns should make it +Inf", p)
	}
}

// Arrivals keep their times however slow the server: on a server 100×
// slower the sessions start at exactly the same instants.
func TestOpenArrivalsNotSlowed(t *testing.T) {
	fast, slow := knownProfile(), knownProfile()
	slow.PrefillToken *= 100
	starts := func(cfg engine.Config) []string {
		recs, err := RunOpen(context.Background(), cfg, openSessions(t, chatUsers(time.Minute), 120), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			if r.Turn == 0 {
				out = append(out, r.Session+"@"+strconv.FormatFloat(r.Start, 'f', 9, 64))
			}
		}
		return out
	}
	a, b := starts(fast), starts(slow)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("openings start at different times on a slow server:\n%v\n%v", a[:5], b[:5])
	}
}

func TestOpenHourOfArrivals(t *testing.T) {
	start := time.Now()
	recs, err := RunOpen(context.Background(), knownProfile(), openSessions(t, chatUsers(time.Hour), 120), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss := metrics.CountSessions(recs, 0, 3600)
	t.Logf("an hour at 120/min: %d sessions, %d records in %v", ss.Started, len(recs), time.Since(start))
	if ss.Started < 7000 || ss.Finished != ss.Started {
		t.Errorf("%+v: want about 7200 sessions, all finished", ss)
	}
}

// The rate search on the virtual clock brackets the highest rate whose
// ttft_p95 stays within 2 s between a rate that passed and one that
// failed, 5 % apart, both measured.
func TestOpenRateSearchBrackets(t *testing.T) {
	const slo = 2 * time.Second
	cfg := search.RateConfig{Rates: []float64{60, 120, 240, 480}}
	p95 := map[float64]time.Duration{}
	var done []search.RateResult
	for {
		rate, ok := cfg.NextRate(done)
		if !ok {
			break
		}
		recs, err := RunOpen(context.Background(), knownProfile(), openSessions(t, chatUsers(2*time.Minute), rate), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		p95[rate] = openP95(recs)
		done = append(done, search.RateResult{Rate: rate, Passed: p95[rate] <= slo})
	}
	b := cfg.Bracket(done)
	t.Logf("ran %v; best %v/min (p95 %v), fails from %v/min (p95 %v)", done, b.Pass, p95[b.Pass], b.Fail, p95[b.Fail])
	if !b.Settled || b.Fail > 1.05*b.Pass {
		t.Fatalf("bracket %+v not within 5%%", b)
	}
	if p95[b.Pass] > slo || p95[b.Fail] <= slo {
		t.Errorf("best %v/min has p95 %v, %v/min has %v: not a pass and a failure", b.Pass, p95[b.Pass], b.Fail, p95[b.Fail])
	}
	// The knee lies between the rates TestOpenKnee calls flat and growing.
	if b.Pass < 240 || b.Pass > 480 {
		t.Errorf("best rate %v/min; the known profile's knee is between 240 and 480", b.Pass)
	}
}

// Package openloop turns an open-loop workload (spec.Users) into a seeded
// schedule: when each session arrives, and how long its user thinks before
// each follow-up question. It is pure: no clock, no I/O, so both executors
// (the HTTP client on the real clock, the simulator on the virtual one)
// replay exactly the same schedule for a seed.
//
// The draws are laid out so that points compare well:
//   - arrivals at every rate use the same random numbers, so the schedule at
//     rate 2r is the schedule at rate r with every time halved (the gaps are
//     gamma variates of a fixed shape, scaled by the mean gap);
//   - a session's think times come from a stream of its own, keyed by the
//     seed and the session's index, so session i thinks the same at every
//     rate.
//
// A slower server can then only make a point worse, never luckier.
package openloop

import (
	"fmt"
	"math"
	"time"

	"github.com/mrqa-dev/mrqa/internal/splitmix"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Session is one user session of an open-loop point.
type Session struct {
	// Index numbers the sessions in arrival order, from 0.
	Index int
	// Arrival is when the session starts, from the point's start.
	Arrival time.Duration
	// Think[k-1] is the pause before turn k (k ≥ 1), counted from the end
	// of turn k-1's answer.
	Think []time.Duration
}

// Label names an open-loop session: u<index+1>, as c<w>s<s> names a
// closed-loop one.
func Label(index int) string { return fmt.Sprintf("u%d", index+1) }

// Stream tags keep the arrival and think-time draws apart.
const (
	tagArrivals = 0x6172726976616c73 // "arrivals"
	tagThink    = 0x7468696e6b74696d // "thinktim"
)

// Schedule draws a point's sessions at rate sessions per minute, each with
// rounds follow-up turns. Sessions arrive until u.Sessions have arrived, or
// for as long as u.Duration (an arrival exactly at its end is left out).
// The first session arrives at 0.
func Schedule(u *spec.Users, rate float64, rounds int, seed int64) ([]Session, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("arrival rate %v: must be a positive number of sessions per minute", rate)
	}
	if (u.Sessions > 0) == (u.Duration > 0) {
		return nil, fmt.Errorf("users: exactly one of sessions (%d) and duration (%v) must be set", u.Sessions, u.Duration)
	}
	gaps, err := newGaps(u, rate, seed)
	if err != nil {
		return nil, err
	}
	var out []Session
	// The sum is kept in seconds and rounded once per arrival, so a
	// schedule's times scale exactly with the rate.
	for secs := 0.0; ; secs += gaps.next() {
		at := seconds(secs)
		if u.Sessions > 0 && len(out) == u.Sessions || u.Duration > 0 && at >= u.Duration {
			return out, nil
		}
		if len(out) == spec.MaxOpenSessions {
			return nil, fmt.Errorf("users: %v sessions a minute for %v is more than %d sessions in one point", rate, u.Duration, spec.MaxOpenSessions)
		}
		i := len(out)
		out = append(out, Session{Index: i, Arrival: at, Think: thinkTimes(u.Think, rounds, seed, i)})
	}
}

// gaps draws the times between arrivals.
type gaps struct {
	src   splitmix.Source
	shape float64 // 0: constant gaps
	mean  float64 // seconds
}

func newGaps(u *spec.Users, rate float64, seed int64) (*gaps, error) {
	g := &gaps{src: splitmix.Source{State: splitmix.Finalize(uint64(seed) ^ tagArrivals)}, mean: 60 / rate}
	switch u.Arrival {
	case spec.ArrivalConstant:
	case spec.ArrivalPoisson:
		g.shape = 1
	case spec.ArrivalGamma:
		if !(u.Burstiness > 0) {
			return nil, fmt.Errorf("users: burstiness %v must be positive", u.Burstiness)
		}
		g.shape = u.Burstiness
	default:
		return nil, fmt.Errorf("users: unknown arrival process %q", u.Arrival)
	}
	return g, nil
}

// next is the next gap in seconds: a gamma variate of the process's shape
// with the mean gap as its mean (an exponential one for shape 1).
func (g *gaps) next() float64 {
	if g.shape == 0 {
		return g.mean
	}
	return gamma(&g.src, g.shape) * g.mean / g.shape
}

// thinkTimes draws session i's pauses before its rounds follow-ups.
func thinkTimes(t spec.Think, rounds int, seed int64, i int) []time.Duration {
	if rounds == 0 {
		return nil
	}
	src := splitmix.Source{State: splitmix.Finalize(uint64(seed)^tagThink) + splitmix.Gamma*uint64(i+1)}
	src.State = splitmix.Finalize(src.State)
	out := make([]time.Duration, rounds)
	mean := t.Mean.Seconds()
	for k := range out {
		out[k] = seconds(mean * unitThink(&src, t))
	}
	return out
}

// unitThink is one think-time draw divided by the mean.
func unitThink(src *splitmix.Source, t spec.Think) float64 {
	switch t.Distribution {
	case spec.ThinkExponential:
		return -math.Log(uniform(src))
	case spec.ThinkLogNormal:
		// exp(μ + σZ) has mean exp(μ + σ²/2): μ = -σ²/2 gives mean 1.
		return math.Exp(-t.Sigma*t.Sigma/2 + t.Sigma*normal(src))
	default:
		return 1
	}
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// uniform is a number in (0, 1), never 0 or 1, so its log is finite.
func uniform(src *splitmix.Source) float64 {
	return (float64(src.Next()>>11) + 0.5) / (1 << 53)
}

// normal is a standard normal variate (Box–Muller, one of the pair).
func normal(src *splitmix.Source) float64 {
	u1, u2 := uniform(src), uniform(src)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// gamma is a Gamma(shape, 1) variate, mean shape: Marsaglia and Tsang's
// method, with the boost U^(1/shape) for shapes below 1.
func gamma(src *splitmix.Source, shape float64) float64 {
	if shape < 1 {
		return gamma(src, shape+1) * math.Pow(uniform(src), 1/shape)
	}
	if shape == 1 {
		return -math.Log(uniform(src))
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := normal(src)
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if math.Log(uniform(src)) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

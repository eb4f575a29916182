package metrics

import (
	"fmt"
	"reflect"
	"time"

	"github.com/expr-lang/expr"
)

// probe evaluates the condition once on a point whose every metric is 1
// (or one second), to find errors that do not depend on the data.
func (c *Condition) probe() error {
	if c.scope != ScopePoint {
		return nil
	}
	var p Point
	v := reflect.ValueOf(&p).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); {
		case f.Type() == condDurationType:
			f.SetInt(int64(time.Second))
		case f.Kind() == reflect.Int:
			f.SetInt(1)
		case f.Kind() == reflect.Float64:
			f.SetFloat(1)
		}
	}
	if _, err := expr.Run(c.prog, &p); err != nil {
		return fmt.Errorf("the condition cannot be evaluated: %v", err)
	}
	return nil
}

// Verdict is a condition's outcome and, unless it is a plain pass or fail,
// the reason: which metric had no data and why, or why the expression could
// not be evaluated.
type Verdict struct {
	Outcome Outcome
	Reason  string
}

// Evaluate evaluates the condition on a point (*Point or Point) or a sweep.
//
// On a point, a read metric without data makes the outcome NoData, whatever
// the expression. A read metric known only within bounds (a quantile from a
// histogram's buckets) is tried at both bounds: the verdict holds when they
// agree, and is NoData when they do not, since the data cannot tell. An
// expression that fails at run time (an integer division by zero) has the
// outcome Error with expr's message.
func (c *Condition) Evaluate(env any) Verdict {
	var p *Point
	switch e := env.(type) {
	case *Point:
		if e == nil {
			return Verdict{NoData, "no point"}
		}
		p = e
	case Point:
		p = &e
	case *Sweep:
		if e == nil {
			return Verdict{NoData, "no sweep"}
		}
		return c.run(e)
	default:
		return c.run(env)
	}
	for _, name := range c.Reads {
		if p.NoData.Has(name) {
			return Verdict{NoData, name + ": " + p.NoData.Reason(name)}
		}
	}
	var bounded []string
	for _, name := range c.Reads {
		if _, ok := p.Bounds[name]; ok {
			bounded = append(bounded, name)
		}
	}
	if len(bounded) == 0 {
		return c.run(p)
	}
	// The value lies in (Lo, Hi]: the lower end is just above Lo.
	lo, hi := *p, *p
	for _, name := range bounded {
		b := p.Bounds[name]
		setDuration(&lo, name, b.Lo.Duration()+time.Nanosecond)
		setDuration(&hi, name, b.Hi.Duration())
	}
	vlo, vhi := c.run(&lo), c.run(&hi)
	if vlo.Outcome != vhi.Outcome {
		b := p.Bounds[bounded[0]]
		return Verdict{NoData, fmt.Sprintf("%s lies in a histogram bucket between %s and %s; the condition holds at one end and not at the other, so the data cannot decide",
			bounded[0], b.Lo.Duration(), b.Hi.Duration())}
	}
	return vhi
}

// run evaluates the compiled program on env. On a point, +Inf in a metric
// the expression does arithmetic on fails the condition: the stored +Inf
// would wrap around, and no finite result describes failed turns.
func (c *Condition) run(env any) Verdict {
	if p, ok := env.(*Point); ok {
		for _, name := range c.arith {
			if getDuration(p, name) == Inf {
				return Verdict{Fail, name + " is +Inf (failed turns count as +Inf), and arithmetic on it has no finite result"}
			}
		}
	}
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return Verdict{Error, "cannot be evaluated: " + err.Error()}
	}
	if b, ok := out.(bool); ok && b {
		return Verdict{Outcome: Pass}
	}
	return Verdict{Outcome: Fail}
}

// Eval is Evaluate's outcome alone.
func (c *Condition) Eval(env any) Outcome { return c.Evaluate(env).Outcome }

// getDuration reads the duration metric named name (its expr tag) in p.
func getDuration(p *Point, name string) time.Duration {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("expr") == name && t.Field(i).Type == condDurationType {
			return time.Duration(v.Field(i).Int())
		}
	}
	return 0
}

// setDuration sets the duration metric named name (its expr tag) in p.
func setDuration(p *Point, name string, d time.Duration) {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("expr") == name && t.Field(i).Type == condDurationType {
			v.Field(i).SetInt(int64(d))
			return
		}
	}
}

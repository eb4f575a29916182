package dsl

import (
	"math"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

var usersSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "arrival"},
		{Name: "burstiness"},
		{Name: "rate", Required: true},
		{Name: "sessions"},
		{Name: "duration"},
		{Name: "warmup"},
		{Name: "max_active", Required: true},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "think_time"}},
}

var thinkSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "distribution"}, {Name: "mean", Required: true}, {Name: "sigma"},
}}

// decodeUsersBlock decodes users { ... }, the open-loop workload.
func (l *loader) decodeUsersBlock(b *hcl.Block) *spec.Users {
	content, diags := b.Body.Content(usersSchema)
	l.diags = append(l.diags, diags...)
	u := &spec.Users{Arrival: spec.DefaultArrival, Burstiness: spec.DefaultBurstiness}
	if content == nil {
		return u
	}
	a := content.Attributes
	u.Arrival = l.oneOf(a["arrival"], spec.DefaultArrival, spec.ArrivalConstant, spec.ArrivalPoisson, spec.ArrivalGamma)
	u.Burstiness = l.positiveAttr(a["burstiness"], spec.DefaultBurstiness)
	if a["burstiness"] != nil && u.Arrival != spec.ArrivalGamma {
		l.errorf(a["burstiness"].NameRange, "Burstiness without gamma arrivals",
			"burstiness shapes the gaps of arrival = \"gamma\"; with arrival = %q it would be ignored. Remove it, or set arrival = \"gamma\".", u.Arrival)
	}
	u.Rates = l.rateList(a["rate"])
	u.Sessions = l.intAttr(a["sessions"], 0, 1)
	u.Duration = l.durationAttr(a["duration"], 0)
	u.Warmup = l.durationAttr(a["warmup"], 0)
	u.MaxActive = l.intAttr(a["max_active"], 0, 1)
	l.checkUsersBounds(u, b, a)
	for _, tb := range l.singleBlocks(content, "think_time") {
		u.Think = l.decodeThinkBlock(tb)
	}
	if u.Think.Distribution == "" {
		u.Think.Distribution = spec.ThinkConstant // no block: no pause
	}
	return u
}

// checkUsersBounds reports a point that would not end, or whose warm-up
// would leave nothing to measure.
func (l *loader) checkUsersBounds(u *spec.Users, b *hcl.Block, a hcl.Attributes) {
	switch {
	case a["sessions"] != nil && a["duration"] != nil:
		l.errorf(a["duration"].NameRange, "Both sessions and duration",
			"A point's arrivals end after a number of sessions or after a duration, not both. Keep one of sessions and duration.")
	case a["sessions"] == nil && a["duration"] == nil:
		l.errorf(b.DefRange, "Open-ended arrivals",
			"users needs sessions = N (arrivals per point) or duration = \"10m\" (how long sessions keep arriving), or a point would never end.")
	}
	if w := a["warmup"]; w != nil && u.Duration > 0 && u.Warmup >= u.Duration {
		l.errorf(w.Expr.Range(), "Warm-up as long as the run",
			"warmup = %v leaves nothing of duration = %v to measure: every turn would start during the warm-up. Shorten warmup or lengthen duration.", u.Warmup, u.Duration)
	}
	if b := a["burstiness"]; b != nil && u.Burstiness < spec.MinBurstiness {
		l.errorf(b.Expr.Range(), "Burstiness too low",
			"burstiness = %g would bunch arrivals so tightly that their gaps round to nothing; use %g or more (1 is Poisson, lower is burstier).", u.Burstiness, spec.MinBurstiness)
	}
	for _, r := range u.Rates {
		if r < spec.MinOpenRate {
			l.errorf(a["rate"].Expr.Range(), "Rate too low",
				"rate %s a minute leaves arrivals %s minutes apart on average, longer than a point can schedule; use %g or more.",
				strconv.FormatFloat(r, 'g', -1, 64), strconv.FormatFloat(1/r, 'g', 3, 64), spec.MinOpenRate)
			return
		}
		if u.Duration > 0 && r*u.Duration.Minutes() > spec.MaxOpenSessions {
			l.errorf(a["rate"].Expr.Range(), "Too many sessions in one point",
				"rate %s a minute for %v is about %.0f sessions, more than the %d one point may plan. Lower the rate or shorten duration.",
				strconv.FormatFloat(r, 'g', -1, 64), u.Duration, r*u.Duration.Minutes(), spec.MaxOpenSessions)
			return
		}
	}
}

// decodeThinkBlock decodes think_time { distribution, mean, sigma }.
func (l *loader) decodeThinkBlock(b *hcl.Block) spec.Think {
	content, diags := b.Body.Content(thinkSchema)
	l.diags = append(l.diags, diags...)
	t := spec.Think{Distribution: spec.DefaultThink}
	if content == nil {
		return t
	}
	a := content.Attributes
	t.Distribution = l.oneOf(a["distribution"], spec.DefaultThink, spec.ThinkConstant, spec.ThinkExponential, spec.ThinkLogNormal)
	t.Mean = l.durationAttr(a["mean"], 0)
	if a["sigma"] == nil {
		if t.Distribution == spec.ThinkLogNormal {
			t.Sigma = spec.DefaultThinkSigma
		}
		return t
	}
	if t.Distribution != spec.ThinkLogNormal {
		l.errorf(a["sigma"].NameRange, "Sigma without a log-normal",
			"sigma is the spread of distribution = \"lognormal\"; a %s think time has none. Remove it, or set distribution = \"lognormal\".", t.Distribution)
		return t
	}
	t.Sigma = l.positiveAttr(a["sigma"], spec.DefaultThinkSigma)
	return t
}

// positiveAttr reads a finite number above zero.
func (l *loader) positiveAttr(a *hcl.Attribute, def float64) float64 {
	val, present, _ := l.typed(a, cty.Number)
	if !present {
		return def
	}
	f, _ := val.AsBigFloat().Float64()
	if !(f > 0) || math.IsInf(f, 0) {
		l.errorf(a.Expr.Range(), "Invalid value", "%s must be a number above zero, not %s.", a.Name, val.AsBigFloat().Text('g', 10))
		return def
	}
	return f
}

// rateList reads rate = [...]: sessions a minute, each above zero, no repeats.
func (l *loader) rateList(a *hcl.Attribute) []float64 {
	val, present, _ := l.typed(a, cty.List(cty.Number))
	if !present {
		return nil
	}
	var out []float64
	seen := map[float64]bool{}
	for i, v := range val.AsValueSlice() {
		if v.IsNull() {
			l.errorf(a.Expr.Range(), "Invalid value", "rate must not contain null.")
			return nil
		}
		f, _ := v.AsBigFloat().Float64()
		switch {
		case !(f > 0) || math.IsInf(f, 0):
			l.errorf(a.Expr.Range(), "Invalid rate", "rate[%d] = %s: a rate is a number of sessions starting per minute, above zero.", i, v.AsBigFloat().Text('g', 10))
			return nil
		case seen[f]:
			l.errorf(a.Expr.Range(), "Duplicate rate", "rate lists %s more than once.", strconv.FormatFloat(f, 'g', -1, 64))
			return nil
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		l.errorf(a.Expr.Range(), "Empty rate list", "rate must list at least one arrival rate (sessions per minute).")
	}
	return out
}

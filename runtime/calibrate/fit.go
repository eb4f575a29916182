package calibrate

import (
	"fmt"
	"math"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

// Probe kinds (Obs.Probe).
const (
	ProbeCold   = "cold"   // a prompt no cache holds, alone on the server
	ProbeCached = "cached" // a prompt whose prefix the previous request left cached
	ProbeDecode = "decode" // one of several streams decoding together
)

// Obs is one probe request as measured.
type Obs struct {
	Probe            string
	PromptTokens     int
	CachedTokens     int
	CompletionTokens int
	Start            time.Time     // when it was sent
	TTFT, End        time.Duration // from Start
}

func (o Obs) itl() float64 {
	return (o.End - o.TTFT).Seconds() / float64(o.CompletionTokens-1)
}

// decodes says whether o streamed enough tokens to time its decode.
func (o Obs) decodes() bool { return o.CompletionTokens >= minDecodeTokens && o.End > o.TTFT }

// minDecodeTokens is the fewest tokens a request must stream for its
// inter-token latency to count.
const minDecodeTokens = 4

// Param is one fitted (or not identified) simulator field.
type Param struct {
	Name       string  `json:"name"`
	Value      float64 `json:"value"`            // in the field's unit (µs, ns, or seconds for step_fixed)
	StdErr     float64 `json:"stderr,omitempty"` // standard error, same unit
	Identified bool    `json:"identified"`
	Base       float64 `json:"base_value"` // the base profile's value, kept when not identified
	Why        string  `json:"why,omitempty"`
}

// Residual is one probe's measured value beside the fitted model's.
type Residual struct {
	Fit              string  `json:"fit"` // "ttft" | "itl"
	Probe            string  `json:"probe"`
	PromptTokens     int     `json:"prompt_tokens"`
	CachedTokens     int     `json:"cached_tokens"`
	Batch            float64 `json:"batch,omitempty"` // mean streams decoding alongside (itl)
	MeasuredMS       float64 `json:"measured_ms"`
	FittedMS         float64 `json:"fitted_ms"`
	ResidualMS       float64 `json:"residual_ms"`
	ResidualFraction float64 `json:"residual_fraction"` // residual / measured
}

// FitQuality sums up one fit's residuals.
type FitQuality struct {
	Fit         string  `json:"fit"`
	Rows        int     `json:"rows"`
	RMSMS       float64 `json:"rms_residual_ms"`
	MaxFraction float64 `json:"max_abs_residual_fraction"`
}

// Fit is the cost model fitted to the observations.
type Fit struct {
	Params []Param `json:"parameters"`
	// OverheadMS is the TTFT the model cannot place in the server: the
	// client's and the network's share (the fit's intercept). It is no
	// simulator field: the simulator's HTTP path adds its own.
	OverheadMS float64      `json:"overhead_ms"`
	Quality    []FitQuality `json:"fits"`
	Residuals  []Residual   `json:"residuals"`
	// Unexplained names, per fit, the probe the model misses by more than
	// unexplainedFraction of its measured value, if any.
	Unexplained []string `json:"unexplained,omitempty"`
}

// unexplainedFraction is the residual, as a fraction of the measured
// value, beyond which the fit says the model does not explain a probe.
const unexplainedFraction = 0.20

// term is one column of a regression and the field its coefficient is.
type term struct {
	name string
	unit float64 // field value = coefficient × unit
	base float64 // the base profile's coefficient (seconds per x)
	x    func(row) float64
}

// row is what a regression sees of one observation.
type row struct {
	o           Obs
	n, h, p     float64 // tokens computed, cached, prompt
	batch, ctx  float64 // mean streams decoding and their summed context
	prefillStep float64 // steps the prefill took
}

// FitObs fits the cost model of docs/simulator.md to obs: inter-token
// latency against the streams decoding together (step_fixed, decode_seq_us,
// decode_context_ns), then time to first token against tokens computed,
// prompt length and attention work (prefill_token_us, frontend_token_us,
// prefill_attention_ns) after taking off the fitted step_fixed per prefill
// chunk of base.MaxBatchedTokens. A coefficient the data cannot tell from
// zero (or from the others) keeps base's value.
func FitObs(obs []Obs, base engine.Config) (Fit, error) {
	rows := makeRows(obs, base.MaxBatchedTokens)
	var decodeRows, ttftRows []row
	for _, r := range rows {
		if r.o.decodes() {
			decodeRows = append(decodeRows, r)
		}
		if r.o.Probe != ProbeDecode && r.o.TTFT > 0 {
			ttftRows = append(ttftRows, r)
		}
	}
	if len(decodeRows) < 2 || len(ttftRows) < 2 {
		return Fit{}, fmt.Errorf("calibrate: too few usable probes to fit (%d decoding, %d timed to first token)", len(decodeRows), len(ttftRows))
	}
	var f Fit
	decode := []term{
		{"step_fixed", 1, base.StepFixed.Seconds(), func(row) float64 { return 1 }},
		{"decode_seq_us", 1e6, base.DecodeSeq, func(r row) float64 { return r.batch }},
		{"decode_context_ns", 1e9, base.DecodeContext, func(r row) float64 { return r.ctx }},
	}
	dc, dp := fitTerms(decodeRows, decode, func(r row) float64 { return r.o.itl() }, 0)
	f.Params = append(f.Params, dp...)
	stepFixed := dc[0]
	prefill := []term{
		{"overhead", 1, 0, func(row) float64 { return 1 }},
		{"prefill_token_us", 1e6, base.PrefillToken, func(r row) float64 { return r.n }},
		{"frontend_token_us", 1e6, base.FrontendToken, func(r row) float64 { return r.p }},
		{"prefill_attention_ns", 1e9, base.PrefillAttention, func(r row) float64 { return r.n*r.h + r.n*(r.n-1)/2 }},
	}
	ttft := func(r row) float64 { return r.o.TTFT.Seconds() - stepFixed*r.prefillStep }
	pc, pp := fitTerms(ttftRows, prefill, ttft, 1)
	f.Params = append(f.Params, pp[1:]...)
	f.OverheadMS = pc[0] * 1e3
	none := func(row) float64 { return 0 }
	steps := func(r row) float64 { return stepFixed * r.prefillStep }
	f.addResiduals("itl", decodeRows, decode, dc, func(r row) float64 { return r.o.itl() }, none)
	f.addResiduals("ttft", ttftRows, prefill, pc, func(r row) float64 { return r.o.TTFT.Seconds() }, steps)
	f.summarize()
	return f, nil
}

// TTFT is the fitted model's time to first token of a request alone on
// the server with prompt tokens, cached of them cached, prefilled in chunks
// of chunk tokens: the overhead plus the terms FitObs fitted.
func (f Fit) TTFT(prompt, cached, chunk int) time.Duration {
	v := map[string]float64{}
	for _, p := range f.Params {
		v[p.Name] = p.Value
	}
	n := float64(max(prompt-cached, 1))
	h := float64(cached)
	sec := f.OverheadMS/1e3 + v["step_fixed"]*math.Ceil(n/float64(max(chunk, 1))) +
		v["prefill_token_us"]/1e6*n + v["frontend_token_us"]/1e6*float64(prompt) +
		v["prefill_attention_ns"]/1e9*(n*h+n*(n-1)/2)
	return time.Duration(sec * 1e9)
}

// makeRows derives each observation's regressors; batch and context come
// from how the decode windows of the observations overlap in time.
func makeRows(obs []Obs, chunk int) []row {
	rows := make([]row, len(obs))
	for i, o := range obs {
		n := float64(max(o.PromptTokens-o.CachedTokens, 1))
		rows[i] = row{o: o, n: n, h: float64(o.CachedTokens), p: float64(o.PromptTokens),
			prefillStep: math.Ceil(n / float64(max(chunk, 1)))}
		if !o.decodes() {
			continue
		}
		from, to := o.Start.Add(o.TTFT), o.Start.Add(o.End)
		span := to.Sub(from).Seconds()
		for _, p := range obs {
			if !p.decodes() {
				continue
			}
			lap := overlap(from, to, p.Start.Add(p.TTFT), p.Start.Add(p.End)) / span
			rows[i].batch += lap
			rows[i].ctx += lap * (float64(p.PromptTokens) + float64(p.CompletionTokens)/2)
		}
	}
	return rows
}

func overlap(a0, a1, b0, b1 time.Time) float64 {
	from, to := a0, a1
	if b0.After(from) {
		from = b0
	}
	if b1.Before(to) {
		to = b1
	}
	return max(to.Sub(from).Seconds(), 0)
}

// pin holds a term at a value instead of fitting it.
type pin struct {
	set        bool
	value      float64 // seconds per x
	identified bool    // the data put it there (a negative fit within noise of 0)
	why        string
}

// fitTerms fits y against the terms and pins, worst first, each term the
// data cannot identify, refitting each time: a term collinear with the
// others, or whose standard error exceeds half of both its estimate and
// its base value, keeps the base value (not identified); a negative
// estimate is held at 0, the bound of non-negative least squares. The first
// `always` terms are never pinned. It returns the coefficients (seconds per x) and the terms as
// Params.
func fitTerms(rows []row, terms []term, y func(row) float64, always int) ([]float64, []Param) {
	pins := make([]pin, len(terms))
	for {
		res, free := regress(rows, terms, y, pins)
		j, p := worstTerm(res, free, terms, always)
		if j < 0 {
			return params(terms, pins, res, free)
		}
		pins[j] = p
	}
}

// worstTerm is the free term to pin next and how, or −1.
func worstTerm(res lsq, free []int, terms []term, always int) (int, pin) {
	worst, worstPin, worstScore := -1, pin{}, math.Inf(1)
	for k, j := range free {
		if j < always {
			continue
		}
		t, c, se := terms[j], res.coef[k], res.stderr[k]
		fitted := fmt.Sprintf("fitted %s ± %s", fmtValue(c*t.unit), fmtValue(se*t.unit))
		switch {
		case res.dropped[k]:
			return j, pin{set: true, value: t.base, why: "the probes did not vary it apart from the other terms"}
		case se > 0.5*math.Max(math.Abs(c), math.Abs(t.base)):
			if score := -se / math.Max(math.Abs(c), math.Abs(t.base)); score < worstScore {
				worst, worstScore, worstPin = j, score, pin{set: true, value: t.base, why: fitted + ": too uncertain to use"}
			}
		case c < 0 && worst < 0:
			worst, worstScore, worstPin = j, 0, pin{set: true, identified: true,
				why: fitted + ": below 0, held at 0 (the non-negative least-squares answer)"}
		}
	}
	return worst, worstPin
}

// regress fits the free terms to y minus the pinned terms' share.
func regress(rows []row, terms []term, y func(row) float64, pins []pin) (lsq, []int) {
	var free []int
	for j := range terms {
		if !pins[j].set {
			free = append(free, j)
		}
	}
	X := make([][]float64, len(rows))
	ys := make([]float64, len(rows))
	for i, r := range rows {
		ys[i] = y(r)
		for j, t := range terms {
			if pins[j].set {
				ys[i] -= pins[j].value * t.x(r)
			}
		}
		for _, j := range free {
			X[i] = append(X[i], terms[j].x(r))
		}
	}
	return leastSquares(X, ys), free
}

func params(terms []term, pins []pin, res lsq, free []int) ([]float64, []Param) {
	coef := make([]float64, len(terms))
	out := make([]Param, len(terms))
	for j, t := range terms {
		out[j] = Param{Name: t.name, Base: t.base * t.unit, Why: pins[j].why, Identified: pins[j].identified}
		coef[j] = pins[j].value
		if k := indexOf(free, j); k >= 0 {
			coef[j] = res.coef[k]
			out[j].Identified = true
			out[j].StdErr = res.stderr[k] * t.unit
		}
		out[j].Value = coef[j] * t.unit
	}
	return coef, out
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// addResiduals records each row's measured y beside the terms' fit plus
// extra (what was taken off y before fitting).
func (f *Fit) addResiduals(name string, rows []row, terms []term, coef []float64, y, extra func(row) float64) {
	for _, r := range rows {
		fitted := extra(r)
		for j, t := range terms {
			fitted += coef[j] * t.x(r)
		}
		m := y(r)
		f.Residuals = append(f.Residuals, Residual{Fit: name, Probe: r.o.Probe, PromptTokens: r.o.PromptTokens,
			CachedTokens: r.o.CachedTokens, Batch: batchOf(name, r), MeasuredMS: m * 1e3, FittedMS: fitted * 1e3,
			ResidualMS: (m - fitted) * 1e3, ResidualFraction: (m - fitted) / m})
	}
}

func batchOf(fit string, r row) float64 {
	if fit != "itl" {
		return 0
	}
	return math.Round(r.batch*100) / 100
}

func (f *Fit) summarize() {
	for _, name := range []string{"itl", "ttft"} {
		q := FitQuality{Fit: name}
		var ss float64
		for _, r := range f.Residuals {
			if r.Fit == name {
				q.Rows++
				ss += r.ResidualMS * r.ResidualMS
				q.MaxFraction = max(q.MaxFraction, math.Abs(r.ResidualFraction))
			}
		}
		q.RMSMS = math.Sqrt(ss / float64(max(q.Rows, 1)))
		f.Quality = append(f.Quality, q)
		if q.MaxFraction > unexplainedFraction {
			f.Unexplained = append(f.Unexplained, f.worstResidual(name, q.Rows))
		}
	}
}

// worstResidual describes the fit's largest residual and how many of its
// rows miss by more than unexplainedFraction.
func (f *Fit) worstResidual(name string, rows int) string {
	var worst Residual
	over := 0
	for _, r := range f.Residuals {
		if r.Fit != name {
			continue
		}
		if math.Abs(r.ResidualFraction) > unexplainedFraction {
			over++
		}
		if math.Abs(r.ResidualFraction) > math.Abs(worst.ResidualFraction) {
			worst = r
		}
	}
	what := fmt.Sprintf("the %s probe of %d tokens (%d cached)", worst.Probe, worst.PromptTokens, worst.CachedTokens)
	if name == "itl" {
		what += fmt.Sprintf(" beside %.3g streams", worst.Batch)
	}
	return fmt.Sprintf("%s fit: %d of %d probes off by more than %.0f%%; the worst, %s, measured %.3g ms where the model says %.3g ms",
		name, over, rows, 100*unexplainedFraction, what, worst.MeasuredMS, worst.FittedMS)
}

func fmtValue(v float64) string { return fmt.Sprintf("%.3g", v) }

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	scale := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*scale) / scale
}

package calibrate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
)

// Runs is what a profile file fitted from earlier runs records of them:
// which folders, and per point how many of its records each fit used and
// how well the fitted model explains them.
type Runs struct {
	Dirs   []string   `json:"dirs"`
	Points []PointFit `json:"points"`
}

// PointFit is one point of a run as the fit saw it.
type PointFit struct {
	Run        string `json:"run"` // the folder
	Concurrent int    `json:"concurrent"`
	Sequential int    `json:"sequential"`
	Records    int    `json:"records"` // successful requests with valid usage
	// TTFTRows are the records whose time to first token was fitted;
	// Queued were left out because their prefill overlapped another
	// request's (queueing the model cannot apportion without simulating
	// the scheduler), CacheUnknown because the server did not say how much
	// of the prompt was cached.
	TTFTRows     int `json:"ttft_rows"`
	Queued       int `json:"ttft_queued"`
	CacheUnknown int `json:"ttft_cache_unknown,omitempty"`
	ITLRows      int `json:"itl_rows"`
	// Why says why the whole point was left out; empty when it was used.
	Why string `json:"why,omitempty"`
	// Mean and RMS residual (measured − fitted) of each fit over the
	// point's rows: a mean far from 0 is a bias the model has at this load.
	TTFTMeanMS float64 `json:"ttft_mean_residual_ms"`
	TTFTRMSMS  float64 `json:"ttft_rms_residual_ms"`
	ITLMeanMS  float64 `json:"itl_mean_residual_ms"`
	ITLRMSMS   float64 `json:"itl_rms_residual_ms"`
}

// runRec is one usable record of a run, on a timeline where points lie
// far apart so that only records of the same point overlap.
type runRec struct {
	o           Obs
	point       int  // index into the points
	cachedKnown bool // CachedTokens is a measurement
	// alone: no other record of the point was in its prefill (from send to
	// first token), so its TTFT is front end, its own prefill steps and
	// the decodes riding along in them.
	alone bool
	// alongside and alongsideCtx: streams decoding during its prefill, and
	// their context, averaged over the window.
	alongside, alongsideCtx float64
	// othersN and othersAttn: the prefill work (tokens computed; attention
	// positions) of other records overlapping its decode window, each
	// weighted by the share of its prefill window inside this one.
	othersN, othersAttn float64
}

// coefs are the cost model's coefficients in seconds per unit.
type coefs struct{ step, seq, ctx, token, attn float64 }

// FromRuns fits the cost model and KV capacity to the records of runs
// already made (mrqa output folders, or folders of LMBenchmark run files),
// sending nothing. docs/simulator.md ("Calibrating from runs") says which
// records each fit uses and why.
func FromRuns(dirs []string, baseName string) (*Result, error) {
	if baseName == "" {
		baseName = DefaultBase
	}
	base, err := profile.Config(baseName)
	if err != nil {
		return nil, fmt.Errorf("calibrate: base: %w", err)
	}
	src, err := readRuns(dirs)
	if err != nil {
		return nil, err
	}
	recs := prepare(src.recs, src.points)
	fit, err := fitRuns(recs, src.points, base)
	if err != nil {
		return nil, err
	}
	cal := Calibration{Source: "runs " + strings.Join(dirs, ", "), Target: src.target, Model: src.model,
		Started: time.Now().UTC().Format(time.RFC3339), Base: baseName, KV: src.kv, Notes: src.notes, Fit: fit,
		Runs: &Runs{Dirs: dirs, Points: src.points}}
	cal.Notes = append(cal.Notes, identificationNotes(recs, &cal.Fit)...)
	return finish(cal, openai.PreflightInfo{Model: src.model}, base)
}

// prepare marks which records prefilled alone and measures what ran beside
// each, point by point.
func prepare(recs []runRec, points []PointFit) []runRec {
	byPoint := make([][]int, len(points))
	for i, r := range recs {
		byPoint[r.point] = append(byPoint[r.point], i)
	}
	for _, idx := range byPoint {
		for _, i := range idx {
			measureBeside(recs, i, idx)
			switch p := &points[recs[i].point]; {
			case !recs[i].alone:
				p.Queued++
			case !recs[i].cachedKnown:
				p.CacheUnknown++
			}
		}
	}
	return recs
}

// measureBeside fills recs[i]'s alone, alongside and others' prefill work
// from the other records of its point (idx).
func measureBeside(recs []runRec, i int, idx []int) {
	r := &recs[i]
	p0, p1 := r.o.Start, r.o.Start.Add(r.o.TTFT)
	d0, d1 := p1, r.o.Start.Add(r.o.End)
	r.alone = true
	for _, j := range idx {
		if j == i {
			continue
		}
		q := recs[j].o
		q0, q1 := q.Start, q.Start.Add(q.TTFT)
		if overlap(p0, p1, q0, q1) > 0 {
			r.alone = false
		}
		if span := p1.Sub(p0).Seconds(); span > 0 && q.decodes() {
			lap := overlap(p0, p1, q1, q.Start.Add(q.End)) / span
			r.alongside += lap
			r.alongsideCtx += lap * (float64(q.PromptTokens) + float64(q.CompletionTokens)/2)
		}
		if qs := q1.Sub(q0).Seconds(); qs > 0 && d1.After(d0) {
			share := overlap(d0, d1, q0, q1) / qs
			n, h := uncached(q), float64(q.CachedTokens)
			r.othersN += share * n
			r.othersAttn += share * (n*h + n*(n-1)/2)
		}
	}
}

func uncached(o Obs) float64 { return float64(max(o.PromptTokens-o.CachedTokens, 1)) }

// fitRuns alternates the two fits twice: inter-token latency with the
// others' prefill work taken off each decode window (at the prefill cost
// last fitted, the base profile's at first), then time to first token of
// the records that prefilled alone with the decodes riding along taken off
// (at the decode cost just fitted).
func fitRuns(recs []runRec, points []PointFit, base engine.Config) (Fit, error) {
	c := coefs{base.StepFixed.Seconds(), base.DecodeSeq, base.DecodeContext, base.PrefillToken, base.PrefillAttention}
	decode := decodeTerms(base)
	prefill := prefillTerms(base)
	var f Fit
	var itlRows, ttftRows []row
	var itlIdx, ttftIdx []int
	for round := 0; round < 2; round++ {
		itlRows, itlIdx = decodeRows(recs, c, base.MaxBatchedTokens)
		ttftRows, ttftIdx = ttftRowsOf(recs, c, base.MaxBatchedTokens)
		if len(itlRows) < 2 || len(ttftRows) < 2 {
			return Fit{}, fmt.Errorf("calibrate: too few usable records to fit (%d decoding, %d that prefilled alone with known cached tokens); a run needs points at C = 1 or requests that did not overlap", len(itlRows), len(ttftRows))
		}
		dc, dp := fitTerms(itlRows, decode, func(r row) float64 { return r.o.itl() }, 0)
		c.step, c.seq, c.ctx = dc[0], dc[1], dc[2]
		stepFixed := c.step
		pc, pp := fitTerms(ttftRows, prefill, func(r row) float64 { return r.o.TTFT.Seconds() - stepFixed*r.prefillStep }, 1)
		c.token, c.attn = pc[1], pc[3]
		f = Fit{Params: append(dp, pp[1:]...), OverheadMS: pc[0] * 1e3}
		if round == 1 {
			f.runResiduals(recs, points, c, pc[0], pc[2], itlRows, itlIdx, ttftRows, ttftIdx)
		}
	}
	f.summarize()
	return f, nil
}

func decodeTerms(base engine.Config) []term {
	return []term{
		{"step_fixed", 1, base.StepFixed.Seconds(), func(row) float64 { return 1 }},
		{"decode_seq_us", 1e6, base.DecodeSeq, func(r row) float64 { return r.batch }},
		{"decode_context_ns", 1e9, base.DecodeContext, func(r row) float64 { return r.ctx }},
	}
}

func prefillTerms(base engine.Config) []term {
	return []term{
		{"overhead", 1, 0, func(row) float64 { return 1 }},
		{"prefill_token_us", 1e6, base.PrefillToken, func(r row) float64 { return r.n }},
		{"frontend_token_us", 1e6, base.FrontendToken, func(r row) float64 { return r.p }},
		{"prefill_attention_ns", 1e9, base.PrefillAttention, func(r row) float64 { return r.n*r.h + r.n*(r.n-1)/2 }},
	}
}

// decodeRows are the decoding records with the others' prefill work (at
// c's cost) taken off their decode windows; batch and context come from
// the unaltered windows.
func decodeRows(recs []runRec, c coefs, chunk int) ([]row, []int) {
	var obs []Obs
	var idx []int
	for i, r := range recs {
		if r.o.decodes() {
			obs, idx = append(obs, r.o), append(idx, i)
		}
	}
	rows := makeRows(obs, chunk)
	for k, i := range idx {
		work := time.Duration((c.token*recs[i].othersN + c.attn*recs[i].othersAttn) * 1e9)
		rows[k].o.End = max(rows[k].o.End-work, rows[k].o.TTFT+time.Microsecond)
	}
	return rows, idx
}

// ttftRowsOf are the records that prefilled alone with known cached
// tokens, with the decodes riding along in their prefill steps (at c's
// cost) taken off their TTFT.
func ttftRowsOf(recs []runRec, c coefs, chunk int) ([]row, []int) {
	var rows []row
	var idx []int
	for i, r := range recs {
		if !r.alone || !r.cachedKnown || r.o.TTFT <= 0 {
			continue
		}
		o := r.o
		o.CompletionTokens = 0 // makeRows need not time its decode
		rw := makeRows([]Obs{o}, chunk)[0]
		ride := rw.prefillStep * (c.seq*r.alongside + c.ctx*r.alongsideCtx)
		rw.o.TTFT -= time.Duration(ride * 1e9)
		rows, idx = append(rows, rw), append(idx, i)
	}
	return rows, idx
}

// runResiduals records every row's measured value beside the model's
// (with the corrections the fit took off put back) and sums them per point.
func (f *Fit) runResiduals(recs []runRec, points []PointFit, c coefs, overhead, frontend float64,
	itlRows []row, itlIdx []int, ttftRows []row, ttftIdx []int) {
	for k, rw := range itlRows {
		r := recs[itlIdx[k]]
		steps := float64(r.o.CompletionTokens - 1)
		fitted := c.step + c.seq*rw.batch + c.ctx*rw.ctx + (c.token*r.othersN+c.attn*r.othersAttn)/steps
		f.addRun("itl", r, &points[r.point], rw.batch, r.o.itl(), fitted)
	}
	for k, rw := range ttftRows {
		r := recs[ttftIdx[k]]
		fitted := overhead + rw.prefillStep*(c.step+c.seq*r.alongside+c.ctx*r.alongsideCtx) +
			c.token*rw.n + frontend*rw.p + c.attn*(rw.n*rw.h+rw.n*(rw.n-1)/2)
		f.addRun("ttft", r, &points[r.point], 0, r.o.TTFT.Seconds(), fitted)
	}
	for i := range points {
		points[i].finishResiduals()
	}
}

// addRun appends one residual and adds it to its point's sums (kept in
// the mean fields until finishResiduals).
func (f *Fit) addRun(fit string, r runRec, p *PointFit, batch, measured, fitted float64) {
	res := (measured - fitted) * 1e3
	f.Residuals = append(f.Residuals, Residual{Fit: fit, Probe: r.o.Probe, PromptTokens: r.o.PromptTokens,
		CachedTokens: r.o.CachedTokens, Batch: math.Round(batch*100) / 100, MeasuredMS: measured * 1e3,
		FittedMS: fitted * 1e3, ResidualMS: res, ResidualFraction: res / (measured * 1e3)})
	if fit == "itl" {
		p.ITLRows++
		p.ITLMeanMS += res
		p.ITLRMSMS += res * res
		return
	}
	p.TTFTRows++
	p.TTFTMeanMS += res
	p.TTFTRMSMS += res * res
}

func (p *PointFit) finishResiduals() {
	p.TTFTMeanMS, p.TTFTRMSMS = meanRMS(p.TTFTMeanMS, p.TTFTRMSMS, p.TTFTRows)
	p.ITLMeanMS, p.ITLRMSMS = meanRMS(p.ITLMeanMS, p.ITLRMSMS, p.ITLRows)
}

func meanRMS(sum, ss float64, n int) (float64, float64) {
	if n == 0 {
		return 0, 0
	}
	return round2(sum / float64(n)), round2(math.Sqrt(ss / float64(n)))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// identificationNotes explain, in the runs' terms, what they could not
// identify: the front end when no fitted request hit the cache, the
// per-sequence decode cost when no two streams decoded together.
func identificationNotes(recs []runRec, f *Fit) []string {
	hit, together := false, false
	for _, r := range recs {
		hit = hit || (r.alone && r.cachedKnown && r.o.CachedTokens > 0)
		together = together || (r.o.decodes() && r.alongside > 0)
	}
	var notes []string
	for i, p := range f.Params {
		switch {
		case p.Name == "frontend_token_us" && !hit && !p.Identified:
			f.Params[i].Why = "no fitted request hit the prefix cache, so its prompt and the tokens it computed never differed: the front end cannot be told from prefill"
			notes = append(notes, "frontend_token_us: "+f.Params[i].Why)
		case p.Name == "decode_seq_us" && !together && !p.Identified:
			notes = append(notes, "decode_seq_us: no two streams decoded together in the runs (C = 1 only)")
		}
	}
	return notes
}

package runtime

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// virtualExecutor runs points in-process on the simulator's virtual clock:
// it turns the plan into token counts and prefix identities and hands them
// to the engine, which returns the records a live client would have written.
type virtualExecutor struct {
	cfg    engine.Config
	script *spec.Script
	tok    tokenizer.Tokenizer

	// The engine's stats, sampled on the simulated clock, feed a scraper
	// as /metrics would: points are laid end to end on a virtual timeline
	// starting at the run's start, a second apart.
	scraper  *promscrape.Scraper
	interval time.Duration
	clock    time.Time // where the next point starts on that timeline
}

func newVirtualExecutor(sc *spec.Scenario, toks *tokenizer.Cache) (*virtualExecutor, error) {
	cfg, err := profile.Build(sc.Target.Simulator)
	if err != nil {
		return nil, err
	}
	tok, err := toks.Load(sc.Corpus.Tokenizer, tokenizer.Options{BaseDir: sc.Corpus.BaseDir})
	if err != nil {
		return nil, fmt.Errorf("virtual clock needs a local tokenizer: %w", err)
	}
	interval := promscrape.DefaultInterval
	if m := sc.Target.Metrics; m != nil && m.Interval > 0 {
		interval = m.Interval
	}
	return &virtualExecutor{cfg: cfg, script: sc.Script, tok: tok,
		scraper: promscrape.NewRecorder(nil), interval: interval, clock: time.Now()}, nil
}

// count tokenizes a template for a session, counting the document by its
// known token count rather than re-tokenizing it. before is the count of the
// text ahead of the document, and hasDoc whether the template holds one.
func (v *virtualExecutor) count(t spec.Template, sess *Session, round int) (total, before int, hasDoc bool) {
	expand(t, sess, round,
		func(s string) { total += v.tok.Count(s) },
		func() {
			before, hasDoc = total, true
			total += sess.Doc.Tokens
		})
	return total, before, hasDoc
}

func (v *virtualExecutor) sessions(p *Point) [][]sim.Session {
	out := make([][]sim.Session, p.C)
	prefix := fmt.Sprintf("virtual-c%ds%d", p.C, p.S)
	for w, ws := range p.Workers {
		for slot := range ws {
			out[w] = append(out[w], v.session(&ws[slot], prefix, p.Rounds))
		}
	}
	return out
}

// session is one session's turns as token counts; each turn's id is
// prefix-<label>-t<turn>.
func (v *virtualExecutor) session(sess *Session, prefix string, rounds int) sim.Session {
	system := 0
	if len(v.script.System) > 0 {
		system, _, _ = v.count(v.script.System, sess, 0)
	}
	open, before, hasDoc := v.count(v.script.Opening, sess, 0)
	docTokens := 0
	// Only text that is the same for every session reading this
	// document is shared: a user label before the document makes
	// the whole opening private.
	if hasDoc && !mentionsUser(v.script.System, false) && !mentionsUser(v.script.Opening, true) {
		docTokens = sim.DocumentPrefixTokens(system, before, sess.Doc.Tokens)
	}
	vs := sim.Session{Name: sess.Label, Document: sess.Doc.ID, DocumentTokens: docTokens}
	vs.Turns = append(vs.Turns, sim.Turn{
		ID:        fmt.Sprintf("%s-%s-t0", prefix, sess.Label),
		NewTokens: sim.OpeningTokens(system, open),
		MaxTokens: v.script.MaxTokens,
	})
	for turn := 1; turn <= rounds; turn++ {
		q, _, _ := v.count(v.script.Questions[(turn-1)%len(v.script.Questions)], sess, turn)
		vs.Turns = append(vs.Turns, sim.Turn{
			ID:        fmt.Sprintf("%s-%s-t%d", prefix, sess.Label, turn),
			NewTokens: sim.FollowUpTokens(q),
			MaxTokens: v.script.MaxTokens,
		})
	}
	return vs
}

// RunPoint implements Executor.
func (v *virtualExecutor) RunPoint(ctx context.Context, p *Point, emit func(metrics.Record)) (Execution, error) {
	return v.run(ctx, emit, func(obs *sim.Observer) ([]metrics.Record, error) {
		return sim.RunVirtual(ctx, v.cfg, v.sessions(p), obs)
	})
}

// RunOpen implements OpenExecutor: the point's sessions arrive on the
// simulated clock (sim.RunOpen), on a fresh engine.
func (v *virtualExecutor) RunOpen(ctx context.Context, p *OpenPoint, emit func(metrics.Record)) (Execution, error) {
	prefix := "virtual-r" + results.FormatRate(p.Rate)
	sessions := make([]sim.OpenSession, len(p.Sessions))
	for i := range p.Sessions {
		s := &p.Sessions[i]
		sessions[i] = sim.OpenSession{Session: v.session(&s.Session, prefix, p.Rounds), Arrival: s.Arrival, Think: s.Think}
	}
	return v.run(ctx, emit, func(obs *sim.Observer) ([]metrics.Record, error) {
		return sim.RunOpen(ctx, v.cfg, sessions, p.MaxActive, obs)
	})
}

// run runs a point on the simulated clock, the engine's stats feeding the
// scraper as /metrics would.
func (v *virtualExecutor) run(ctx context.Context, emit func(metrics.Record), runSim func(*sim.Observer) ([]metrics.Record, error)) (Execution, error) {
	if err := ctx.Err(); err != nil {
		return Execution{}, err
	}
	base := v.clock
	var last time.Duration
	labels := `model_name="` + v.cfg.Model + `"`
	var buf bytes.Buffer
	recs, err := runSim(&sim.Observer{
		Every: v.interval,
		Observe: func(now time.Duration, st engine.Stats) {
			buf.Reset()
			st.WritePrometheus(&buf, labels)
			_ = v.scraper.Ingest(base.Add(now), &buf)
			last = now
		},
	})
	run := Execution{Records: recs, Epoch: base, Span: max(simulatedSpan(recs), last), Simulated: true}
	if err != nil {
		return run, fmt.Errorf("virtual clock: %w", err)
	}
	// Points lie end to end on the virtual timeline, a second apart.
	v.clock = base.Add(run.Span + time.Second)
	if emit != nil {
		for _, r := range recs {
			emit(r)
		}
	}
	return run, nil
}

// mentionsUser reports whether t names the session's user label (before its
// document, when beforeDoc).
func mentionsUser(t spec.Template, beforeDoc bool) bool {
	for _, p := range t {
		switch {
		case p.Kind == spec.PartDocument && beforeDoc:
			return false
		case p.Kind == spec.PartUser:
			return true
		}
	}
	return false
}

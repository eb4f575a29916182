package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/closedloop"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

// Session is one user session of a virtual-clock run. Its conversation is a
// token stream that only grows at its end: turn k's prompt is turn k-1's
// prompt, its answer, and turn k's new tokens.
type Session struct {
	// Name is the session's label, copied to Record.Session (e.g. "c1s2").
	Name string
	// Document is the document's id, copied to Record.Document. Sessions of
	// one run with the same Document share their first DocumentTokens
	// tokens, so one's cached blocks serve the other.
	Document string
	// DocumentTokens is how many leading tokens of turn 0 depend only on the
	// document: the opening template up to and including the document text.
	// The rest of turn 0 is private to the session.
	DocumentTokens int
	// Turns in order; Turns[0] is the opening turn.
	Turns []Turn
}

// Turn is one request of a session.
type Turn struct {
	// ID is copied to Record.ID; empty gives "<session>-t<k>".
	ID string
	// NewTokens is what the turn adds to the history before the model
	// answers: for turn 0 the whole opening prompt (DocumentTokens included,
	// with any system message and chat-template tokens); for a later turn
	// the question with the template tokens around it (those closing the
	// previous answer included).
	NewTokens int
	// MaxTokens is the answer length; exactly this many tokens are generated.
	MaxTokens int
}

// Token overheads of the real-clock server's chat template (ChatML; each
// marker is one token, and "user\n", "assistant\n", "system\n" are two
// tokens in cl100k_base and o200k_base). They let a virtual-clock plan
// count prompts exactly as the HTTP server does.
const (
	// MessageOverhead: <|im_start|> role "\n" … <|im_end|> "\n" around a
	// message's content.
	MessageOverhead = 5
	// GenerationPrompt: <|im_start|> assistant "\n" closing every prompt.
	GenerationPrompt = 3
)

// OpeningTokens is turn 0's NewTokens for a chat opening of opening
// content tokens after an optional system message of system tokens (0: none).
func OpeningTokens(system, opening int) int {
	n := opening + MessageOverhead + GenerationPrompt
	if system > 0 {
		n += system + MessageOverhead
	}
	return n
}

// FollowUpTokens is a later turn's NewTokens for a question of question
// tokens: the end of the previous answer's message (<|im_end|> "\n"), the
// question's message and the generation prompt.
func FollowUpTokens(question int) int {
	return 2 + question + MessageOverhead + GenerationPrompt
}

// DocumentPrefixTokens is DocumentTokens for an opening whose content
// starts with before tokens and then the document's: everything up to the
// document's end depends only on the document (for a fixed template).
func DocumentPrefixTokens(system, before, document int) int {
	n := 1 + 2 + before + document // <|im_start|> user "\n"
	if system > 0 {
		n += system + MessageOverhead
	}
	return n
}

// stream is a session's token stream as chained block hashes: hashes of
// the full blocks so far, plus the running hash and fill of the partial
// block at the end.
type stream struct {
	block  int
	hashes []uint64
	cur    uint64
	fill   int
	tokens int
}

// appendSegment adds n tokens that are the segment keyed key, offsets 0..n-1.
// A block's hash mixes, for each segment piece inside it, the key, the
// offset and the length, chained from the previous block's hash, so equal
// hashes mean equal token identities at equal positions after equal
// prefixes.
func (s *stream) appendSegment(key uint64, n int) {
	off := 0
	for n > 0 {
		m := min(n, s.block-s.fill)
		s.cur = engine.Mix(engine.Mix(engine.Mix(s.cur, key), uint64(off)), uint64(m))
		s.fill += m
		s.tokens += m
		off += m
		n -= m
		if s.fill == s.block {
			s.hashes = append(s.hashes, s.cur)
			s.fill = 0
		}
	}
}

func keyOf(parts ...string) uint64 {
	h := uint64(0x6d72716173696d) // "mrqasim"
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h = engine.Mix(h, uint64(p[i]))
		}
		h = engine.Mix(h, 0xff)
	}
	return h
}

// Segment kinds in a session's stream.
const (
	segPrivateOpening = "opening"
	segQuestion       = "question"
	segAnswer         = "answer"
)

type slotState struct {
	sess   *Session
	stream stream
	loop   closedloop.Session
}

type workerState struct {
	slots []slotState
	turn  int // the round being served
	slot  int // next slot to try in this round
}

// nextTurn returns the next (slot, turn) of the worker in the closed-loop
// order: every session's turn t before any turn t+1.
func (w *workerState) nextTurn() (int, int, bool) {
	for {
		maxTurns := 0
		for _, s := range w.slots {
			maxTurns = max(maxTurns, len(s.sess.Turns))
		}
		if w.turn >= maxTurns {
			return 0, 0, false
		}
		for w.slot < len(w.slots) {
			s := w.slot
			w.slot++
			if w.turn < len(w.slots[s].sess.Turns) {
				return s, w.turn, true
			}
		}
		w.turn++
		w.slot = 0
	}
}

// inflight is a request in the engine: its record's index, its worker, the
// closed-loop action that sent it, the session's history if it succeeds,
// and when its last event came.
type inflight struct {
	req     engine.Request
	rec     int
	worker  int
	act     closedloop.Action
	pending stream
	last    time.Duration
}

// withTurn returns the session's history s extended by turn k's new tokens
// and its answer, and the turn's prompt length. s is not changed: the
// caller keeps the result only if the turn succeeds.
func withTurn(s stream, sess *Session, k int) (stream, int) {
	s.hashes = s.hashes[:len(s.hashes):len(s.hashes)]
	turn := sess.Turns[k]
	if k == 0 {
		s.appendSegment(keyOf("document", sess.Document), sess.DocumentTokens)
		s.appendSegment(keyOf(segPrivateOpening, sess.Name), turn.NewTokens-sess.DocumentTokens)
	} else {
		s.appendSegment(keyOf(segQuestion, sess.Name, fmt.Sprint(k)), turn.NewTokens)
	}
	prompt := s.tokens
	s.appendSegment(keyOf(segAnswer, sess.Name, fmt.Sprint(k)), turn.MaxTokens)
	return s, prompt
}

// progress writes what engine step ending at now did for r into its record
// as a client reading the stream would see it (tokens come per tokens
// per event), and reports whether r has finished.
func (f *inflight) progress(rec *metrics.Record, r *engine.Request, now time.Duration, per int) bool {
	if r.Generated%per != 0 && !r.Done {
		return false // the token waits for the rest of its event
	}
	if rec.Chunks == 0 {
		rec.TTFT = (now - r.Arrival).Seconds()
		rec.TTFC = rec.TTFT
	} else if gap := (now - f.last).Seconds(); gap > rec.MaxChunkGap {
		rec.MaxChunkGap = gap
	}
	rec.Chunks++
	f.last = now
	if !r.Done {
		return false
	}
	rec.End = (now - r.Arrival).Seconds()
	rec.Duration = rec.End
	rec.CompletionTokens = r.Generated
	rec.CachedTokens = r.CachedTokens
	return true
}

// turnID is a turn's record id: Turn.ID, or "<session>-t<k>" when empty.
func turnID(sess *Session, k int) string {
	if id := sess.Turns[k].ID; id != "" {
		return id
	}
	return fmt.Sprintf("%s-t%d", sess.Name, k)
}

// maxSteps guards the virtual loop against a model that stops progressing.
const maxSteps = 1 << 28

// Observer samples the engine's stats on the virtual clock, as a scraper of
// /metrics would on the real one: at time 0, then whenever Every of
// simulated time has passed (at the end of the step that crosses it), and
// at the end.
type Observer struct {
	Every   time.Duration
	Observe func(now time.Duration, st engine.Stats)
}

// sampler calls an Observer on its schedule.
type sampler struct {
	obs  *Observer
	eng  *engine.Engine
	next time.Duration
}

// sample observes the engine at now if a sample is due, or always when force.
func (s *sampler) sample(now time.Duration, force bool) {
	if s.obs == nil || s.obs.Observe == nil || (!force && now < s.next) {
		return
	}
	s.obs.Observe(now, s.eng.Stats())
	if every := s.obs.Every; every > 0 {
		for s.next <= now {
			s.next += every
		}
	} else {
		s.next = now + time.Second
	}
}

// RunVirtual runs one grid point on a simulated clock: C = len(workers)
// closed-loop workers, each serving its sessions strictly in turn (turn 0 of
// every session, then turn 1, ...), one request in flight per worker, no
// think time, starting together at time 0 on a fresh engine. It returns one
// Record per turn in the order the turns were issued, with times in seconds
// from the point's start (Start) and from each request's start (TTFT, TTFC,
// End). A turn longer than max_model_len gets error "http_400" at once and
// is left out of its session's history, as the live client does. Once ctx
// ends the run stops between two engine steps and returns ctx's error. obs,
// when not nil, samples the engine's stats along the way.
func RunVirtual(ctx context.Context, cfg engine.Config, workers [][]Session, obs *Observer) ([]metrics.Record, error) {
	eng, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	cfg = eng.Config()
	ws := make([]workerState, len(workers))
	total := 0
	for w, sessions := range workers {
		ws[w].slots = make([]slotState, len(sessions))
		for s := range sessions {
			sess := &workers[w][s]
			if len(sess.Turns) > 0 && (sess.DocumentTokens < 0 || sess.DocumentTokens > sess.Turns[0].NewTokens) {
				return nil, fmt.Errorf("session %s: document_tokens %d must be within turn 0's %d tokens", sess.Name, sess.DocumentTokens, sess.Turns[0].NewTokens)
			}
			ws[w].slots[s] = slotState{sess: sess, stream: stream{block: cfg.BlockSize}}
			total += len(sess.Turns)
		}
	}
	records := make([]metrics.Record, 0, total)
	var now time.Duration

	// issue submits the worker's next request at now, following the
	// closed-loop rules: a session whose opening has not succeeded re-sends
	// it and its question turn is recorded as not asked. Requests rejected
	// at once are recorded and the worker moves on.
	issue := func(w int) error {
		for {
			slot, k, ok := ws[w].nextTurn()
			if !ok {
				return nil
			}
			st := &ws[w].slots[slot]
			sess := st.sess
			act := st.loop.Next(k)
			if act.Skipped {
				rec := metrics.Record{ID: turnID(sess, k), Worker: w, Slot: slot, Session: sess.Name, Document: sess.Document, Turn: k, Start: now.Seconds()}
				closedloop.Skip(&rec)
				records = append(records, rec)
			}
			if act.Opening {
				k = 0
			}
			turn := sess.Turns[k]
			rec := metrics.Record{ID: turnID(sess, k), Worker: w, Slot: slot, Session: sess.Name, Document: sess.Document, Turn: k, Start: now.Seconds()}
			if act.Attempt > 1 {
				rec.ID += fmt.Sprintf("-a%d", act.Attempt)
				rec.Attempt = act.Attempt
			}
			s, prompt := withTurn(st.stream, sess, k) // committed only if the turn succeeds
			rec.PromptTokens = prompt
			records = append(records, rec)
			f := &inflight{rec: len(records) - 1, worker: w, act: act, pending: s}
			f.req = engine.Request{ID: rec.ID, PromptTokens: prompt, MaxTokens: turn.MaxTokens, Hashes: s.hashes, Tag: f}
			err := eng.Submit(&f.req, now)
			if err == nil {
				return nil
			}
			var ce *engine.ContextError
			switch {
			case errors.As(err, &ce), errors.Is(err, engine.ErrTooBig):
				records[f.rec].Error = "http_400"
				records[f.rec].Message = err.Error()
				st.loop.Done(act, false)
			default:
				return fmt.Errorf("virtual clock: %w", err)
			}
		}
	}
	for w := range ws {
		if err := issue(w); err != nil {
			return nil, err
		}
	}
	per := cfg.TokensPerEvent
	smp := sampler{obs: obs, eng: eng}
	smp.sample(now, true)
	defer func() { smp.sample(now, true) }()
	done := ctx.Done()
	for steps := 0; !eng.Idle(); steps++ {
		if steps > maxSteps {
			return nil, fmt.Errorf("virtual clock: no end after %d steps", maxSteps)
		}
		select { // a step takes microseconds to milliseconds: look every time
		case <-done:
			return nil, fmt.Errorf("stopped after %v of simulated time: %w", now, ctx.Err())
		default:
		}
		d, prog := eng.Step(now)
		now += d
		smp.sample(now, false)
		for _, r := range prog {
			f := r.Tag.(*inflight)
			rec := &records[f.rec]
			if !f.progress(rec, r, now, per) {
				continue
			}
			st := &ws[f.worker].slots[rec.Slot]
			st.stream = f.pending
			st.loop.Done(f.act, true)
			if err := issue(f.worker); err != nil {
				return nil, err
			}
		}
	}
	return records, nil
}

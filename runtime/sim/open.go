package sim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/closedloop"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

// OpenSession is a session of an open-loop run: it arrives at Arrival,
// sends its opening at once, and sends turn k (k ≥ 1) Think[k-1] after
// turn k-1's answer ended.
type OpenSession struct {
	Session
	Arrival time.Duration
	Think   []time.Duration
}

// DroppedMessage is the message of a turn recorded as metrics.ErrDropped.
const DroppedMessage = "not sent: the session arrived while max_active sessions were active"

// RunOpen runs one open-loop point on a simulated clock on a fresh engine.
// Sessions start at their arrival times whatever the engine is doing: a
// slow engine builds a queue, it never delays an arrival. A session is
// active from its arrival until its last answer ends; one arriving while
// maxActive are active (0: no bound) is dropped, and each of its turns is
// recorded as metrics.ErrDropped. A session whose opening fails leaves:
// its later turns are recorded as metrics.ErrOpeningFailed, never sent. A
// failed follow-up is left out of the history and the session goes on.
//
// Records come in the order turns were issued (a dropped session's at its
// arrival), with Start in seconds from the point's start, Slot the
// session's index in sessions, and Worker 0. Requests arriving during an
// engine step join the next one, as on a live server. ctx and obs act as
// in RunVirtual.
func RunOpen(ctx context.Context, cfg engine.Config, sessions []OpenSession, maxActive int, obs *Observer) ([]metrics.Record, error) {
	r, err := newOpenRun(cfg, sessions, maxActive, obs)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// openRun is RunOpen's state.
type openRun struct {
	eng       *engine.Engine
	sessions  []OpenSession
	streams   []stream
	maxActive int
	active    int
	next      int       // the next session to arrive
	due       turnQueue // follow-ups waiting for their time
	records   []metrics.Record
	now       time.Duration
	smp       sampler
}

func newOpenRun(cfg engine.Config, sessions []OpenSession, maxActive int, obs *Observer) (*openRun, error) {
	eng, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	r := &openRun{eng: eng, sessions: sessions, streams: make([]stream, len(sessions)), maxActive: maxActive}
	r.smp = sampler{obs: obs, eng: eng}
	for i := range sessions {
		s := &sessions[i]
		if i > 0 && s.Arrival < sessions[i-1].Arrival {
			return nil, fmt.Errorf("session %s arrives at %v, before %s at %v: sessions must be in arrival order", s.Name, s.Arrival, sessions[i-1].Name, sessions[i-1].Arrival)
		}
		if len(s.Turns) == 0 || len(s.Think) < len(s.Turns)-1 {
			return nil, fmt.Errorf("session %s: %d turns need at least one turn and %d think times, not %d", s.Name, len(s.Turns), max(len(s.Turns)-1, 0), len(s.Think))
		}
		if s.DocumentTokens < 0 || s.DocumentTokens > s.Turns[0].NewTokens {
			return nil, fmt.Errorf("session %s: document_tokens %d must be within turn 0's %d tokens", s.Name, s.DocumentTokens, s.Turns[0].NewTokens)
		}
		r.streams[i] = stream{block: eng.Config().BlockSize}
	}
	return r, nil
}

func (r *openRun) run(ctx context.Context) ([]metrics.Record, error) {
	per := r.eng.Config().TokensPerEvent
	r.smp.sample(0, true)
	defer func() { r.smp.sample(r.now, true) }()
	done := ctx.Done()
	for steps := 0; ; steps++ {
		if steps > maxSteps {
			return nil, fmt.Errorf("virtual clock: no end after %d steps", maxSteps)
		}
		select {
		case <-done:
			return nil, fmt.Errorf("stopped after %v of simulated time: %w", r.now, ctx.Err())
		default:
		}
		if r.eng.Idle() {
			at, ok := r.nextEvent()
			if !ok {
				return r.records, nil
			}
			r.now = max(r.now, at)
		}
		if err := r.startDue(); err != nil {
			return nil, err
		}
		d, prog := r.eng.Step(r.now)
		r.now += d
		r.smp.sample(r.now, false)
		// Sessions arriving during the step are admitted against those
		// active then: the ones this step finishes were still active.
		if err := r.arriveBefore(r.now); err != nil {
			return nil, err
		}
		for _, req := range prog {
			f := req.Tag.(*inflight)
			if f.progress(&r.records[f.rec], req, r.now, per) {
				r.finished(f, true)
			}
		}
	}
}

// nextEvent is the time of the next arrival or follow-up, if any.
func (r *openRun) nextEvent() (time.Duration, bool) {
	at, ok := time.Duration(0), false
	if r.next < len(r.sessions) {
		at, ok = r.sessions[r.next].Arrival, true
	}
	if len(r.due) > 0 && (!ok || r.due[0].at < at) {
		at, ok = r.due[0].at, true
	}
	return at, ok
}

// startDue sends, in time order, every arrival and follow-up due by now,
// each submitted at its own time.
func (r *openRun) startDue() error {
	for {
		at, ok := r.nextEvent()
		if !ok || at > r.now {
			return nil
		}
		if r.next < len(r.sessions) && r.sessions[r.next].Arrival == at {
			i := r.next
			r.next++
			if err := r.arrive(i); err != nil {
				return err
			}
			continue
		}
		t := heap.Pop(&r.due).(dueTurn)
		if err := r.send(t.session, t.turn, t.at); err != nil {
			return err
		}
	}
}

// arriveBefore admits (or drops) every session arriving before t; each
// opening is submitted at its own arrival time.
func (r *openRun) arriveBefore(t time.Duration) error {
	for r.next < len(r.sessions) && r.sessions[r.next].Arrival < t {
		i := r.next
		r.next++
		if err := r.arrive(i); err != nil {
			return err
		}
	}
	return nil
}

// arrive starts session i at its arrival, or drops it.
func (r *openRun) arrive(i int) error {
	s := &r.sessions[i]
	if r.maxActive > 0 && r.active >= r.maxActive {
		for k := range s.Turns {
			rec := r.record(i, k, s.Arrival)
			rec.Error, rec.Message = metrics.ErrDropped, DroppedMessage
			r.records = append(r.records, rec)
		}
		return nil
	}
	r.active++
	return r.send(i, 0, s.Arrival)
}

func (r *openRun) record(i, k int, at time.Duration) metrics.Record {
	s := &r.sessions[i].Session
	return metrics.Record{ID: turnID(s, k), Slot: i, Session: s.Name, Document: s.Document, Turn: k, Start: at.Seconds()}
}

// send submits turn k of session i at time at (≤ now). A turn the engine
// rejects at once is recorded as failed.
func (r *openRun) send(i, k int, at time.Duration) error {
	sess := &r.sessions[i].Session
	rec := r.record(i, k, at)
	s, prompt := withTurn(r.streams[i], sess, k)
	rec.PromptTokens = prompt
	r.records = append(r.records, rec)
	f := &inflight{rec: len(r.records) - 1, worker: i, pending: s}
	if k == 0 {
		f.act = closedloop.Action{Opening: true, Attempt: 1}
	}
	f.req = engine.Request{ID: rec.ID, PromptTokens: prompt, MaxTokens: sess.Turns[k].MaxTokens, Hashes: s.hashes, Tag: f}
	err := r.eng.Submit(&f.req, at)
	var ce *engine.ContextError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce), errors.Is(err, engine.ErrTooBig):
		r.records[f.rec].Error = "http_400"
		r.records[f.rec].Message = err.Error()
		r.finishedAt(f, false, at)
		return nil
	default:
		return fmt.Errorf("virtual clock: %w", err)
	}
}

// finished moves a session on after one of its turns ended now.
func (r *openRun) finished(f *inflight, ok bool) { r.finishedAt(f, ok, r.now) }

// finishedAt moves session f.worker on after its turn ended at end: the
// next turn after its think time, or the session leaves. A failed opening
// ends the session, its other turns recorded as not asked.
func (r *openRun) finishedAt(f *inflight, ok bool, end time.Duration) {
	i, k := f.worker, r.records[f.rec].Turn
	s := &r.sessions[i]
	if ok {
		r.streams[i] = f.pending
	}
	if k == 0 && !ok {
		for j := 1; j < len(s.Turns); j++ {
			rec := r.record(i, j, end)
			closedloop.Skip(&rec)
			r.records = append(r.records, rec)
		}
		r.active--
		return
	}
	if k+1 == len(s.Turns) {
		r.active--
		return
	}
	heap.Push(&r.due, dueTurn{at: end + s.Think[k], session: i, turn: k + 1})
}

// dueTurn is a follow-up waiting for its user to finish thinking.
type dueTurn struct {
	at            time.Duration
	session, turn int
}

// turnQueue is a min-heap of follow-ups by time, then session.
type turnQueue []dueTurn

func (q turnQueue) Len() int { return len(q) }
func (q turnQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].session < q[j].session
}
func (q turnQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *turnQueue) Push(x any)   { *q = append(*q, x.(dueTurn)) }
func (q *turnQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

package runtime

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/closedloop"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/sim"
)

// RunOpen runs an open-loop point on the real clock: each session starts at
// its arrival time on a connection of its own, whatever the server is
// doing, so a slow server builds a queue of sessions and never delays an
// arrival. Between turns a session sleeps its think time. A session that
// arrives while p.MaxActive are active is dropped, each of its turns
// recorded as metrics.ErrDropped; one whose opening fails leaves, its
// questions recorded as metrics.ErrOpeningFailed. Once ctx ends, arrivals
// stop and every turn not sent is recorded as canceled.
func (e *HTTPExecutor) RunOpen(ctx context.Context, p *OpenPoint, emit func(metrics.Record)) (Execution, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	col := e.newCollector(cancel, emit, p.Requests())
	var (
		wg     sync.WaitGroup
		active atomic.Int64
	)
	epoch := time.Now()
	for i := range p.Sessions {
		s := &p.Sessions[i]
		waitUntil(ctx, epoch.Add(s.Arrival))
		switch {
		case ctx.Err() != nil:
			e.emitUnsent(p, s, 0, epoch, s.Arrival, col.add, metrics.ErrCanceled, "not sent: run stopped")
		case p.MaxActive > 0 && active.Load() >= int64(p.MaxActive):
			e.emitUnsent(p, s, 0, epoch, s.Arrival, col.add, metrics.ErrDropped, sim.DroppedMessage)
		default:
			active.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer active.Add(-1)
				e.openSession(ctx, p, s, epoch, col.add)
			}()
		}
	}
	wg.Wait()
	return col.execution(ctx, epoch)
}

// openSession runs one session: the opening at once, each follow-up its
// think time after the previous answer.
func (e *HTTPExecutor) openSession(ctx context.Context, p *OpenPoint, s *OpenSession, epoch time.Time, emit func(metrics.Record)) {
	conn := e.Client.NewConn()
	defer conn.Close()
	var hist []openai.Message
	if len(e.Script.System) > 0 {
		hist = append(hist, openai.Message{Role: "system", Parts: e.parts(e.Script.System, &s.Session, 0)})
	}
	for turn := 0; turn <= p.Rounds; turn++ {
		if turn > 0 {
			waitUntil(ctx, time.Now().Add(s.Think[turn-1]))
		}
		if ctx.Err() != nil {
			e.emitUnsent(p, s, turn, epoch, time.Since(epoch), emit, metrics.ErrCanceled, "not sent: run stopped")
			return
		}
		rec := e.openRecord(p, s, turn)
		msgs := append(hist[:len(hist):len(hist)], e.userMessage(&s.Session, turn))
		res := conn.Do(ctx, openai.Request{ID: rec.ID, Messages: msgs, MaxTokens: e.Script.MaxTokens, Temperature: e.Script.Temperature})
		fillRecord(&rec, &res, epoch, time.Now())
		emit(rec)
		switch {
		case res.ErrKind == "":
			hist = append(msgs, openai.Message{Role: "assistant", Parts: []*openai.Text{openai.NewText(res.Content)}})
		case turn == 0:
			for k := 1; k <= p.Rounds; k++ {
				skip := e.openRecord(p, s, k)
				skip.Start = time.Since(epoch).Seconds()
				closedloop.Skip(&skip)
				emit(skip)
			}
			return
		}
	}
}

// emitUnsent records turns from..rounds of a session as never sent, with
// error kind and message, starting at (from the point's epoch).
func (e *HTTPExecutor) emitUnsent(p *OpenPoint, s *OpenSession, from int, epoch time.Time, at time.Duration, emit func(metrics.Record), kind, msg string) {
	for k := from; k <= p.Rounds; k++ {
		rec := e.openRecord(p, s, k)
		rec.Start = at.Seconds()
		rec.Error, rec.Message = kind, msg
		emit(rec)
	}
}

// openRecord starts the record of one turn of an open-loop session; its
// X-Request-Id names the run, the rate and the session.
func (e *HTTPExecutor) openRecord(p *OpenPoint, s *OpenSession, turn int) metrics.Record {
	id := e.RunID + "-r" + strconv.FormatFloat(p.Rate, 'g', -1, 64) + "-" + s.Label + "-t" + strconv.Itoa(turn)
	return metrics.Record{ID: id, Slot: s.Slot, Session: s.Label, Document: s.Doc.ID, Turn: turn}
}

// waitUntil sleeps until t or until ctx ends.
func waitUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// collector gathers a point's records from many goroutines and watches
// them for a target that went down.
type collector struct {
	e      *HTTPExecutor
	cancel context.CancelFunc
	emit   func(metrics.Record)
	mu     sync.Mutex
	recs   []metrics.Record
	down   atomic.Bool
}

func (e *HTTPExecutor) newCollector(cancel context.CancelFunc, emit func(metrics.Record), n int) *collector {
	return &collector{e: e, cancel: cancel, emit: emit, recs: make([]metrics.Record, 0, n)}
}

// add keeps one record: a run of requests without an answer as long as
// DownAfter stops the point; an answered one ends the run.
func (c *collector) add(r metrics.Record) {
	if metrics.CountsTowardDown(r.Error) {
		if n := c.e.failRun.Add(1); c.e.DownAfter > 0 && n >= int64(c.e.DownAfter) {
			c.down.Store(true)
			c.cancel()
		}
	} else if r.Error != metrics.ErrCanceled && r.Sent() {
		c.e.failRun.Store(0)
	}
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	if c.emit != nil {
		c.emit(r)
	}
}

// execution is the point as run, with ErrTargetDown when the target went
// down during it, or ctx's error when the run was stopped.
func (c *collector) execution(ctx context.Context, epoch time.Time) (Execution, error) {
	run := Execution{Records: c.recs, Epoch: epoch, Span: time.Since(epoch)}
	if c.down.Load() {
		return run, fmt.Errorf("%w: %d consecutive requests got no answer (connection failures or timeouts)", ErrTargetDown, c.e.failRun.Load())
	}
	return run, ctx.Err()
}

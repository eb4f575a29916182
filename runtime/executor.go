package runtime

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/closedloop"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Executor runs one grid point and reports every request's record.
type Executor interface {
	// RunPoint runs the point to completion (or until ctx ends) and returns
	// what the sweep needs of it. emit, when non-nil, sees each record as it
	// completes (for progress). A target found down returns ErrTargetDown
	// with the records so far.
	RunPoint(ctx context.Context, p *Point, emit func(metrics.Record)) (Execution, error)
}

// Execution is one point as an executor ran it.
type Execution struct {
	Records []metrics.Record
	// Epoch is when the point's clock started (every record's Start counts
	// from it) and Span how long the point took on that clock: real time
	// after the connections were warm, or simulated time.
	Epoch time.Time
	Span  time.Duration
	// Simulated is true on the virtual clock: the point started on an empty
	// cache, its scrapes are the engine's own, taken on the simulated
	// timeline between Epoch and Epoch+Span.
	Simulated bool
}

// ErrTargetDown means N consecutive requests got no answer (connection
// failures, or timeouts of a server that accepts and never answers): the
// sweep stops, resumably.
var ErrTargetDown = errors.New("target is down")

// HTTPExecutor drives an OpenAI-compatible server with the closed loop that
// docs/architecture.md describes: C workers, each serving its S sessions
// strictly in turn, one request in flight per worker, the full history
// resent every turn.
type HTTPExecutor struct {
	Client    *openai.Client
	Script    *spec.Script
	RunID     string // prefix of every X-Request-Id
	DownAfter int    // consecutive requests without an answer that mean the target is down

	mu   sync.Mutex
	docs map[string]*openai.Text // each document escaped once per run
	// failRun counts consecutive requests without an answer across workers
	// and points: a target that went down between points is caught too.
	failRun atomic.Int64
}

// docText is the run's escaped copy of a document, made on first use. The
// executor takes the document's text then: it empties d.Text, so a run keeps
// each document in one form, escaped (a 128k-token document is about half a
// megabyte). Nothing else reads a document's text once its run has begun.
func (e *HTTPExecutor) docText(d *corpus.Document) *openai.Text {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.docs == nil {
		e.docs = map[string]*openai.Text{}
	}
	t, ok := e.docs[d.ID]
	if !ok {
		t = openai.NewText(d.Text)
		e.docs[d.ID] = t
		d.Text = ""
	}
	return t
}

// parts renders a template for a session into shared texts: literal runs
// become new texts, the document is the run's shared escaped copy.
func (e *HTTPExecutor) parts(t spec.Template, sess *Session, round int) []*openai.Text {
	var out []*openai.Text
	expand(t, sess, round,
		func(s string) { out = append(out, openai.NewText(s)) },
		func() { out = append(out, e.docText(sess.Doc)) })
	return out
}

// RunPoint implements Executor.
func (e *HTTPExecutor) RunPoint(ctx context.Context, p *Point, emit func(metrics.Record)) (Execution, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Connections are opened before the point's clock starts.
	conns := make([]*openai.Conn, p.C)
	for w := range conns {
		conns[w] = e.Client.NewConn()
		defer conns[w].Close()
	}
	// A connection that cannot be opened is not fatal here: the requests
	// record connect errors and down detection decides.
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = conns[w].Warm(ctx)
		}()
	}
	wg.Wait()

	col := e.newCollector(cancel, emit, p.Requests())
	epoch := time.Now()
	for w := 0; w < p.C; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.worker(ctx, p, w, conns[w], epoch, col.add)
		}()
	}
	wg.Wait()
	return col.execution(ctx, epoch)
}

// worker serves one worker's sessions strictly in turn, following the
// closed-loop rules of package closedloop.
func (e *HTTPExecutor) worker(ctx context.Context, p *Point, w int, conn *openai.Conn, epoch time.Time, emit func(metrics.Record)) {
	sessions := p.Workers[w]
	hist := make([][]openai.Message, len(sessions))
	loop := make([]closedloop.Session, len(sessions))
	for slot := range sessions {
		if len(e.Script.System) > 0 {
			hist[slot] = append(hist[slot], openai.Message{Role: "system", Parts: e.parts(e.Script.System, &sessions[slot], 0)})
		}
	}
	for turn := 0; turn <= p.Rounds; turn++ {
		for slot := range sessions {
			sess := &sessions[slot]
			if ctx.Err() != nil {
				rec := e.record(p, w, sess, turn, 0)
				rec.Start = time.Since(epoch).Seconds()
				rec.Error, rec.Message = metrics.ErrCanceled, "not sent: run stopped"
				emit(rec)
				continue
			}
			act := loop[slot].Next(turn)
			if act.Skipped {
				rec := e.record(p, w, sess, turn, 0)
				rec.Start = time.Since(epoch).Seconds()
				closedloop.Skip(&rec)
				emit(rec)
			}
			sent := turn
			if act.Opening {
				sent = 0
			}
			rec := e.record(p, w, sess, sent, act.Attempt)
			msgs := append(hist[slot][:len(hist[slot]):len(hist[slot])], e.userMessage(sess, sent))
			res := conn.Do(ctx, openai.Request{ID: rec.ID, Messages: msgs, MaxTokens: e.Script.MaxTokens, Temperature: e.Script.Temperature})
			done := time.Now()
			fillRecord(&rec, &res, epoch, done)
			emit(rec)
			loop[slot].Done(act, res.ErrKind == "")
			if res.ErrKind == "" {
				// The exchange joins the history; a failed one is left out.
				hist[slot] = append(msgs, openai.Message{Role: "assistant", Parts: []*openai.Text{openai.NewText(res.Content)}})
			}
		}
	}
}

// userMessage is the session's user message for turn (0 = the opening).
func (e *HTTPExecutor) userMessage(sess *Session, turn int) openai.Message {
	if turn == 0 {
		return openai.Message{Role: "user", Parts: e.parts(e.Script.Opening, sess, 0)}
	}
	q := e.Script.Questions[(turn-1)%len(e.Script.Questions)]
	return openai.Message{Role: "user", Parts: e.parts(q, sess, turn)}
}

// record starts the record of one turn; attempt > 1 marks a resent opening,
// whose X-Request-Id gains an "-a<attempt>" suffix so every id stays unique.
func (e *HTTPExecutor) record(p *Point, w int, sess *Session, turn, attempt int) metrics.Record {
	id := e.RunID + "-c" + strconv.Itoa(p.C) + "s" + strconv.Itoa(p.S) + "-" + sess.Label + "-t" + strconv.Itoa(turn)
	if attempt > 1 {
		id += "-a" + strconv.Itoa(attempt)
	} else {
		attempt = 0
	}
	return metrics.Record{ID: id, Worker: w, Slot: sess.Slot, Session: sess.Label, Document: sess.Doc.ID, Turn: turn, Attempt: attempt}
}

func fillRecord(rec *metrics.Record, res *openai.Result, epoch, done time.Time) {
	rec.Start = res.Start.Sub(epoch).Seconds()
	rec.Duration = done.Sub(res.Start).Seconds()
	rec.Connect = res.Connect.Seconds()
	rec.Write = res.Write.Seconds()
	rec.TTFT = res.TTFT.Seconds()
	rec.TTFC = res.TTFC.Seconds()
	rec.End = res.End.Seconds()
	rec.PromptTokens = res.PromptTokens
	rec.CompletionTokens = res.CompletionTokens
	rec.CachedTokens = res.CachedTokens
	rec.ClientCounted = res.ClientCounted
	// Rejected usage measured nothing about the cache either.
	rec.CachedUnknown = !res.CachedReported || res.UsageInvalid != ""
	rec.UsageInvalid = res.UsageInvalid
	rec.Chunks = res.Chunks
	rec.MaxChunkGap = res.MaxChunkGap.Seconds()
	rec.Error = res.ErrKind
	rec.Message = res.ErrMessage
}

package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// Message is one chat message; its content is the concatenation of Parts
// (for an opening turn: prefix, document, suffix).
type Message struct {
	Role  string
	Parts []*Text
}

// Request is one streamed completion.
type Request struct {
	ID          string // sent as X-Request-Id
	Messages    []Message
	MaxTokens   int // 0: not sent (the server's default)
	Temperature float64
	// PromptTokens, when > 0, is the prompt's size used if the server sends
	// no usage; otherwise the Counter counts the messages' text.
	PromptTokens int
}

// Result is one request as the client saw it. Durations are from Start on the
// monotonic clock; 0 means the moment never came. On failure the fields keep
// what was observed before it.
type Result struct {
	Start          time.Time     // taken just before the HTTP call; carries a monotonic reading
	Connect, Write time.Duration // connection ready (0 when reused), request fully written
	TTFT, TTFC     time.Duration // first generated text on any channel; first content
	End            time.Duration // last generated-text event (not the usage chunk)

	PromptTokens, CompletionTokens, CachedTokens int
	Usage                                        bool // the server sent usage
	CachedReported                               bool // its usage had prompt_tokens_details.cached_tokens
	ClientCounted                                bool // the token counts are the Counter's
	// UsageInvalid says why the server's usage cannot be true (see
	// checkUsage); the counts are kept as sent, for inspection.
	UsageInvalid string

	Chunks      int           // events carrying generated text
	MaxChunkGap time.Duration // longest gap between two of them
	Events      int           // data events decoded, [DONE] excluded

	Content string // the content channel's text

	ErrKind, ErrMessage string // "" on success; kinds are runtime/metrics' Err* and "http_<status>"
}

// ITL is the per-request inter-token latency (End−TTFT)/(CompletionTokens−1),
// 0 when undefined.
func (r *Result) ITL() time.Duration {
	if r.CompletionTokens < 2 || r.TTFT <= 0 || r.End < r.TTFT {
		return 0
	}
	return (r.End - r.TTFT) / time.Duration(r.CompletionTokens-1)
}

// warmLimit bounds Warm unless FirstTokenTimeout is longer.
const warmLimit = 30 * time.Second

// drainGrace is how long a stream may stay open after [DONE] before its
// connection is dropped; the result is final at [DONE] either way.
const drainGrace = 100 * time.Millisecond

// Conn is one worker's connection: a keep-alive HTTP/1.1 connection used by
// one request at a time. Do and Warm must not be called concurrently.
type Conn struct {
	c  *Client
	tr *http.Transport
	rd *sseReader
}

// NewConn makes a connection holder; nothing is dialled until Warm or Do.
func (c *Client) NewConn() *Conn {
	return &Conn{c: c, tr: c.newTransport(1)}
}

// Close drops the connection.
func (cn *Conn) Close() { cn.tr.CloseIdleConnections() }

// Warm opens the connection (GET /v1/models over it) so that a point's first
// request does not pay for the dial. Any HTTP status will do.
func (cn *Conn) Warm(ctx context.Context) error {
	return cn.c.scrubErr(cn.warm(ctx))
}

func (cn *Conn) warm(ctx context.Context) error {
	// A server that accepts but never answers must not hang the point.
	ctx, cancel := context.WithTimeout(ctx, max(warmLimit, cn.c.cfg.FirstTokenTimeout))
	defer cancel()
	u := cn.c.base + "/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	req.Header = cn.c.header.Clone()
	resp, err := cn.tr.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("warm: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	// Read to the end so the connection goes back to the pool.
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20)); err != nil {
		return fmt.Errorf("warm: GET %s: %w", u, err)
	}
	return nil
}

// Timer verdicts.
const (
	firedNone = iota
	firedFirst
	firedIdle
	firedDrain
	firedTotal
)

// reqState is one request's shared state: the httptrace hooks and timers run
// on other goroutines, hence the atomics.
type reqState struct {
	start   time.Time
	gotConn atomic.Int64 // ns from start; -1: not yet
	wrote   atomic.Int64
	reused  atomic.Bool
	fired   atomic.Int32
	cancel  context.CancelFunc
}

func (rs *reqState) fire(kind int32) {
	if rs.fired.CompareAndSwap(firedNone, kind) {
		rs.cancel()
	}
}

func (rs *reqState) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			rs.reused.Store(info.Reused)
			rs.gotConn.Store(int64(time.Since(rs.start)))
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			rs.wrote.Store(int64(time.Since(rs.start)))
		},
	}
}

// phases copies the httptrace timings into res.
func (rs *reqState) phases(res *Result) {
	if g := rs.gotConn.Load(); g >= 0 && !rs.reused.Load() {
		res.Connect = time.Duration(g)
	}
	if w := rs.wrote.Load(); w >= 0 {
		res.Write = time.Duration(w)
	}
}

// Do sends one streamed request and reads its stream to the end.
func (cn *Conn) Do(ctx context.Context, req Request) (res Result) {
	c, cfg := cn.c, &cn.c.cfg
	defer func() {
		if res.ErrMessage != "" {
			res.ErrMessage = c.cutMessage(res.ErrMessage)
		}
	}()
	plan := c.plan.Load()
	bufs, n := plan.build(&req)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rt := &reqState{cancel: cancel, start: time.Now()}
	rt.gotConn.Store(-1)
	rt.wrote.Store(-1)
	u := c.base + plan.path
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(rctx, rt.trace()), http.MethodPost, u, nil)
	if err != nil {
		res.Start = time.Now()
		res.ErrKind, res.ErrMessage = metrics.ErrConnect, err.Error()
		return res
	}
	hreq.Header = c.header.Clone()
	if req.ID != "" {
		hreq.Header["X-Request-Id"] = []string{req.ID}
	}
	hreq.Body = &bodyReader{bufs: bufs}
	hreq.GetBody = func() (io.ReadCloser, error) { return &bodyReader{bufs: bufs}, nil }
	hreq.ContentLength = n

	var first *time.Timer
	if cfg.FirstTokenTimeout > 0 {
		first = time.AfterFunc(cfg.FirstTokenTimeout, func() { rt.fire(firedFirst) })
		defer first.Stop()
	}
	if cfg.TotalTimeout > 0 {
		// A stream that never ends (a server ignoring max_tokens) is cut.
		total := time.AfterFunc(cfg.TotalTimeout, func() { rt.fire(firedTotal) })
		defer total.Stop()
	}
	// The hooks read rt.start only once RoundTrip runs, after this write.
	start := time.Now()
	rt.start = start
	res.Start = start
	resp, err := cn.tr.RoundTrip(hreq)
	rt.phases(&res)
	if err != nil {
		res.ErrKind, res.ErrMessage = cn.failure(ctx, rt, err, true)
		return res
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
		res.ErrKind = "http_" + strconv.Itoa(resp.StatusCode)
		res.ErrMessage = c.bodyMessage(body)
		return res
	}

	if cn.rd == nil {
		cn.rd = newSSEReader() // on first use: a warm connection that never streams stays small
	}
	rd := cn.rd
	rd.reset()
	var idle *time.Timer
	tokens := false
	seen := 0 // events when the idle timer last restarted
	clock := func() time.Duration { return time.Since(start) }
	afterRead := func() {
		switch {
		case idle != nil:
			// The limit is on the gap between events: keep-alive comments
			// (": ping") must not hold a stalled stream open.
			if rd.st.events != seen {
				seen = rd.st.events
				idle.Reset(cfg.IdleTimeout)
			}
		case tokens || rd.st.chunks == 0:
		default:
			// The first token came: its timer is done, the idle one starts.
			tokens = true
			if first != nil {
				first.Stop()
			}
			if cfg.IdleTimeout > 0 {
				seen = rd.st.events
				idle = time.AfterFunc(cfg.IdleTimeout, func() { rt.fire(firedIdle) })
			}
		}
	}
	rerr := rd.readAll(resp.Body, clock, afterRead)
	if idle != nil {
		idle.Stop()
	}
	if first != nil {
		first.Stop()
	}
	st := &rd.st
	if rerr != nil {
		res.ErrKind, res.ErrMessage = cn.failure(ctx, rt, rerr, false)
	} else if st.errKind != "" {
		res.ErrKind, res.ErrMessage = st.errKind, st.errMsg
		if st.events == 0 && len(rd.head) > 0 {
			// Bytes came, but no event: say what they were.
			res.ErrKind = metrics.ErrMalformed
			res.ErrMessage = arrived(resp.Header.Get("Content-Type"), c.scrub(string(rd.head)))
		}
	} else if st.done {
		cn.drain(resp.Body, rt)
	}
	rt.phases(&res) // the write may have finished after the response began

	res.TTFT, res.TTFC, res.End = st.ttft, st.ttfc, st.end
	res.Chunks, res.MaxChunkGap, res.Events = st.chunks, st.maxGap, st.events
	res.Content = string(st.content)
	if st.usage {
		res.Usage = true
		res.PromptTokens, res.CompletionTokens, res.CachedTokens = st.prompt, st.completion, st.cachedToken
		res.CachedReported = st.cachedReported
		res.UsageInvalid = checkUsage(&res, req.MaxTokens, n)
	} else if cfg.Counter != nil && st.events > 0 {
		res.ClientCounted = true
		if err := c.countResult(ctx, &res, string(st.other), &req); err != nil {
			res.ErrKind, res.ErrMessage = metrics.ErrCanceled, "canceled while counting tokens client-side: "+err.Error()
		}
	}
	return res
}

// countResult counts a stream's tokens client-side: the answer's content
// and other text, and the prompt unless the request says how long it is.
// It stops with ctx's error once ctx ends.
func (c *Client) countResult(ctx context.Context, res *Result, other string, req *Request) error {
	for _, s := range []string{res.Content, other} {
		n, err := c.count(ctx, s)
		if err != nil {
			return err
		}
		res.CompletionTokens += n
	}
	res.PromptTokens = req.PromptTokens
	if res.PromptTokens > 0 {
		return nil
	}
	for _, m := range req.Messages {
		for _, t := range m.Parts {
			n, err := c.countText(ctx, t)
			if err != nil {
				return err
			}
			res.PromptTokens += n
		}
	}
	return nil
}

// drain reads what follows [DONE] for a moment so that a well-behaved stream
// reaches its end and the connection can be reused; a stream left open is
// dropped instead.
func (cn *Conn) drain(body io.Reader, rt *reqState) {
	t := time.AfterFunc(drainGrace, func() { rt.fire(firedDrain) })
	defer t.Stop()
	buf := cn.rd.buf
	for total := 0; total < 1<<20; {
		n, err := body.Read(buf)
		total += n
		if err != nil {
			return
		}
	}
}

// failure names what ended a request early. beforeResponse tells whether the
// response headers had arrived.
func (cn *Conn) failure(ctx context.Context, rt *reqState, err error, beforeResponse bool) (string, string) {
	cfg := &cn.c.cfg
	switch rt.fired.Load() {
	case firedFirst:
		return metrics.ErrTimeoutFirstToken, "no generated text within " + cfg.FirstTokenTimeout.String()
	case firedIdle:
		return metrics.ErrTimeoutIdle, "stream silent for " + cfg.IdleTimeout.String()
	case firedTotal:
		return metrics.ErrTimeoutTotal, "request still running after " + cfg.TotalTimeout.String()
	}
	if ctx.Err() != nil {
		return metrics.ErrCanceled, "canceled: " + context.Cause(ctx).Error()
	}
	var cte *connectTimeoutError
	if errors.As(err, &cte) {
		return metrics.ErrTimeoutConnect, cte.Error()
	}
	// Before the connection was ready, any timeout (the TLS handshake's, the
	// system's dial timeout) means no connection came in time.
	var ne net.Error
	if beforeResponse && rt.gotConn.Load() < 0 && errors.As(err, &ne) && ne.Timeout() {
		return metrics.ErrTimeoutConnect, err.Error()
	}
	if beforeResponse {
		return metrics.ErrConnect, err.Error()
	}
	return metrics.ErrStreamCut, "stream broke: " + err.Error()
}

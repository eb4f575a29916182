package openai

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/mrqa-dev/mrqa/internal/jsonesc"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// readBufSize is the SSE reader's buffer: large enough that a read takes
// whatever the kernel has, however many events that is.
const readBufSize = 64 << 10

// maxEventBytes bounds one event's data so a runaway line cannot eat memory.
const maxEventBytes = 16 << 20

// streamState is what a stream delivered, as the reader saw it.
type streamState struct {
	events    int // data events dispatched, [DONE] excluded
	ttftEvent int // index of the first generated-text event, -1 if none

	ttft, ttfc, end time.Duration // 0: never
	chunks          int
	maxGap          time.Duration

	done   bool // [DONE] seen
	finish bool // some choice carried a finish_reason

	usage                           bool
	prompt, completion, cachedToken int
	cachedReported                  bool // the usage reported cached tokens

	content []byte // content channel text
	other   []byte // reasoning text, for client-side counting

	errKind, errMsg string
}

// sseReader splits a byte stream into SSE events and decodes each event's
// JSON. One reader serves one connection's requests in turn and keeps its
// buffers across them.
type sseReader struct {
	buf    []byte
	r, w   int // unread bytes are buf[r:w]
	data   []byte
	inData bool // the current event has had a data field
	skipLF bool // the previous read ended on CR: a leading LF belongs to it
	ci     chunkInfo
	st     streamState
	head   []byte // the stream's first headBytes bytes, to say what arrived
}

// headBytes is how much of a stream's start is kept for messages.
const headBytes = 256

func newSSEReader() *sseReader {
	return &sseReader{buf: make([]byte, readBufSize), data: make([]byte, 0, 4096)}
}

// reset prepares for a new stream, keeping the buffers.
func (d *sseReader) reset() {
	d.r, d.w = 0, 0
	d.data = d.data[:0]
	d.inData, d.skipLF = false, false
	content, other := d.st.content[:0], d.st.other[:0]
	d.st = streamState{ttftEvent: -1, content: content, other: other}
	d.head = d.head[:0]
}

// stopped reports whether the stream has said all it will: [DONE] or an error.
func (d *sseReader) stopped() bool { return d.st.done || d.st.errKind != "" }

// readOnce does one Read from src and processes every complete line it
// completes, stamping events with clock() taken right after the read returned
// and before any parsing. It returns the read's error.
func (d *sseReader) readOnce(src io.Reader, clock func() time.Duration) (int, error) {
	if d.r > 0 { // move the partial line to the front
		d.w = copy(d.buf, d.buf[d.r:d.w])
		d.r = 0
	}
	if d.w == len(d.buf) { // one line longer than the buffer
		if len(d.buf) >= maxEventBytes {
			d.st.errKind, d.st.errMsg = metrics.ErrMalformed, "line longer than 16 MiB"
			return 0, nil
		}
		d.buf = append(d.buf, make([]byte, len(d.buf))...)
	}
	n, err := src.Read(d.buf[d.w:])
	if n > 0 {
		now := clock()
		if len(d.head) < headBytes {
			d.head = append(d.head, d.buf[d.w:d.w+min(n, headBytes-len(d.head))]...)
		}
		d.w += n
		d.process(now)
	}
	return n, err
}

// process handles every complete line in the buffer.
func (d *sseReader) process(now time.Duration) {
	for d.r < d.w && !d.stopped() {
		b := d.buf[d.r:d.w]
		if d.skipLF {
			d.skipLF = false
			if b[0] == '\n' {
				d.r++
				continue
			}
		}
		lf := bytes.IndexByte(b, '\n')
		lim := b
		if lf >= 0 {
			lim = b[:lf]
		}
		end, next := lf, lf+1
		if cr := bytes.IndexByte(lim, '\r'); cr >= 0 {
			end, next = cr, cr+1
			if cr+1 < len(b) && b[cr+1] == '\n' {
				next = cr + 2
			} else if cr+1 == len(b) {
				d.skipLF = true
			}
		}
		if end < 0 {
			return // incomplete line: wait for more bytes
		}
		d.r += next
		d.line(b[:end], now)
	}
}

// line handles one line of the stream.
func (d *sseReader) line(l []byte, now time.Duration) {
	if len(l) == 0 {
		d.dispatch(now)
		return
	}
	if l[0] == ':' {
		return // comment, e.g. ": ping"
	}
	field, value := l, []byte(nil)
	if c := bytes.IndexByte(l, ':'); c >= 0 {
		field, value = l[:c], l[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(field) != "data" {
		return // event, id, retry and unknown fields carry nothing we use
	}
	if d.inData {
		d.data = append(d.data, '\n')
	}
	if len(d.data)+len(value) > maxEventBytes {
		d.st.errKind, d.st.errMsg = metrics.ErrMalformed, "event longer than 16 MiB"
		return
	}
	d.data = append(d.data, value...)
	d.inData = true
}

// dispatch decodes the event gathered so far.
func (d *sseReader) dispatch(now time.Duration) {
	if !d.inData {
		return
	}
	data := bytes.TrimSpace(d.data)
	d.data, d.inData = d.data[:0], false
	if len(data) == 0 {
		return
	}
	if string(data) == "[DONE]" {
		d.st.done = true
		return
	}
	d.decode(data, now)
}

func (d *sseReader) decode(data []byte, now time.Duration) {
	st := &d.st
	idx := st.events
	st.events++
	if err := decodeChunk(data, &d.ci, &st.content, &st.other); err != nil {
		st.errKind, st.errMsg = metrics.ErrMalformed, "malformed event "+strconv.Itoa(idx)+": "+string(data)
		return
	}
	ci := &d.ci
	if ci.isErr {
		st.errKind = metrics.ErrServer
		msg := string(appendUnescapedLoose(nil, ci.errMsg))
		if msg == "" {
			msg = "error event in stream"
		}
		st.errMsg = msg
		return
	}
	if now <= 0 {
		now = 1 // 0 means "never"
	}
	if ci.gen {
		if st.chunks == 0 {
			st.ttft, st.ttftEvent = now, idx
		} else if gap := now - st.end; gap > st.maxGap {
			st.maxGap = gap
		}
		st.chunks++
		st.end = now
		if ci.content && st.ttfc == 0 {
			st.ttfc = now
		}
	}
	if ci.finish {
		st.finish = true
	}
	if ci.usage {
		st.usage = true
		st.prompt, st.completion, st.cachedToken = ci.prompt, ci.completion, ci.cach
		st.cachedReported = ci.cachReported
	}
}

// atEOF ends a stream whose source said io.EOF: a last line without its line
// end is taken, and an event without its blank line is taken when it decodes.
// A stream ends well with [DONE], or without it when a choice finished
// (servers that omit [DONE]); otherwise it was cut.
func (d *sseReader) atEOF(now time.Duration) {
	if !d.stopped() && d.r < d.w {
		rest := d.buf[d.r:d.w]
		d.r = d.w
		d.line(bytes.TrimRight(rest, "\r"), now)
	}
	if !d.stopped() && d.inData {
		data := bytes.TrimSpace(d.data)
		var ci chunkInfo
		var sink []byte
		if string(data) == "[DONE]" || decodeChunk(data, &ci, &sink, &sink) == nil {
			d.dispatch(now)
		}
	}
	if d.stopped() || d.st.finish {
		return
	}
	d.st.errKind = metrics.ErrStreamCut
	if d.st.events == 0 {
		d.st.errMsg = "stream ended without any event"
	} else {
		d.st.errMsg = "stream ended after " + strconv.Itoa(d.st.events) + " events without [DONE] or finish_reason"
	}
}

// readAll reads src to the end of the stream: [DONE], an error event, EOF or
// a read error, which it returns (nil for the first two and for EOF).
func (d *sseReader) readAll(src io.Reader, clock func() time.Duration, afterRead func()) error {
	for !d.stopped() {
		n, err := d.readOnce(src, clock)
		if n > 0 && afterRead != nil {
			afterRead()
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				d.atEOF(clock())
				return nil
			}
			return err
		}
	}
	return nil
}

// appendUnescapedLoose unescapes a raw JSON string body that may not be a
// string at all (an error value of another type), leaving it as is then.
func appendUnescapedLoose(dst, raw []byte) []byte {
	s := scanner{b: append(append([]byte{'"'}, raw...), '"')}
	if _, _, err := s.str(); err != nil || s.i != len(s.b) {
		return append(dst, raw...)
	}
	return jsonesc.AppendUnescaped(dst, raw)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

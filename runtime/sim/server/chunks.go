package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// chunker renders a request's SSE events. The JSON around the generated
// text is fixed per request, so it is built once; answer text needs no
// escaping (answerWords are plain words).
type chunker struct {
	chat bool
	head string // {"id":...,"object":...,"created":...,"model":...,
}

func newChunker(chat bool, id, model string, created int64) *chunker {
	obj, prefix := "text_completion", "cmpl-"
	if chat {
		obj, prefix = "chat.completion.chunk", "chatcmpl-"
	}
	qid, _ := json.Marshal(prefix + id)
	qmodel, _ := json.Marshal(model)
	head := fmt.Sprintf(`{"id":%s,"object":%q,"created":%d,"model":%s,`, qid, obj, created, qmodel)
	return &chunker{chat: chat, head: head}
}

func (c *chunker) role(b []byte) []byte {
	b = append(b, "data: "...)
	b = append(b, c.head...)
	b = append(b, `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`...)
	return append(b, "\n\n"...)
}

func (c *chunker) token(b []byte, text string, last bool) []byte {
	finish := "null"
	if last {
		finish = `"length"`
	}
	b = append(b, "data: "...)
	b = append(b, c.head...)
	if c.chat {
		b = append(b, `"choices":[{"index":0,"delta":{"content":"`...)
		b = append(b, text...)
		b = append(b, `"},"logprobs":null,"finish_reason":`...)
		b = append(b, finish...)
		b = append(b, "}]}\n\n"...)
		return b
	}
	b = append(b, `"choices":[{"index":0,"text":"`...)
	b = append(b, text...)
	b = append(b, `","logprobs":null,"finish_reason":`...)
	b = append(b, finish...)
	b = append(b, `,"stop_reason":null}]}`+"\n\n"...)
	return b
}

func appendUsage(b []byte, prompt, completion, cached int) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(cached), 10)
	return append(b, "}}"...)
}

func (c *chunker) usage(b []byte, prompt, completion, cached int) []byte {
	b = append(b, "data: "...)
	b = append(b, c.head...)
	b = append(b, `"choices":[],`...)
	b = appendUsage(b, prompt, completion, cached)
	return append(b, "}\n\n"...)
}

func (c *chunker) streamError(b []byte) []byte {
	b = append(b, "data: "...)
	b = append(b, `{"error":{"message":"simulated in-stream error","type":"InternalServerError","param":null,"code":500}}`...)
	return append(b, "\n\n"...)
}

// whole is the non-streaming response body.
func (c *chunker) whole(text string, prompt, completion, cached int) []byte {
	head := strings.Replace(c.head, `"chat.completion.chunk"`, `"chat.completion"`, 1)
	var b []byte
	b = append(b, head...)
	qtext, _ := json.Marshal(text)
	if c.chat {
		b = append(b, `"choices":[{"index":0,"message":{"role":"assistant","content":`...)
		b = append(b, qtext...)
		b = append(b, `},"logprobs":null,"finish_reason":"length"}],`...)
	} else {
		b = append(b, `"choices":[{"index":0,"text":`...)
		b = append(b, qtext...)
		b = append(b, `,"logprobs":null,"finish_reason":"length","stop_reason":null}],`...)
	}
	b = appendUsage(b, prompt, completion, cached)
	return append(b, "}\n"...)
}

// Histogram buckets as vLLM declares them.
var (
	ttftBuckets  = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	queueBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	sum    float64
	n      uint64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	h.sum += v
	h.n++
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			return
		}
	}
}

func (h *histogram) write(b *strings.Builder, name, help, labels string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, bound := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{%s,le=\"%s\"} %d\n", name, labels, strconv.FormatFloat(bound, 'f', -1, 64), cum)
	}
	fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, h.n)
	fmt.Fprintf(b, "%s_sum{%s} %s\n", name, labels, fmtFloat(h.sum))
	fmt.Fprintf(b, "%s_count{%s} %d\n", name, labels, h.n)
}

func fmtFloat(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// metrics serves Prometheus text with vLLM's metric names, plus the offload
// tier's counters under sim: (LMCache's own names vary by version).
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	st := s.eng.Stats()
	var b strings.Builder
	labels := `model_name=` + strconv.Quote(s.cfg.Model)
	st.WritePrometheus(&b, labels)
	s.ttft.write(&b, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels)
	s.queue.write(&b, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", labels)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

package openai

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"

	"github.com/mrqa-dev/mrqa/runtime/openai/prompt"
)

// DefaultCompletionsTemplate renders a conversation for /v1/completions in
// ChatML, the format of Qwen and many other instruction-tuned models.
const DefaultCompletionsTemplate = "{{messages}}<|im_start|>{{role}}\n{{content}}<|im_end|>\n{{end}}<|im_start|>assistant\n"

// promptTemplate is a parsed completions template. Literal text is escaped
// once, at New.
type promptTemplate struct {
	prefix []byte
	block  []tmplItem
	suffix []byte
}

type tmplItem struct {
	lit  []byte // escaped literal, when kind is itemLit
	kind int
}

const (
	itemLit = iota
	itemRole
	itemContent
)

// parseTemplate parses a completions template (syntax in the package
// comment) and escapes its literal text once.
func parseTemplate(src string) (*promptTemplate, error) {
	pt, err := prompt.Parse(src)
	if err != nil {
		return nil, err
	}
	t := &promptTemplate{prefix: appendEscaped(nil, pt.Prefix), suffix: appendEscaped(nil, pt.Suffix)}
	for _, it := range pt.Block {
		switch it.Kind {
		case prompt.Lit:
			t.block = append(t.block, tmplItem{lit: appendEscaped(nil, it.Lit)})
		case prompt.Role:
			t.block = append(t.block, tmplItem{kind: itemRole})
		case prompt.Content:
			t.block = append(t.block, tmplItem{kind: itemContent})
		}
	}
	return t, nil
}

// bodyPlan is everything about a request body that does not change from one
// request to the next, prepared once per client (and again after preflight).
type bodyPlan struct {
	path          string // "/chat/completions" or "/completions"
	model         string
	streamOptions bool   // the client asks for stream_options.include_usage
	model1        []byte // `"model":"…"` or nil
	payload       bool   // messages / prompt sent (not overridden by extra_body)
	maxTokens     bool
	temperature   bool
	fixed         []byte // `,"stream":true,…` as not overridden
	extra         []byte // `,"k":v…`, keys sorted
	prompt        *promptTemplate
}

func newBodyPlan(cfg *Config, model string, streamOptions bool, prompt *promptTemplate) (*bodyPlan, error) {
	p := &bodyPlan{path: "/chat/completions", model: model, prompt: prompt, streamOptions: streamOptions}
	payloadKey := "messages"
	if prompt != nil {
		p.path, payloadKey = "/completions", "prompt"
	}
	over := func(k string) bool { _, ok := cfg.ExtraBody[k]; return ok }
	if model != "" && !over("model") {
		p.model1 = append(appendEscaped([]byte(`"model":"`), model), '"')
	}
	p.payload = !over(payloadKey)
	p.maxTokens = !over("max_tokens")
	p.temperature = !over("temperature")
	if !over("stream") {
		p.fixed = append(p.fixed, `,"stream":true`...)
	}
	if streamOptions && !over("stream_options") {
		p.fixed = append(p.fixed, `,"stream_options":{"include_usage":true}`...)
	}
	keys := make([]string, 0, len(cfg.ExtraBody))
	for k := range cfg.ExtraBody {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := json.Marshal(cfg.ExtraBody[k])
		if err != nil {
			return nil, fmt.Errorf("extra_body %q: %w", k, err)
		}
		p.extra = append(p.extra, ',', '"')
		p.extra = appendEscaped(p.extra, k)
		p.extra = append(p.extra, '"', ':')
		p.extra = append(p.extra, v...)
	}
	return p, nil
}

// seg is one run of a body: glue bytes [a,b) of the builder, or a Text.
type seg struct {
	t    *Text
	a, b int
}

// bodyBuilder assembles a body as glue bytes plus references to escaped
// Texts, so the large parts are written straight from the Text.
type bodyBuilder struct {
	glue      []byte
	segs      []seg
	glueStart int
}

func (bb *bodyBuilder) str(s string)   { bb.glue = append(bb.glue, s...) }
func (bb *bodyBuilder) bytes(b []byte) { bb.glue = append(bb.glue, b...) }

func (bb *bodyBuilder) text(t *Text) {
	if t == nil || len(t.esc) == 0 {
		return
	}
	if len(bb.glue) > bb.glueStart {
		bb.segs = append(bb.segs, seg{a: bb.glueStart, b: len(bb.glue)})
	}
	bb.segs = append(bb.segs, seg{t: t})
	bb.glueStart = len(bb.glue)
}

// finish returns the body as buffers and its length.
func (bb *bodyBuilder) finish() (net.Buffers, int64) {
	if len(bb.glue) > bb.glueStart {
		bb.segs = append(bb.segs, seg{a: bb.glueStart, b: len(bb.glue)})
	}
	bufs := make(net.Buffers, len(bb.segs))
	var n int64
	for i, s := range bb.segs {
		if s.t != nil {
			bufs[i] = s.t.esc
		} else {
			bufs[i] = bb.glue[s.a:s.b]
		}
		n += int64(len(bufs[i]))
	}
	return bufs, n
}

// build lays out the body of one request.
func (p *bodyPlan) build(req *Request) (net.Buffers, int64) {
	nseg := 4
	for _, m := range req.Messages {
		nseg += len(m.Parts) + 2
		if p.prompt != nil {
			nseg += len(p.prompt.block)
		}
	}
	bb := bodyBuilder{
		glue: make([]byte, 0, 128+len(p.model1)+len(p.fixed)+len(p.extra)+48*len(req.Messages)),
		segs: make([]seg, 0, nseg),
	}
	bb.str("{")
	comma := false
	if p.model1 != nil {
		bb.bytes(p.model1)
		comma = true
	}
	if p.payload {
		if comma {
			bb.str(",")
		}
		comma = true
		if p.prompt == nil {
			bb.str(`"messages":[`)
			for i, m := range req.Messages {
				if i > 0 {
					bb.str(",")
				}
				bb.str(`{"role":"`)
				bb.glue = appendEscaped(bb.glue, m.Role)
				bb.str(`","content":"`)
				for _, t := range m.Parts {
					bb.text(t)
				}
				bb.str(`"}`)
			}
			bb.str("]")
		} else {
			bb.str(`"prompt":"`)
			bb.bytes(p.prompt.prefix)
			for _, m := range req.Messages {
				for _, it := range p.prompt.block {
					switch it.kind {
					case itemLit:
						bb.bytes(it.lit)
					case itemRole:
						bb.glue = appendEscaped(bb.glue, m.Role)
					case itemContent:
						for _, t := range m.Parts {
							bb.text(t)
						}
					}
				}
			}
			bb.bytes(p.prompt.suffix)
			bb.str(`"`)
		}
	}
	if p.maxTokens && req.MaxTokens > 0 {
		if comma {
			bb.str(",")
		}
		comma = true
		bb.str(`"max_tokens":`)
		bb.glue = strconv.AppendInt(bb.glue, int64(req.MaxTokens), 10)
	}
	if p.temperature && !math.IsNaN(req.Temperature) && !math.IsInf(req.Temperature, 0) {
		if comma {
			bb.str(",")
		}
		comma = true
		bb.str(`"temperature":`)
		bb.glue = strconv.AppendFloat(bb.glue, req.Temperature, 'g', -1, 64)
	}
	fixed, extra := p.fixed, p.extra
	if !comma { // drop the leading comma of whichever comes first
		if len(fixed) > 0 {
			fixed = fixed[1:]
		} else if len(extra) > 0 {
			extra = extra[1:]
		}
	}
	bb.bytes(fixed)
	bb.bytes(extra)
	bb.str("}")
	return bb.finish()
}

// bodyReader serves a built body to the transport without copying it. It
// never modifies the buffers, so GetBody can replay them.
type bodyReader struct {
	bufs   net.Buffers
	i, off int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.i < len(r.bufs) {
		c := copy(p[n:], r.bufs[r.i][r.off:])
		n += c
		r.off += c
		if r.off == len(r.bufs[r.i]) {
			r.i, r.off = r.i+1, 0
		}
	}
	if n == 0 && r.i >= len(r.bufs) {
		return 0, io.EOF
	}
	return n, nil
}

func (r *bodyReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.i < len(r.bufs) {
		n, err := w.Write(r.bufs[r.i][r.off:])
		total += int64(n)
		r.off += n
		if err != nil {
			return total, err
		}
		r.i, r.off = r.i+1, 0
	}
	return total, nil
}

func (r *bodyReader) Close() error { return nil }

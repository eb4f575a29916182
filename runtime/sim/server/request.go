package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// request is what the handlers read from a body.
type request struct {
	model        string
	maxTokens    *int
	stream       bool
	includeUsage bool
	messages     []message
	prompt       any // string | rawText
	release      func()
}

// readRequest parses a chat (chat true) or completions body. Long texts
// in the request point into the body: call req.release once they have been
// tokenized.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, chat bool) (req *request, err error) {
	body := s.bodies.Get().(*bytes.Buffer)
	release := func() {
		if body.Cap() <= maxPooledBody {
			body.Reset()
			s.bodies.Put(body)
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	body.Reset()
	if r.ContentLength > 0 && r.ContentLength <= maxBody {
		body.Grow(int(r.ContentLength) + 1) // one allocation, no regrowth copies
	}
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	v, err := parseJSON(body.Bytes())
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	req = &request{release: release}
	if req.model, err = optString(m, "model"); err != nil {
		return nil, err
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		x, ok := m[k]
		if !ok || x == nil {
			continue
		}
		f, isNum := x.(float64)
		if !isNum || f != float64(int(f)) {
			return nil, fmt.Errorf("%s must be an integer", k)
		}
		n := int(f)
		req.maxTokens = &n // max_completion_tokens, when both, as it comes second
	}
	if x, ok := m["stream"]; ok && x != nil {
		if req.stream, ok = x.(bool); !ok {
			return nil, errors.New("stream must be a boolean")
		}
	}
	if so, ok := m["stream_options"].(map[string]any); ok {
		req.includeUsage, _ = so["include_usage"].(bool)
	}
	if !chat {
		switch p := m["prompt"].(type) {
		case rawText:
			req.prompt = p
		case string:
			if p == "" {
				return nil, errors.New("prompt must not be empty")
			}
			req.prompt = p
		default:
			return nil, errors.New("prompt must be a string")
		}
		return req, nil
	}
	msgs, ok := m["messages"].([]any)
	if !ok || len(msgs) == 0 {
		return nil, errors.New("messages must be a non-empty array")
	}
	for i, x := range msgs {
		mm, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("messages[%d] must be an object", i)
		}
		role, _ := mm["role"].(string)
		if role == "" {
			return nil, fmt.Errorf("messages[%d].role must be a non-empty string", i)
		}
		text, err := textOf(mm["content"])
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		req.messages = append(req.messages, message{role: role, content: text})
	}
	return req, nil
}

func optString(m map[string]any, k string) (string, error) {
	switch x := m[k].(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case rawText:
		return x.String(), nil
	}
	return "", fmt.Errorf("%s must be a string", k)
}

// textOf reads a message content: a string (or rawText), null, or an array
// of parts whose text parts are joined.
func textOf(x any) (any, error) {
	switch c := x.(type) {
	case nil:
		return "", nil
	case string, rawText:
		return c, nil
	case []any:
		var texts []any
		for _, part := range c {
			pm, ok := part.(map[string]any)
			if !ok {
				return nil, errors.New("content parts must be objects")
			}
			if pm["type"] != "text" {
				continue
			}
			switch t := pm["text"].(type) {
			case string, rawText:
				texts = append(texts, t)
			default:
				return nil, errors.New("a text part's text must be a string")
			}
		}
		if len(texts) == 1 {
			return texts[0], nil // keeps a long text raw, so cached
		}
		var b strings.Builder
		for _, t := range texts {
			b.WriteString(fmt.Sprint(t))
		}
		return b.String(), nil
	}
	return nil, errors.New("content must be a string or an array of text parts")
}

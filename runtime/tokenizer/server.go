package tokenizer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ServerTokenizer asks the target server to tokenize: vLLM serves
// POST /tokenize ({"model","prompt"} → {"tokens","count"}) and
// POST /detokenize ({"model","tokens"} → {"prompt"}) at the server root, not
// under /v1. Its plain methods return nil, "" or -1 when a request fails; use
// the Err variants (or the package's EncodeErr, DecodeErr, CountErr).
//
// Credentials in the URL are sent as basic auth and never appear in an
// error: the URL is named without them, and a server's echo of them (user
// name, password, the Basic token) is replaced by "(sensitive)" before the
// message is cut.
type ServerTokenizer struct {
	root    string // without credentials
	user    *url.Userinfo
	model   string
	client  *http.Client
	secrets *strings.Replacer // nil: no credentials
}

// NewServer returns a tokenizer backed by the server at root (a trailing /v1
// is removed). client nil means a client with a 60 s timeout.
func NewServer(root, model string, client *http.Client) (*ServerTokenizer, error) {
	root = strings.TrimRight(root, "/")
	root = strings.TrimSuffix(root, "/v1")
	if root == "" {
		return nil, errors.New("tokenizer server: no server URL (the target's base_url)")
	}
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	s := &ServerTokenizer{root: root, model: model, client: client}
	if u, err := url.Parse(root); err == nil && u.User != nil {
		s.user, u.User = u.User, nil
		s.root = u.String()
		s.secrets = credentialReplacer(s.user)
	}
	return s, nil
}

// credentialReplacer hides a URL's credentials in every form a server may
// echo (each of 3 bytes or more), longest first.
func credentialReplacer(u *url.Userinfo) *strings.Replacer {
	pw, _ := u.Password()
	basic := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + pw))
	var pairs []string
	for _, v := range []string{basic, u.String(), u.Username() + ":" + pw, pw, u.Username()} {
		if len(v) >= 3 {
			pairs = append(pairs, v, "(sensitive)")
		}
	}
	return strings.NewReplacer(pairs...)
}

// maxErrorBody is how much of an error body a message quotes, in bytes.
const maxErrorBody = 300

// errorBody is an error body scrubbed of the credentials and then cut.
func (s *ServerTokenizer) errorBody(data []byte) string {
	msg := strings.TrimSpace(string(data))
	if s.secrets != nil {
		msg = s.secrets.Replace(msg)
	}
	if len(msg) > maxErrorBody {
		i := maxErrorBody
		for i > 0 && msg[i]&0xC0 == 0x80 {
			i--
		}
		msg = msg[:i] + "…"
	}
	return msg
}

// Name returns "server".
func (s *ServerTokenizer) Name() string { return Server }

type tokenizeRequest struct {
	Model            string `json:"model,omitempty"`
	Prompt           string `json:"prompt"`
	AddSpecialTokens bool   `json:"add_special_tokens"`
}

type tokenizeResponse struct {
	Tokens []int `json:"tokens"`
	Count  *int  `json:"count"`
}

type detokenizeRequest struct {
	Model  string `json:"model,omitempty"`
	Tokens []int  `json:"tokens"`
}

type detokenizeResponse struct {
	Prompt *string `json:"prompt"`
}

func (s *ServerTokenizer) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("tokenizer server %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.root+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("tokenizer server %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.user != nil {
		pw, _ := s.user.Password()
		req.SetBasicAuth(s.user.Username(), pw)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("tokenizer server %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("tokenizer server %s: reading response: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("tokenizer server %s%s: HTTP %d: %s", s.root, path, resp.StatusCode, s.errorBody(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("tokenizer server %s%s: decoding response: %w", s.root, path, err)
	}
	return nil
}

// EncodeErr tokenizes s without special tokens (no BOS); the request ends
// with ctx.
func (s *ServerTokenizer) EncodeErr(ctx context.Context, text string) ([]int, error) {
	var r tokenizeResponse
	if err := s.post(ctx, "/tokenize", tokenizeRequest{Model: s.model, Prompt: text}, &r); err != nil {
		return nil, err
	}
	if r.Tokens == nil {
		r.Tokens = []int{}
	}
	return r.Tokens, nil
}

// DecodeErr detokenizes ids; the request ends with ctx.
func (s *ServerTokenizer) DecodeErr(ctx context.Context, ids []int) (string, error) {
	if ids == nil {
		ids = []int{}
	}
	var r detokenizeResponse
	if err := s.post(ctx, "/detokenize", detokenizeRequest{Model: s.model, Tokens: ids}, &r); err != nil {
		return "", err
	}
	if r.Prompt == nil {
		return "", fmt.Errorf("tokenizer server %s/detokenize: response has no prompt", s.root)
	}
	return *r.Prompt, nil
}

// CountErr returns the server's token count of s; the request ends with ctx.
func (s *ServerTokenizer) CountErr(ctx context.Context, text string) (int, error) {
	var r tokenizeResponse
	if err := s.post(ctx, "/tokenize", tokenizeRequest{Model: s.model, Prompt: text}, &r); err != nil {
		return 0, err
	}
	if r.Count != nil {
		return *r.Count, nil
	}
	return len(r.Tokens), nil
}

// Encode is EncodeErr returning nil on failure.
func (s *ServerTokenizer) Encode(text string) []int {
	ids, err := s.EncodeErr(context.Background(), text)
	if err != nil {
		return nil
	}
	return ids
}

// Decode is DecodeErr returning "" on failure.
func (s *ServerTokenizer) Decode(ids []int) string {
	out, _ := s.DecodeErr(context.Background(), ids)
	return out
}

// Count is CountErr returning -1 on failure.
func (s *ServerTokenizer) Count(text string) int {
	n, err := s.CountErr(context.Background(), text)
	if err != nil {
		return -1
	}
	return n
}

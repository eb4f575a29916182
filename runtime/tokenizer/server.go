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
	"slices"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/internal/redirect"
)

// ServerTokenizer asks the target server to tokenize: vLLM serves
// POST /tokenize ({"model","prompt"} → {"tokens","count"}) and
// POST /detokenize ({"model","tokens"} → {"prompt"}) at the server root, not
// under /v1. Its plain methods return nil, "" or -1 when a request fails; use
// the Err variants (or the package's EncodeErr, DecodeErr, CountErr).
type ServerTokenizer struct {
	root    string // without credentials: it appears in errors
	model   string
	client  *http.Client
	header  http.Header
	secrets []string // header values (and the bare secrets in them) to keep out of errors
}

// NewServer returns a tokenizer backed by the server at root (a trailing /v1
// is removed). client nil means a client with a 60 s timeout. header goes
// with every request; credentials in root become basic auth unless header
// has an Authorization.
func NewServer(root, model string, client *http.Client, header http.Header) (*ServerTokenizer, error) {
	root = strings.TrimRight(strings.TrimSpace(root), "/")
	root = strings.TrimSuffix(root, "/v1")
	if root == "" {
		return nil, errors.New("tokenizer server: no server URL (the target's base_url)")
	}
	u, err := url.Parse(root)
	if err != nil || u.Host == "" {
		// url.Error quotes the whole URL, password included.
		return nil, errors.New("tokenizer server: the server URL is not an http(s) URL with a host")
	}
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	var userSecrets []string
	if u.User != nil {
		pw, _ := u.User.Password()
		if header.Get("Authorization") == "" {
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		}
		// Every form a server may echo: user:pw, the password, the user name.
		userSecrets = []string{u.User.String(), u.User.Username() + ":" + pw, pw, u.User.Username()}
		u.User = nil
	}
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second, CheckRedirect: redirect.SameHost}
	}
	secrets := append(headerSecrets(header), userSecrets...)
	return &ServerTokenizer{root: u.String(), model: model, client: client, header: header, secrets: secrets}, nil
}

// headerSecrets lists the header values, and the credential after an
// Authorization scheme, that a server might echo in an error.
func headerSecrets(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok && strings.EqualFold(k, "Authorization") {
				out = append(out, cred)
			}
		}
	}
	return out
}

// maxErrorBody is how much of an error body a message quotes, in bytes.
const maxErrorBody = 300

// errorBody is an error body scrubbed of the credentials and then cut, at
// a character boundary.
func (s *ServerTokenizer) errorBody(data []byte) string {
	msg := s.scrub(strings.TrimSpace(string(data)))
	if len(msg) > maxErrorBody {
		i := maxErrorBody
		for i > 0 && msg[i]&0xC0 == 0x80 {
			i--
		}
		msg = msg[:i] + "…"
	}
	return msg
}

// scrub hides the secrets of at least 3 bytes in msg, longest first.
func (s *ServerTokenizer) scrub(msg string) string {
	secrets := slices.Clone(s.secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, "(sensitive)")
		}
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
	req.Header = s.header.Clone()
	req.Header.Set("Content-Type", "application/json")
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

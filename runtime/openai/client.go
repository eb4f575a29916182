package openai

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"

	"github.com/mrqa-dev/mrqa/internal/redirect"
)

// Counter counts tokens; the corpus tokenizer fills this role when a server
// sends no usage. A Counter that also has a method
// CountErr(ctx context.Context, s string) (int, error) is called through it,
// so that counting a long answer stops when the request's context ends.
type Counter interface{ Count(s string) int }

// Config describes one target.
type Config struct {
	BaseURL string // root including /v1, e.g. http://127.0.0.1:8000/v1
	Model   string // "": Preflight takes the only model /v1/models lists
	API     string // "chat" (default) | "completions"

	TLS *tls.Config // for https base URLs; nil: Go's defaults

	APIKey    string            // sent as "Authorization: Bearer …"
	Headers   map[string]string // added to every request
	ExtraBody map[string]any    // merged into every body; its keys override the client's

	// Zero means no limit. ConnectTimeout bounds opening a connection (TCP and
	// TLS); FirstTokenTimeout the time from start to the first generated text;
	// IdleTimeout the longest gap between two events after the first token.
	ConnectTimeout, FirstTokenTimeout, IdleTimeout time.Duration
	// TotalTimeout bounds a whole request, first byte to last; 0: none.
	TotalTimeout time.Duration

	// CompletionsTemplate renders the messages into the prompt of
	// /v1/completions; "" means DefaultCompletionsTemplate. See the package
	// comment for the syntax.
	CompletionsTemplate string

	// Counter, when set, counts tokens for requests whose stream carried no
	// usage; such results are marked ClientCounted.
	Counter Counter

	// dial replaces the network dialer (tests).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks to one OpenAI-compatible target. It is safe for concurrent use;
// each worker uses its own Conn.
type Client struct {
	cfg     Config
	base    string // BaseURL without userinfo or trailing slash
	root    string // base without a trailing /v1
	header  http.Header
	prompt  *promptTemplate
	plan    atomic.Pointer[bodyPlan]
	ctl     *http.Client // preflight, reset, model list
	countMu sync.Mutex
	counts  map[*Text]int     // token counts of long texts, for client-side counting
	secrets *strings.Replacer // nil: nothing to hide
}

// New checks cfg and prepares a client. It sends nothing.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("base_url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q: want http(s)://host[:port]/v1", u.Redacted())
	}
	header := http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"text/event-stream"},
		"User-Agent":   {"mrqa"},
	}
	var secrets []string
	if u.User != nil {
		// Credentials in the URL become basic auth, unless an api key is set.
		pw, _ := u.User.Password()
		basic := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pw))
		if cfg.APIKey == "" {
			header.Set("Authorization", "Basic "+basic)
		}
		// The user name counts too: some gateways take a token there.
		secrets = append(secrets, pw, basic, u.User.Username(), u.User.String())
		u.User = nil
	}
	if cfg.APIKey != "" {
		header.Set("Authorization", "Bearer "+cfg.APIKey)
		secrets = append(secrets, cfg.APIKey)
	}
	for k, v := range cfg.Headers {
		header.Set(k, v)
		secrets = append(secrets, v)
	}
	c := &Client{cfg: cfg, header: header, counts: map[*Text]int{}, secrets: secretReplacer(secrets)}
	c.base = strings.TrimRight(u.String(), "/")
	c.root = strings.TrimSuffix(c.base, "/v1")
	switch cfg.API {
	case "", spec.APIChat:
	case spec.APICompletions:
		src := cfg.CompletionsTemplate
		if src == "" {
			src = DefaultCompletionsTemplate
		}
		if c.prompt, err = parseTemplate(src); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("api %q: want \"chat\" or \"completions\"", cfg.API)
	}
	plan, err := newBodyPlan(&c.cfg, cfg.Model, true, c.prompt)
	if err != nil {
		return nil, err
	}
	c.plan.Store(plan)
	c.ctl = &http.Client{Transport: c.newTransport(4), Timeout: 2 * time.Minute, CheckRedirect: redirect.SameHost}
	return c, nil
}

// Model returns the model requests name ("" until known).
func (c *Client) Model() string { return c.plan.Load().model }

// StreamOptions reports whether requests ask for stream_options.include_usage
// (true until Preflight finds the server rejects it).
func (c *Client) StreamOptions() bool { return c.plan.Load().streamOptions }

// connectTimeoutError marks a dial that ran out of ConnectTimeout.
type connectTimeoutError struct {
	limit time.Duration
	err   error
}

func (e *connectTimeoutError) Error() string {
	return fmt.Sprintf("no connection within %s: %v", e.limit, e.err)
}
func (e *connectTimeoutError) Unwrap() error { return e.err }

// newTransport makes an HTTP/1.1 transport keeping up to idle connections.
func (c *Client) newTransport(idle int) *http.Transport {
	dial := c.cfg.dial
	if dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	limit := c.cfg.ConnectTimeout
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if limit <= 0 {
				return dial(ctx, network, addr)
			}
			dctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			conn, err := dial(dctx, network, addr)
			if err != nil && ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
				return nil, &connectTimeoutError{limit: limit, err: err}
			}
			return conn, err
		},
		TLSClientConfig:     c.cfg.TLS,
		TLSHandshakeTimeout: limit,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		DisableCompression:  true, // a gzip layer would delay and batch events
		// The SSE reader reads into its own readBufSize buffer, which
		// bypasses the transport's read buffer once it is empty; a long body
		// goes out in writes of the write buffer's size. Small buffers keep
		// an idle connection cheap (docs/PERFORMANCE.md).
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 16 << 10,
		Protocols:       protocols,
	}
}

// secretReplacer hides each secret of at least 3 bytes (shorter ones would
// hide ordinary text), longest first so that one containing another goes whole.
func secretReplacer(secrets []string) *strings.Replacer {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return len(s) < 3 })
	if len(secrets) == 0 {
		return nil
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, "(sensitive)")
	}
	return strings.NewReplacer(pairs...)
}

// scrubbedError is an error whose text had credentials removed; errors.Is
// and errors.As still see the original.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func (c *Client) scrubErr(err error) error {
	if err == nil || c.secrets == nil {
		return err
	}
	if msg := err.Error(); c.scrub(msg) != msg {
		return &scrubbedError{msg: c.scrub(msg), err: err}
	}
	return err
}

// scrub removes the target's credentials from a message: servers and
// gateways may echo the ones they reject.
func (c *Client) scrub(msg string) string {
	if c.secrets == nil {
		return msg
	}
	return c.secrets.Replace(msg)
}

// listedModels is how many model names an error names before it counts.
const listedModels = 5

// ResetPrefixCache asks the server to drop its prefix cache:
// POST <root>/reset_prefix_cache, root being BaseURL without /v1. Its error
// names the request, not the step: the caller says what failed.
func (c *Client) ResetPrefixCache(ctx context.Context) error {
	return c.scrubErr(c.resetPrefixCache(ctx))
}

func (c *Client) resetPrefixCache(ctx context.Context) error {
	u := c.root + "/reset_prefix_cache"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	req.Header = c.header.Clone()
	resp, err := c.ctl.Do(req)
	if err != nil {
		return err // url.Error names the method and URL; the caller, the step
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		hint := ""
		if resp.StatusCode == http.StatusNotFound {
			hint = " (vLLM serves it only with VLLM_SERVER_DEV_MODE=1)"
		}
		return fmt.Errorf("POST %s: http_%d: %s%s", u, resp.StatusCode, c.bodyMessage(body), hint)
	}
	return nil
}

// bodyMessage is the message of an error body, scrubbed and then cut to
// maxMessage bytes. The body is scrubbed before decoding too: decoding
// unescapes JSON, which may reveal a credential the raw bytes hid, so the
// message is scrubbed again, and only then cut, so that no cut can leave part
// of a credential behind.
func (c *Client) bodyMessage(body []byte) string {
	return c.cutMessage(errorMessage([]byte(c.scrub(string(body)))))
}

// cutMessage scrubs msg and then truncates it to maxMessage bytes: never the
// other way round, or a credential straddling the cut would leave its start.
func (c *Client) cutMessage(msg string) string {
	return truncate(c.scrub(msg), maxMessage)
}

// maxMessage is the longest error message a Result carries, in bytes.
const maxMessage = 300

// errorMessage pulls the whole message out of an error body (OpenAI's
// {"error":{"message":…}}, vLLM's {"message":…}, FastAPI's {"detail":…}) or
// returns the text; callers scrub and cut it.
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case len(e.Detail) > 0 && json.Unmarshal(e.Detail, &s) == nil:
			return s
		case len(e.Detail) > 0:
			return string(e.Detail)
		}
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		return "(empty body)"
	}
	return msg
}

// countText counts a text's tokens, remembering the counts of long texts
// (documents), which recur in every request of a session.
func (c *Client) countText(ctx context.Context, t *Text) (int, error) {
	if t.Len() < shortText {
		return c.count(ctx, t.s)
	}
	c.countMu.Lock()
	n, ok := c.counts[t]
	c.countMu.Unlock()
	if ok {
		return n, nil
	}
	n, err := c.count(ctx, t.String())
	if err != nil {
		return 0, err
	}
	c.countMu.Lock()
	c.counts[t] = n
	c.countMu.Unlock()
	return n, nil
}

// contextCounter is a Counter whose counting stops when a context ends.
type contextCounter interface {
	CountErr(ctx context.Context, s string) (int, error)
}

// count counts s with the Counter, stopping with ctx's error once ctx ends
// when the Counter can (a plain one counts to the end). A counter's own
// failure gives -1, as its Count reports one.
func (c *Client) count(ctx context.Context, s string) (int, error) {
	cc, ok := c.cfg.Counter.(contextCounter)
	if !ok || s == "" {
		return c.cfg.Counter.Count(s), nil
	}
	n, err := cc.CountErr(ctx, s)
	switch {
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case err != nil:
		return -1, nil
	}
	return n, nil
}

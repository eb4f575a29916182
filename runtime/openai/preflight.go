package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
)

// PreflightInfo is what Preflight learned about the target.
type PreflightInfo struct {
	Model         string        // the model requests name
	Models        []string      // what /v1/models listed; nil when it could not be read
	StreamOptions bool          // stream_options.include_usage is accepted
	Usage         bool          // the probe's stream carried usage
	TTFT          time.Duration // the probe's time to first token
	// Notes are facts worth telling the user, each a complete sentence
	// without the target's credentials; Preflight prints nothing itself.
	// They are returned with an error too, as far as Preflight got.
	Notes []string
	// MaxModelLen is the model's context length in tokens as /v1/models
	// lists it (vLLM's max_model_len); 0 when not listed.
	MaxModelLen int
}

// Preflight checks that the target can serve the run: /v1/models confirms the
// model (or supplies the only one listed), a one-token streamed request
// succeeds, and stream_options is probed (a 400 or 422 with it and a success
// without it turns it off for every later request). What it learns is kept in
// c. Its error and notes never carry the target's credentials.
func (c *Client) Preflight(ctx context.Context) (PreflightInfo, error) {
	info, err := c.preflight(ctx)
	for i, n := range info.Notes {
		info.Notes[i] = c.scrub(n)
	}
	return info, c.scrubErr(err)
}

func (c *Client) preflight(ctx context.Context) (PreflightInfo, error) {
	var info PreflightInfo
	model := c.cfg.Model
	served, status, err := c.readModels(ctx)
	models := make([]string, 0, len(served))
	for _, m := range served {
		models = append(models, m.ID)
	}
	decisive, explained := c.explainModels(err, status)
	switch {
	case decisive && (model == "" || status != http.StatusNotFound):
		// With a model set, a list that is not found is only a note: the
		// probe goes under the same root and says what to fix if it fails.
		return info, fmt.Errorf("preflight: %w", explained)
	case err != nil && model == "":
		return info, fmt.Errorf("preflight: %w; set the target's model to skip the model list", err)
	case err != nil:
		info.Notes = append(info.Notes, fmt.Sprintf("The model list is unavailable (%v); model %q is used as configured.", err, model))
	default:
		info.Models = models
		switch {
		case model != "":
			found := false
			for _, m := range models {
				found = found || m == model
			}
			if !found {
				return info, fmt.Errorf("preflight: model %q is not served by %s; it lists: %s", model, c.base, ModelList(models))
			}
		case len(models) == 1:
			model = models[0]
			info.Notes = append(info.Notes, fmt.Sprintf("Model %q is taken from /v1/models, which lists only it.", model))
		case len(models) == 0:
			return info, fmt.Errorf("preflight: %s/models lists no model", c.base)
		default:
			return info, fmt.Errorf("preflight: %s serves several models (%s); set the target's model", c.base, ModelList(models))
		}
	}
	info.Model = model
	for _, m := range served {
		if m.ID == model {
			info.MaxModelLen = m.MaxModelLen
		}
	}

	probe := func(streamOptions bool) (Result, error) {
		plan, err := newBodyPlan(&c.cfg, model, streamOptions, c.prompt)
		if err != nil {
			return Result{}, err
		}
		c.plan.Store(plan)
		cn := c.NewConn()
		defer cn.Close()
		return cn.Do(ctx, Request{
			ID:        "mrqa-preflight",
			Messages:  []Message{{Role: "user", Parts: []*Text{NewText("Say hello.")}}},
			MaxTokens: 1,
		}), nil
	}
	res, err := probe(true)
	if err != nil {
		return info, err
	}
	info.StreamOptions = true
	// Servers reject an unknown field with 400 (vLLM) or 422 (FastAPI's
	// validation).
	if res.ErrKind == "http_400" || res.ErrKind == "http_422" {
		firstKind, first := res.ErrKind, res.ErrMessage
		if res, err = probe(false); err != nil {
			return info, err
		}
		if res.ErrKind != "" {
			return info, fmt.Errorf("preflight: one-token request to %s%s failed: %s: %s", c.base, c.plan.Load().path, firstKind, first)
		}
		info.StreamOptions = false
		info.Notes = append(info.Notes, "The server rejects stream_options, so requests go without it; usage is read when a stream carries it and counted client-side otherwise.")
	}
	if res.ErrKind != "" {
		hint := ""
		switch res.ErrKind {
		case "http_401", "http_403":
			hint = " (check api_key and headers)"
		case "http_404":
			hint = " (wrong base_url, or try the other api: chat | completions)"
			if h := c.v1Hint(); h != "" {
				hint = h
			}
		}
		return info, fmt.Errorf("preflight: one-token request to %s%s failed: %s: %s%s", c.base, c.plan.Load().path, res.ErrKind, res.ErrMessage, hint)
	}
	info.Usage = res.Usage
	info.TTFT = res.TTFT
	info.Notes = append(info.Notes, probeNotes(&res, c.cfg.Counter != nil)...)
	return info, nil
}

// v1Hint, for a 404, suggests adding /v1 to a base_url whose path does not
// end in it: OpenAI-compatible servers (vLLM, SGLang, llama.cpp) serve their
// API under /v1, and leaving it out is the commonest slip. "" when the path
// already ends in /v1.
func (c *Client) v1Hint() string {
	u, err := url.Parse(c.base)
	if err != nil || strings.HasSuffix(strings.ToLower(u.Path), "/v1") {
		return ""
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1"
	u.RawPath = ""
	return fmt.Sprintf("; OpenAI-compatible servers serve their API under /v1, so add /v1: base_url = %q", u.String())
}

// probeNotes says what the one-token request showed about usage and text.
func probeNotes(res *Result, counter bool) []string {
	var notes []string
	switch {
	case !res.Usage && counter:
		notes = append(notes, "The stream carried no usage, so tokens will be counted client-side with the corpus tokenizer.")
	case !res.Usage:
		notes = append(notes, "The stream carried no usage and no tokenizer is set, so token counts will be 0.")
	case !res.CachedReported:
		notes = append(notes, "The server's usage does not report cached tokens, so cached_tokens_ratio will have no data (vLLM reports them with --enable-prompt-tokens-details).")
	}
	if res.TTFT == 0 {
		notes = append(notes, "The one-token request produced no text.")
	}
	return notes
}

// ModelList names the models for a message: "(none)", or the first
// listedModels of the list followed by how many there are in all; names are
// escaped and cut to 100 bytes, since the server chose them.
func ModelList(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	names := make([]string, 0, listedModels)
	for _, m := range s[:min(len(s), listedModels)] {
		names = append(names, escapeControls(m, 100))
	}
	if len(s) <= listedModels {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more (%d in all)", strings.Join(names, ", "), len(s)-listedModels, len(s))
}

// Model is one entry of /v1/models.
type Model struct {
	ID string `json:"id"`
	// MaxModelLen is the model's context length in tokens, as vLLM and
	// SGLang list it; 0 when the entry does not say.
	MaxModelLen int `json:"max_model_len"`
}

// Models reads the target's model list, GET <BaseURL>/models, in the
// server's order. status is the answer's HTTP status, 0 when none came. Its
// error says what preflight's would: an unreachable target with the TLS
// setting that fixes it, rejected credentials, a 404 under a root without
// /v1 with the base_url to write; it never carries the target's credentials.
func (c *Client) Models(ctx context.Context) (models []Model, status int, err error) {
	models, status, err = c.readModels(ctx)
	if err != nil {
		_, err = c.explainModels(err, status)
	}
	return models, status, c.scrubErr(err)
}

// explainModels adds to a failed model list's error what to do about it,
// and reports whether the failure is decisive: no answer (the TLS setting
// that fixes a certificate failure), rejected credentials, or a 404 under a
// root whose path does not end in /v1 (the base_url to write instead).
func (c *Client) explainModels(err error, status int) (decisive bool, explained error) {
	switch {
	case err == nil:
		return false, nil
	case status == 0:
		return true, fmt.Errorf("cannot reach the target: %w%s", err, tlsconf.Hint(err))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return true, fmt.Errorf("%w (check api_key and headers)", err)
	case status == http.StatusNotFound && c.v1Hint() != "":
		return true, fmt.Errorf("%w%s", err, c.v1Hint())
	}
	return false, err
}

// readModels reads /v1/models. status is 0 when no response came.
func (c *Client) readModels(ctx context.Context) ([]Model, int, error) {
	u := c.base + "/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", u, err)
	}
	req.Header = c.header.Clone()
	resp, err := c.ctl.Do(req)
	if err != nil {
		return nil, 0, err // url.Error names the method and URL
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("GET %s: reading the body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("GET %s: http_%d: %s", u, resp.StatusCode, c.bodyMessage(body))
	}
	var list struct {
		Data []Model `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("GET %s: not a model list: %w", u, err)
	}
	return list.Data, resp.StatusCode, nil
}

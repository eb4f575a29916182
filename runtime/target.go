package runtime

import (
	"net/http"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// TokenizerOptions fills what a corpus with tokenizer = "server" needs from
// the target it is used against, when o names no server yet: the root of
// the target's base_url (without /v1), its model and credentials. Other
// fields of o are kept. A target without base_url (the simulator) adds
// nothing.
func TokenizerOptions(o tokenizer.Options, t *spec.Target) (tokenizer.Options, error) {
	if o.ServerURL != "" || t == nil || t.BaseURL == "" {
		return o, nil
	}
	return serverTokenizer(o, t, t.BaseURL), nil
}

// serverTokenizer points o at the server at baseURL with t's credentials.
func serverTokenizer(o tokenizer.Options, t *spec.Target, baseURL string) tokenizer.Options {
	o.ServerURL = strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1")
	o.Model = t.Model
	o.Header = targetHeader(t)
	o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	return o
}

// targetHeader is the authentication the target's requests carry: api_key
// as a bearer token, then the headers (which may replace it).
func targetHeader(t *spec.Target) http.Header {
	h := http.Header{}
	if t.APIKey != "" {
		h.Set("Authorization", "Bearer "+t.APIKey)
	}
	for k, v := range t.Headers {
		h.Set(k, v)
	}
	return h
}

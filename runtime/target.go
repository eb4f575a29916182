package runtime

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/internal/redirect"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
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
	return serverTokenizer(o, t, t.BaseURL)
}

// serverTokenizer points o at the server at baseURL with t's credentials
// and tls settings.
func serverTokenizer(o tokenizer.Options, t *spec.Target, baseURL string) (tokenizer.Options, error) {
	cfg, err := tlsconf.Load(t.TLS)
	if err != nil {
		return o, err
	}
	o.ServerURL = strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1")
	o.Model = t.Model
	o.Header = targetHeader(t)
	o.HTTPClient = &http.Client{Timeout: 60 * time.Second, CheckRedirect: redirect.SameHost, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg}}
	return o, nil
}

// metricsAccess is how the scraper reaches the target's /metrics: the
// metrics block's bearer token, headers and tls settings (which the dsl
// defaults to the target's api_key, headers and tls).
func metricsAccess(t *spec.Target) (promscrape.Access, error) {
	if t.Metrics == nil {
		return promscrape.Access{}, nil
	}
	cfg, err := tlsconf.Load(t.Metrics.TLS)
	if err != nil {
		return promscrape.Access{}, fmt.Errorf("metrics: %w", err)
	}
	h := http.Header{}
	if t.Metrics.BearerToken != "" {
		h.Set("Authorization", "Bearer "+t.Metrics.BearerToken)
	}
	for k, v := range t.Metrics.Headers {
		h.Set(k, v)
	}
	return promscrape.Access{TLS: cfg, Header: h}, nil
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

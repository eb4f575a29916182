// Package redirect is the redirect policy of every HTTP client that carries
// the target's credentials (api key, headers, bearer token): a redirect may
// stay on the host it started from, never leave it, since Go forwards every
// header but Authorization to the new host.
package redirect

import (
	"errors"
	"fmt"
	"net/http"
)

// maxHops bounds redirects on the same host, as net/http's default does.
const maxHops = 10

// SameHost is an http.Client CheckRedirect that refuses a redirect to
// another scheme or host.
func SameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= maxHops {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("refused a redirect from %s://%s to another host (%s://%s): the target's credentials would go with it", first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

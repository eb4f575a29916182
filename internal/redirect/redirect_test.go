package redirect

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSameHost(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the other host was reached with header %q", r.Header.Get("X-Key"))
	}))
	defer other.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/done", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer origin.Close()
	c := &http.Client{CheckRedirect: SameHost}
	get := func(path string) error {
		req, _ := http.NewRequest(http.MethodGet, origin.URL+path, nil)
		req.Header.Set("X-Key", "secret")
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get("/here"); err != nil {
		t.Errorf("a redirect on the same host: %v", err)
	}
	if err := get("/away"); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("a redirect to another host: %v, want it refused", err)
	}
}

package tokenizer

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A server behind authentication gets the target's credentials: the
// header given, or basic auth from the URL; errors never repeat them.
func TestServerCredentials(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw-tok-secret"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if (auth != "Bearer sk-tok-secret" || r.Header.Get("X-Team") != "hdr-tok-secret") && auth != basic {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"bad credentials: `+auth+` `+r.Header.Get("X-Team")+`"}`)
			return
		}
		_, _ = io.WriteString(w, `{"tokens":[1,2],"count":2}`)
	}))
	defer srv.Close()
	withUser := strings.Replace(srv.URL, "http://", "http://alice:pw-tok-secret@", 1)
	tests := []struct {
		name   string
		url    string
		header http.Header
		ok     bool
	}{
		{"bearer and header", srv.URL, http.Header{"Authorization": {"Bearer sk-tok-secret"}, "X-Team": {"hdr-tok-secret"}}, true},
		{"credentials in the URL", withUser + "/v1", nil, true},
		{"wrong key", srv.URL, http.Header{"Authorization": {"Bearer sk-tok-secret-wrong"}, "X-Team": {"hdr-tok-secret"}}, false},
	}
	for _, tc := range tests {
		tok, err := Load(Server, Options{ServerURL: tc.url, Header: tc.header})
		if err != nil {
			t.Fatal(err)
		}
		n, err := CountErr(context.Background(), tok, "a b")
		switch {
		case tc.ok && (err != nil || n != 2):
			t.Errorf("%s: count %d, %v", tc.name, n, err)
		case !tc.ok && err == nil:
			t.Errorf("%s: no error", tc.name)
		case !tc.ok:
			for _, s := range []string{"sk-tok-secret", "hdr-tok-secret", "pw-tok-secret"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("%s: error shows %q: %v", tc.name, s, err)
				}
			}
		}
	}
}

package tokenizer

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The server tokenizer's errors never carry the URL's credentials, also when
// the server echoes them back around the point where the message is cut.
func TestServerErrorsHideURLCredentials(t *testing.T) {
	const user, pw = "tok-Rm3Lx9VbGe5", "pw-Hq7Zc2Kp5NsW"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	for lead := range 12 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			u, p, _ := r.BasicAuth()
			echo := strings.Repeat(auth+" "+u+":"+p+" ", 20)
			http.Error(w, strings.Repeat("x", lead)+echo, http.StatusUnauthorized)
		}))
		root := strings.Replace(srv.URL, "http://", "http://"+user+":"+pw+"@", 1)
		tok, err := NewServer(root+"/v1", "m", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tok.CountErr(context.Background(), "hello")
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
			t.Fatalf("lead %d: err %v, want HTTP 401", lead, err)
		}
		for _, s := range []string{user, pw, basic} {
			for i := 0; i+6 <= len(s); i++ {
				if strings.Contains(err.Error(), s[i:i+6]) {
					t.Fatalf("lead %d: error carries %q: %v", lead, s[i:i+6], err)
				}
			}
		}
	}
}

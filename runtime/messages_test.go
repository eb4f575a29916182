package runtime

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/internal/msgcheck"
)

// dropResets is a recordingServer whose /reset_prefix_cache closes the
// connection without an answer.
type dropResets struct{ recordingServer }

func (s *dropResets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/reset_prefix_cache" {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	s.recordingServer.ServeHTTP(w, r)
}

// A sweep whose preflight or prefix-cache resets fail says so once per
// step: neither its error nor its progress lines repeat a step's name
// ("reset prefix cache: reset prefix cache: …") or the scenario's.
func TestFailureMessagesSayEachStepOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/v1"
	l.Close()
	tests := []struct {
		name    string
		handler http.Handler
		base    string // the server's URL is put in place of %s
		model   string
		wantErr string // "" when the sweep runs
		wantLog string
	}{
		{name: "refused", base: refused, wantErr: "cannot reach the target"},
		{name: "no /v1", handler: &recordingServer{}, base: "%s", model: "-", wantErr: "add /v1"},
		{name: "unknown model", handler: &recordingServer{}, base: "%s/v1", model: "other", wantErr: `model "other" is not served`},
		{name: "reset dropped", handler: &dropResets{}, base: "%s/v1", wantLog: "reset prefix cache: Post"},
		{name: "reset 404", handler: &recordingServer{}, base: "%s/v1", wantLog: "reset prefix cache: POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if tt.handler != nil {
				ts := httptest.NewServer(tt.handler)
				defer ts.Close()
				base = strings.Replace(base, "%s", ts.URL, 1)
			}
			file, sc := sweepScenario(t, base, true)
			sc.Grid.Concurrent = []int{1}
			switch tt.model {
			case "-":
				sc.Target.Model = ""
			case "":
			default:
				sc.Target.Model = tt.model
			}
			var log bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			_, err := Run(ctx, file, sc, Options{OutDir: t.TempDir(), Progress: &log})
			var msgs []string
			if err != nil {
				// The terminal names the scenario before the error, as
				// before every progress line: the error need not.
				msgs = append(msgs, sc.Name+": "+err.Error())
				if named := fmt.Sprintf("scenario %q", sc.Name); strings.Contains(err.Error(), named) {
					t.Errorf("the error names the %s its caller names: %v", named, err)
				}
			}
			msgs = append(msgs, strings.Split(log.String(), "\n")...)
			all := strings.Join(msgs, "\n")
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("the sweep failed: %v", err)
			}
			if !strings.Contains(all, tt.wantLog) {
				t.Errorf("output lacks %q:\n%s", tt.wantLog, all)
			}
			for _, m := range msgs {
				if r := msgcheck.Repeated(m); r != "" {
					t.Errorf("%q repeats itself: %s", r, m)
				}
			}
		})
	}
}

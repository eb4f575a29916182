package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestClientDisconnectFreesRequest: a client that goes away (mid-stream,
// while waiting for a non-streamed answer, or while its prompt is still in
// the front end) must free the engine's request and its KV blocks, and leave
// no goroutine behind.
func TestClientDisconnectFreesRequest(t *testing.T) {
	cfg := testConfig()
	cfg.StepFixed = 5 * time.Millisecond
	cfg.FrontendToken = 200e-6 // ~600 prompt tokens: ~120 ms in the front end
	s := start(t, cfg)
	text := strings.Repeat("word ", 600)
	base := runtime.NumGoroutine()
	for _, tt := range []struct {
		name   string
		stream bool
		after  time.Duration // cancel this long after the request starts; 0: after the first event
	}{
		{"mid-stream", true, 0},
		{"waiting whole", false, 400 * time.Millisecond},
		{"in the front end", true, 20 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := chatBody(text, 2000, false)
			body["stream"] = tt.stream
			b, _ := json.Marshal(body)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL()+"/chat/completions", bytes.NewReader(b))
			if tt.after > 0 {
				time.AfterFunc(tt.after, cancel)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err == nil {
				if tt.after == 0 {
					sc := bufio.NewScanner(resp.Body)
					for sc.Scan() && !strings.Contains(sc.Text(), "content") {
					}
					if st := s.Stats(); st.Running != 1 || st.KVUsage == 0 {
						t.Fatalf("while streaming: %+v", st)
					}
					cancel()
				}
				resp.Body.Close()
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				st := s.Stats()
				if st.Running == 0 && st.Waiting == 0 && st.KVUsage == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("request not freed after the client left: %+v", st)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

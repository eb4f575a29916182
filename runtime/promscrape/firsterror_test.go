package promscrape

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A failing endpoint is reported once: FirstError keeps the first failure
// whatever follows, Errors counts them all, and a healthy endpoint has none.
func TestFirstError(t *testing.T) {
	statuses := []int{http.StatusOK, http.StatusServiceUnavailable, http.StatusOK, http.StatusInternalServerError}
	var i atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st := statuses[i.Add(1)-1]
		w.WriteHeader(st)
		if st == http.StatusOK {
			_, _ = w.Write([]byte("vllm:num_requests_running 1\n"))
		}
	}))
	defer srv.Close()
	s := newScraper(srv.URL+"/metrics", time.Second, nil, time.Now)
	tests := []struct {
		wantFirst  string // "" for none
		wantErrors int
	}{
		{"", 0},
		{"HTTP 503", 1},
		{"HTTP 503", 1},
		{"HTTP 503", 2},
	}
	for n, tc := range tests {
		_ = s.ScrapeNow(context.Background())
		err := s.FirstError()
		switch {
		case tc.wantFirst == "" && err != nil:
			t.Errorf("scrape %d: FirstError %v, want none", n, err)
		case tc.wantFirst != "" && (err == nil || !strings.Contains(err.Error(), tc.wantFirst)):
			t.Errorf("scrape %d: FirstError %v, want %q", n, err, tc.wantFirst)
		}
		if got := s.Errors(); got != tc.wantErrors {
			t.Errorf("scrape %d: Errors %d, want %d", n, got, tc.wantErrors)
		}
	}
	// The recorder fed by Ingest reports a garbled text the same way.
	r := NewRecorder(nil)
	_ = r.Ingest(t0, strings.NewReader("not metrics {{{"))
	if err := r.FirstError(); err == nil || !strings.Contains(err.Error(), "parse metrics") || r.Errors() != 1 {
		t.Errorf("recorder: FirstError %v, Errors %d", err, r.Errors())
	}
}

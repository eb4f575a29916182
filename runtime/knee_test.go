package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// withMetrics serves text from fn on /metrics and everything else from h.
func withMetrics(h http.Handler, fn func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			fmt.Fprint(w, fn())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// A target whose /metrics exports its TTFT histogram with only the +Inf
// bucket leaves server_ttft_p95 without data; the sweep still runs every
// point and writes a readable results.json.
func TestInfOnlyServerHistogramIsNoData(t *testing.T) {
	var n atomic.Int64
	srv := &recordingServer{}
	ts := httptest.NewServer(withMetrics(srv, func() string {
		c := n.Add(1)
		return "# TYPE vllm:time_to_first_token_seconds histogram\n" +
			fmt.Sprintf("vllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} %d\n", c) +
			fmt.Sprintf("vllm:time_to_first_token_seconds_sum %d\nvllm:time_to_first_token_seconds_count %d\n", c, c)
	}))
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	sc.Target.Metrics = &spec.Metrics{URL: ts.URL + "/metrics", Interval: 20 * time.Millisecond}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Run(ctx, file, sc, Options{OutDir: out})
	if err != nil {
		t.Fatalf("exec failed on a server metric no SLO reads: %v", err)
	}
	if len(r.Points) != 2 {
		t.Fatalf("%d points, want 2", len(r.Points))
	}
	if _, err := results.Load(Dir(sc, out)); err != nil {
		t.Fatalf("results.json unreadable: %v", err)
	}
}

// A server that answers every chat request with 429 passes no point, even
// when the only SLO reads a metric the failures do not touch: throughput
// (a fast 429 makes requests_per_s high) or a preemption counter that never
// moves. A point that served nothing does not pass, and there is no best
// point.
func TestAllFailedServerPassesNoSLO(t *testing.T) {
	cases := []struct {
		name, cond string
		scrape     bool
	}{
		{"throughput", "requests_per_s >= 1", false},
		{"preemptions", "preemptions <= 0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(tooManyRequests))
			defer ts.Close()
			file, sc := sweepScenario(t, ts.URL+"/v1", false)
			if tc.scrape {
				sc.Target.Metrics = &spec.Metrics{URL: ts.URL + "/metrics", Interval: time.Hour}
			}
			cond, err := metrics.Compile(tc.cond, metrics.ScopePoint)
			if err != nil {
				t.Fatal(err)
			}
			sc.SLOs = []spec.SLO{{Name: tc.name, Condition: cond}}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Points {
				if p.Passed {
					t.Errorf("C=%d S=%d passed with error_rate %v (%v) and requests_per_s %.0f: the server served nothing",
						p.Concurrent, p.Sequential, p.Metrics.ErrorRate, p.Errors, p.Metrics.RequestsPerS)
				}
			}
			if r.Best != nil {
				t.Errorf("best point %+v from a server that failed every request", *r.Best)
			}
		})
	}
}

// tooManyRequests answers preflight and then every chat request with 429,
// and serves a preemption counter that never moves.
func tooManyRequests(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprint(w, "# TYPE vllm:num_preemptions_total counter\nvllm:num_preemptions_total 0\n")
	case "/v1/models":
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake","object":"model"}]}`)
	case "/v1/chat/completions":
		if r.Header.Get("X-Request-Id") == "mrqa-preflight" {
			(&recordingServer{}).ServeHTTP(w, r)
			return
		}
		http.Error(w, `{"error":{"message":"too many requests"}}`, http.StatusTooManyRequests)
	default:
		http.NotFound(w, r)
	}
}

// requests_per_s counts only requests sent to the server: opening_failed
// records stand for questions never sent and are not counted.
func TestRequestsPerSecondCountsSentRequests(t *testing.T) {
	recs := []metrics.Record{
		{Turn: 0, Start: 0, Duration: 1, Error: "http_500"},
		{Turn: 1, Start: 1, Error: metrics.ErrOpeningFailed},
		{Turn: 0, Start: 1, Duration: 1, Attempt: 2, Error: "http_500"},
	}
	p := metrics.Aggregate(1, 1, recs)
	// Two requests reached the server over 2 s.
	if p.RequestsPerS != 1 {
		t.Errorf("requests_per_s = %v, want 1 (2 requests sent in 2 s; the opening_failed turn was never sent)", p.RequestsPerS)
	}
}

var _ = strings.Contains

// A results.json written by an older mrqa has no recorded identity, and
// its points were judged under older rules: -resume refuses it rather than
// keep those verdicts, and leaves it untouched.
func TestResumeRefusesARunWithoutIdentity(t *testing.T) {
	srv := &recordingServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	out := t.TempDir()
	dir := Dir(sc, out)
	// What an earlier version left: C=2 S=1 passed, although every opening failed.
	old := &results.Results{
		SchemaVersion: results.SchemaVersion, Tool: "mrqa", ToolVersion: "v0.1.0", Scenario: sc.Name,
		Points: []results.Point{{Concurrent: 2, Sequential: 1, Passed: true,
			Metrics: metrics.Point{Concurrent: 2, Sequential: 1, Sessions: 2, Requests: 4, Errors: 2, ErrorRate: 0.5, Samples: 2, OpeningTTFTP95: metrics.Inf},
			Errors:  map[string]int{"http_500": 2},
			SLOs:    []results.SLOOutcome{{Name: "ttft", Outcome: metrics.Pass}}}},
	}
	if err := saveResults(dir, old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Run(ctx, file, sc, Options{OutDir: out, Resume: true, Version: "v0.2.0"})
	if !errors.Is(err, ErrOutputInUse) || r != nil {
		t.Fatalf("resume over a run with no recorded identity: err %v, results %v; want it refused, nothing adopted", err, r)
	}
	// The old run is untouched.
	back, err := results.Load(dir)
	if err != nil || back.ToolVersion != old.ToolVersion || len(back.Points) != 1 {
		t.Fatalf("the old run changed: %v %+v", err, back)
	}
}

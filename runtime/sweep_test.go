package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func sweepScenario(t *testing.T, baseURL string, reset bool) (*spec.File, *spec.Scenario) {
	t.Helper()
	cond, err := metrics.Compile("ttft_p95 <= 10s", metrics.ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	sc := testScenario(1)
	sc.Target = &spec.Target{Name: "fake", BaseURL: baseURL, Model: "fake", API: "chat", Between: spec.BetweenPoints{ResetPrefixCache: reset}}
	sc.Corpus = &spec.Corpus{Name: "c", Tokenizer: "cl100k_base", Tokens: 32, Source: spec.Source{Kind: spec.SourceSynthetic, Documents: 4, Seed: 1}}
	sc.Grid = spec.Grid{Concurrent: []int{1, 2}, Sequential: []int{1}}
	sc.Score = "sessions"
	sc.SLOs = []spec.SLO{{Name: "ttft", Condition: cond}}
	return &spec.File{Path: "t.hcl", Scenarios: []*spec.Scenario{sc}}, sc
}

// A point claims it started on an empty prefix cache only when the reset
// really happened: a server that answers 404 to the reset must not be
// reported as reset.
func TestRunResetHonesty(t *testing.T) {
	for _, accept := range []bool{false, true} {
		srv := &recordingServer{}
		if accept {
			srv.resets = 1
		}
		ts := httptest.NewServer(srv)
		file, sc := sweepScenario(t, ts.URL+"/v1", true)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
		cancel()
		ts.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Points) != 2 {
			t.Fatalf("%d points", len(r.Points))
		}
		for _, p := range r.Points {
			if p.Reset != accept {
				t.Errorf("server accepts reset=%v: point C=%d reports reset=%v", accept, p.Concurrent, p.Reset)
			}
			if p.Metrics.Requests != 2*p.Concurrent || !p.Passed {
				t.Errorf("point %+v", p.Metrics)
			}
		}
		if accept && srv.resets != 3 { // one before each of the two points
			t.Errorf("%d resets, want 2", srv.resets-1)
		}
	}
}

// A histogram kept raw with nothing but its +Inf bucket has no p95; the
// summary must leave it out rather than write NaN, which JSON cannot hold.
func TestServerSummaryNoNaN(t *testing.T) {
	sum := promscrape.Summary{Has: map[string]bool{}, Stats: map[string]promscrape.Stat{
		"my_hist":  {Kind: promscrape.KindHistogram, P95: math.NaN()},
		"my_gauge": {Kind: promscrape.KindGauge, Max: 3},
	}}
	out := serverSummary(sum, time.Second)
	if _, ok := out.Extra["my_hist"]; ok || out.Extra["my_gauge"] != 3 {
		t.Fatalf("extra = %v", out.Extra)
	}
	if _, err := json.Marshal(out); err != nil {
		t.Fatal(err)
	}
}

// A server that fails every opening (the turn carrying the document) and
// answers everything else at once must pass no point: the follow-ups it
// answers never had the document. Each session re-sends its opening in its
// next slot, so the server keeps seeing full-size openings, and every
// question it could not ask is a failed steady turn.
func TestFailedOpeningsPassNoPoint(t *testing.T) {
	isOpening := func(msgs []map[string]string) bool {
		for _, m := range msgs {
			if m["role"] == "user" {
				return strings.HasPrefix(m["content"], "Read ")
			}
		}
		return false
	}
	srv := &recordingServer{failMsgs: isOpening}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	sc.Rounds = 2
	sc.Grid = spec.Grid{Concurrent: []int{1, 2}, Sequential: []int{1, 2}}
	expect, err := metrics.Compile("max_sessions >= 1", metrics.ScopeSweep)
	if err != nil {
		t.Fatal(err)
	}
	sc.Expect = expect
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err) // the server answered, with errors: a measurement, not a failed run
	}
	if len(r.Points) != 4 {
		t.Fatalf("%d points, want 4", len(r.Points))
	}
	for _, p := range r.Points {
		m := p.Metrics
		n := m.Sessions
		if p.Passed || m.TTFTP95 != metrics.Inf || m.Samples != n*sc.Rounds || m.ErrorRate != 1 {
			t.Errorf("C=%d S=%d: passed=%v ttft_p95=%v samples=%d error_rate=%v; want a failing point with %d +Inf samples, error rate 1",
				p.Concurrent, p.Sequential, p.Passed, m.TTFTP95, m.Samples, m.ErrorRate, n*sc.Rounds)
		}
		if got := p.Errors[metrics.ErrOpeningFailed]; got != n*sc.Rounds {
			t.Errorf("C=%d S=%d: %d turns recorded as %s, want %d", p.Concurrent, p.Sequential, got, metrics.ErrOpeningFailed, n*sc.Rounds)
		}
	}
	if r.Best != nil || r.ExpectOutcome != metrics.Fail {
		t.Errorf("best %+v, expect %q; want no best point and a failed expect", r.Best, r.ExpectOutcome)
	}
	// The load stayed what the plan says: every request the server saw
	// was a full opening, one per slot.
	var reqs []recorded
	for _, q := range srv.reqs {
		if q.id != "mrqa-preflight" {
			reqs = append(reqs, q)
		}
	}
	want := 0
	for _, p := range r.Points {
		want += p.Metrics.Sessions * (sc.Rounds + 1)
	}
	if len(reqs) != want {
		t.Errorf("server saw %d requests, want %d (one per slot)", len(reqs), want)
	}
	for _, q := range reqs {
		if !isOpening(q.messages) {
			t.Errorf("request %s asked a question without the document: %v", q.id, q.messages)
		}
	}
}

// Rules that can be decided before the first point stop exec there, with
// the facts validate could not know: the documents the corpus really
// yielded and the context length the target lists. Nothing is sent past
// preflight and nothing is written.
func TestPlanCheckedBeforeFirstPoint(t *testing.T) {
	cases := []struct {
		name        string
		maxModelLen int
		concurrent  []int
		want        string
	}{
		{"documents", 0, []int{1, 8}, "needs 8, but corpus.c has 4"},
		{"context", 40, []int{1}, "needs at least 48 tokens"}, // 32-token documents + 2 answers of 8
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &recordingServer{maxModelLen: tc.maxModelLen}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			file, sc := sweepScenario(t, ts.URL+"/v1", false)
			sc.Grid.Concurrent = tc.concurrent
			out := t.TempDir()
			_, err := Run(context.Background(), file, sc, Options{OutDir: out})
			if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrPlan saying %q", err, tc.want)
			}
			for _, q := range srv.reqs {
				if q.id != "mrqa-preflight" {
					t.Errorf("request %s sent after the plan was rejected", q.id)
				}
			}
			if _, err := os.Stat(filepath.Join(out, sc.Name, "results.json")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("results.json written (stat: %v)", err)
			}
		})
	}
}

// Server metrics that could not be read make a point no_data with the
// reason, never a pass and never a reading of 0: a /metrics that fails
// every scrape, and a gauge scraped less often than a point lasts.
func TestServerMetricsNoData(t *testing.T) {
	kv, err := metrics.Compile("kv_cache_usage_max < 0.99", metrics.ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("scrapes fail", func(t *testing.T) {
		srv := &recordingServer{}
		ts := httptest.NewServer(srv) // serves 404 on /metrics
		defer ts.Close()
		file, sc := sweepScenario(t, ts.URL+"/v1", false)
		sc.Target.Model = "" // preflight takes the only model listed, and says so
		sc.Target.Metrics = &spec.Metrics{URL: ts.URL + "/metrics", Interval: time.Hour}
		sc.SLOs = append(sc.SLOs, spec.SLO{Name: "kv", Condition: kv})
		var log strings.Builder
		r, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir(), Progress: &log})
		if err != nil {
			t.Fatal(err)
		}
		// The failing scrape is told once, however many points it affects;
		// what preflight learned is told too.
		if n := strings.Count(log.String(), "warning: scraping the target's /metrics failed"); n != 1 || !strings.Contains(log.String(), "preflight: ") {
			t.Errorf("%d scrape warnings over %d points, want 1, and a preflight note; log:\n%s", n, len(r.Points), log.String())
		}
		for _, p := range r.Points {
			o := p.SLOs[1]
			if p.Passed || o.Outcome != metrics.NoData || !strings.Contains(o.Reason, "kv_cache_usage_max: every scrape of /metrics during the point failed") {
				t.Errorf("C=%d: passed %v, kv outcome %+v", p.Concurrent, p.Passed, o)
			}
		}
	})
	t.Run("gauge not read in a short point", func(t *testing.T) {
		file, sc := sweepScenario(t, "", false)
		sc.Target = &spec.Target{Name: "sim", Simulator: &spec.Simulator{Profile: "quickstart", Clock: "virtual"},
			Metrics: &spec.Metrics{Interval: time.Hour}}
		sc.SLOs = []spec.SLO{{Name: "kv", Condition: kv}}
		r, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Points {
			o := p.SLOs[0]
			if p.Passed || o.Outcome != metrics.NoData || !strings.Contains(o.Reason, "not read while the point's requests were in flight") {
				t.Errorf("C=%d: passed %v, kv %v, outcome %+v", p.Concurrent, p.Passed, p.Metrics.KVCacheUsageMax, o)
			}
		}
	})
}

// A client that stalls while a point runs flags the point as possibly
// client-limited in results.json. The stall is a clock jump the monitor
// sees between two ticks, so the test does not depend on the machine.
func TestClientStallFlagsPoint(t *testing.T) {
	srv := &recordingServer{delay: 30 * time.Millisecond}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	sc.Grid.Concurrent = []int{1}
	var calls atomic.Int64
	clock := func() time.Time {
		if calls.Add(1) >= 2 { // from the first tick on, 1.5 s later
			return time.Now().Add(1500 * time.Millisecond)
		}
		return time.Now()
	}
	r, err := Run(context.Background(), file, sc, Options{OutDir: t.TempDir(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Points[0].Client
	if c == nil || !c.Limited || c.LagMax < 1.5 || !strings.Contains(c.Why, "stalled for 1.5") {
		t.Fatalf("client check %+v; want a 1.5s stall flagged", c)
	}
}

// A target that goes down after preflight leaves finished points whose
// failures are all connection errors. They measured an absent server, not
// a loaded one: -resume runs them again once the target is back.
func TestResumeRerunsPointsOfADownTarget(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	srv := &recordingServer{}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if r.Header.Get("X-Request-Id") == "mrqa-preflight" {
			go l.Close() // down right after preflight
		}
	})}
	go func() { _ = hs.Serve(l) }()
	file, sc := sweepScenario(t, "http://"+addr+"/v1", false)
	sc.Target.DownAfter = 5
	out := t.TempDir()
	r, err := Run(context.Background(), file, sc, Options{OutDir: out})
	if !errors.Is(err, ErrTargetDown) || len(r.Points) != 1 || r.Points[0].Errors[metrics.ErrConnect] != 2 {
		t.Fatalf("first run: err %v, %d points; want target down after one point of connect errors", err, len(r.Points))
	}
	_ = hs.Close()

	l2, err := net.Listen("tcp", addr) // the target is back
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	hs2 := &http.Server{Handler: &recordingServer{}}
	go func() { _ = hs2.Serve(l2) }()
	defer hs2.Close()
	var log strings.Builder
	r, err = Run(context.Background(), file, sc, Options{OutDir: out, Resume: true, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 2 || !r.Points[0].Passed || !r.Points[1].Passed || !strings.Contains(log.String(), "failed to connect while the target was down; it runs again") {
		t.Fatalf("resumed: %d points, passed %v/%v; log:\n%s", len(r.Points), r.Points[0].Passed, r.Points[len(r.Points)-1].Passed, log.String())
	}
}

// Which sessions shared a document is kept once per document: the point's
// record grows linearly with its sessions. 4,096 sessions over 4 documents
// listed each session's 1,023 sharers before, about 33 MB.
func TestSharedDocumentsLinear(t *testing.T) {
	sc := testScenario(1)
	sc.Assign = spec.AssignRandom
	plan, err := PlanPoint(sc, testDocs(4), 256, 16)
	if err != nil {
		t.Fatal(err)
	}
	pt := buildPoint(sc, plan, nil, time.Now(), time.Second)
	b, err := json.Marshal(pt)
	if err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, sessions := range pt.SharedDocuments {
		shared += len(sessions)
	}
	if shared != 4096 || len(b) > 4096*100 {
		t.Fatalf("%d sessions listed as sharing, %d bytes; want 4096 and at most 100 bytes a session", shared, len(b))
	}
}

// Ctrl-C during the only point of a virtual-clock sweep interrupts it: the
// run reports ErrInterrupted (exit 130), never a finished sweep.
func TestInterruptedVirtualPoint(t *testing.T) {
	file, sc := sweepScenario(t, "", false)
	sc.Target = &spec.Target{Name: "sim", Simulator: &spec.Simulator{Profile: "seed-vllm", Clock: "virtual"}}
	sc.Corpus.Tokens = 131072
	sc.Corpus.Source.Documents = 16
	sc.Rounds = 2
	sc.Script.MaxTokens = 512
	sc.Grid = spec.Grid{Concurrent: []int{4}, Sequential: []int{4}}
	ctx, cancel := context.WithCancel(context.Background())
	var log strings.Builder
	prog := &cancelOnPoint{w: &log, cancel: cancel}
	start := time.Now()
	r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir(), Progress: prog})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v (after %v), want ErrInterrupted; log:\n%s", err, time.Since(start), log.String())
	}
	if r != nil && len(r.Points) != 0 {
		t.Fatalf("an interrupted point was recorded: %+v", r.Points)
	}
}

// cancelOnPoint cancels the run as soon as the progress says a point began.
type cancelOnPoint struct {
	w      io.Writer
	cancel context.CancelFunc
}

func (c *cancelOnPoint) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "point C=") {
		c.cancel()
	}
	return c.w.Write(p)
}

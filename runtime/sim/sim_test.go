package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func session(name, doc string, docTokens int, turns ...Turn) Session {
	return Session{Name: name, Document: doc, DocumentTokens: docTokens, Turns: turns}
}

func TestRunVirtualOrderAndRecords(t *testing.T) {
	cfg, _ := profile.Build(&spec.Simulator{Profile: profile.Quickstart})
	workers := [][]Session{
		{session("c1s1", "d1", 1000, Turn{NewTokens: 1010, MaxTokens: 4}, Turn{NewTokens: 20, MaxTokens: 4}),
			session("c1s2", "d2", 1000, Turn{NewTokens: 1010, MaxTokens: 4}, Turn{ID: "custom", NewTokens: 20, MaxTokens: 4})},
		{session("c2s1", "d3", 500, Turn{NewTokens: 510, MaxTokens: 8})},
	}
	recs, err := RunVirtual(context.Background(), cfg, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	// Worker 0's order: c1s1 t0, c1s2 t0, c1s1 t1, c1s2 t1; each starts when
	// the previous ends.
	var w0 []string
	prevEnd := 0.0
	for _, r := range recs {
		if !r.OK() || r.TTFT <= 0 || r.End < r.TTFT || r.TTFC != r.TTFT || r.CompletionTokens == 0 || r.Chunks != r.CompletionTokens || r.Duration != r.End {
			t.Errorf("record %+v incomplete", r)
		}
		if r.Worker != 0 {
			continue
		}
		w0 = append(w0, fmt.Sprintf("%s/%d/%s", r.Session, r.Turn, r.ID))
		if math.Abs(r.Start-prevEnd) > 1e-9 {
			t.Errorf("%s turn %d starts at %v, previous ended at %v", r.Session, r.Turn, r.Start, prevEnd)
		}
		prevEnd = r.Start + r.End
	}
	if got := strings.Join(w0, " "); got != "c1s1/0/c1s1-t0 c1s2/0/c1s2-t0 c1s1/1/c1s1-t1 c1s2/1/custom" {
		t.Errorf("worker 0 order %s", got)
	}
	for _, r := range recs {
		switch {
		case r.Session == "c1s1" && r.Turn == 1:
			// Turn 0 computed all but its last answer token: its full
			// blocks are the hit (everything fits the quickstart cache).
			if r.PromptTokens != 1010+4+20 || r.CachedTokens != (1010+4-1)/16*16 {
				t.Errorf("follow-up prompt %d cached %d", r.PromptTokens, r.CachedTokens)
			}
			if r.Slot != 0 || r.Document != "d1" {
				t.Errorf("slot/document %+v", r)
			}
		case r.Session == "c2s1":
			if r.Worker != 1 || r.Start != 0 || r.CompletionTokens != 8 {
				t.Errorf("worker 1 record %+v", r)
			}
		}
	}
	again, _ := RunVirtual(context.Background(), cfg, workers, nil)
	for i := range recs {
		if recs[i] != again[i] {
			t.Fatalf("not deterministic: %+v vs %+v", recs[i], again[i])
		}
	}
}

func TestRunVirtualSharedDocument(t *testing.T) {
	cfg, _ := profile.Build(&spec.Simulator{Profile: profile.Quickstart})
	run := func(doc2 string) int {
		recs, err := RunVirtual(context.Background(), cfg, [][]Session{{
			session("a", "d1", 2000, Turn{NewTokens: 2010, MaxTokens: 2}),
			session("b", doc2, 2000, Turn{NewTokens: 2010, MaxTokens: 2}),
		}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return recs[1].CachedTokens
	}
	if shared, distinct := run("d1"), run("d2"); shared != 2000/16*16 || distinct != 0 {
		t.Errorf("second session cached %d (same document) and %d (other document), want %d and 0", shared, distinct, 2000/16*16)
	}
}

func TestRunVirtualTooLong(t *testing.T) {
	cfg, _ := profile.Build(&spec.Simulator{Profile: profile.Quickstart, Params: map[string]any{"max_model_len": 1120.0}})
	recs, err := RunVirtual(context.Background(), cfg, [][]Session{{session("a", "d", 900,
		Turn{NewTokens: 1000, MaxTokens: 50}, Turn{NewTokens: 60, MaxTokens: 50}, Turn{NewTokens: 10, MaxTokens: 50})}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if recs[1].Error != "http_400" || recs[1].TTFT != 0 || !strings.Contains(recs[1].Message, "maximum context length") {
		t.Errorf("turn 1 %+v, want http_400", recs[1])
	}
	// The failed exchange is left out of the history: turn 2 is turn 0 + answer + its question.
	if !recs[2].OK() || recs[2].PromptTokens != 1000+50+10 {
		t.Errorf("turn 2 %+v", recs[2])
	}
}

// An opening longer than the context is rejected; the session re-sends it
// in each later slot (rejected again) and never asks a question without
// its document: every question turn is recorded as opening_failed.
func TestRunVirtualOpeningRejected(t *testing.T) {
	cfg, _ := profile.Build(&spec.Simulator{Profile: profile.Quickstart, Params: map[string]any{"max_model_len": 1000.0}})
	recs, err := RunVirtual(context.Background(), cfg, [][]Session{{session("a", "d", 1100,
		Turn{NewTokens: 1200, MaxTokens: 10}, Turn{NewTokens: 20, MaxTokens: 10}, Turn{NewTokens: 20, MaxTokens: 10})}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%d:%d:%s", r.ID, r.Turn, r.Attempt, r.Error))
	}
	want := "a-t0:0:0:http_400 a-t1:1:0:opening_failed a-t0-a2:0:2:http_400 a-t2:2:0:opening_failed a-t0-a3:0:3:http_400"
	if strings.Join(got, " ") != want {
		t.Errorf("records\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// quickPoint is the quickstart workload: ~2k-token documents, 2 rounds,
// 32-token answers.
func quickPoint(c, s int) [][]Session {
	workers := make([][]Session, c)
	for w := range workers {
		for k := 0; k < s; k++ {
			sess := session(fmt.Sprintf("c%ds%d", w+1, k+1), fmt.Sprintf("doc-%d", w*s+k),
				DocumentPrefixTokens(0, 8, 2048), Turn{NewTokens: OpeningTokens(0, 8+2048), MaxTokens: 32})
			for r := 0; r < 2; r++ {
				sess.Turns = append(sess.Turns, Turn{NewTokens: FollowUpTokens(8), MaxTokens: 32})
			}
			workers[w] = append(workers[w], sess)
		}
	}
	return workers
}

// TestQuickstartKnee: C×S ≤ 4 keeps every session cached (tens of ms),
// C×S ≥ 6 thrashes and recomputes (over half a second).
func TestQuickstartKnee(t *testing.T) {
	cfg, _ := profile.Build(&spec.Simulator{Profile: profile.Quickstart})
	var b strings.Builder
	total := 0.0
	for c := 1; c <= 3; c++ {
		for s := 1; s <= 3; s++ {
			recs, err := RunVirtual(context.Background(), cfg, quickPoint(c, s), nil)
			if err != nil {
				t.Fatal(err)
			}
			p := steadyP95(recs)
			end := 0.0
			for _, r := range recs {
				end = max(end, r.Start+r.End)
			}
			total += end
			fmt.Fprintf(&b, " %4.0fms", p*1000)
			if c*s <= 4 && p > 0.1 {
				t.Errorf("C=%d S=%d: p95 %.3fs, want ≤ 100ms", c, s, p)
			}
			if c*s >= 6 && p < 0.4 {
				t.Errorf("C=%d S=%d: p95 %.3fs, want ≥ 400ms", c, s, p)
			}
		}
		b.WriteString("\n")
	}
	t.Logf("quickstart steady ttft_p95 (rows C=1..3, columns S=1..3):\n%stotal simulated time %.1fs", b.String(), total)
	if total > 45 {
		t.Errorf("the 3×3 grid takes %.0fs of simulated time, want well under a minute", total)
	}
}

func TestServeAndStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, profile.Quickstart, "127.0.0.1:0", &out) }()
	var url string
	for i := 0; i < 200 && url == ""; i++ {
		time.Sleep(20 * time.Millisecond)
		if s := out.String(); strings.Contains(s, "serving ") {
			url = strings.Fields(strings.SplitN(s, "serving ", 2)[1])[0]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("Serve printed %q", out.String())
	}
	resp, err := http.Get(url + "/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "mrqa-sim-quickstart") {
		t.Errorf("models: %s", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
)

// docBytes is the size of a 128k-token document of English prose (about
// four bytes a token).
const docBytes = 512 << 10

// holdServer reads every chat request's body, then holds the request until
// release is closed and answers with a short stream.
type holdServer struct {
	arrived chan struct{}
	release chan struct{}
}

func (s *holdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake","object":"model"}]}`)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	s.arrived <- struct{}{}
	<-s.release
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}`+"\n\n")
	fmt.Fprint(w, `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// proseDocs makes n distinct documents of about size bytes each, with the
// quotes and line breaks that JSON escaping lengthens, as a corpus holds
// them: each its own string.
func proseDocs(n, size int) []corpus.Document {
	line := "It was the best of times, it was the worst of times; \"quoted\", naïve café.\n"
	docs := make([]corpus.Document, n)
	for i := range docs {
		var b strings.Builder
		b.Grow(size + len(line))
		fmt.Fprintf(&b, "Document %d.\n", i)
		for b.Len() < size {
			b.WriteString(line)
		}
		docs[i] = corpus.Document{ID: fmt.Sprintf("doc%d", i), Text: b.String(), Tokens: size / 4}
	}
	return docs
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// sessionMemory runs one opening for each of n sessions on n workers, each
// with its own document of size bytes, and measures the live heap per
// session while every request is held by the server: the documents as the
// corpus loaded them, what the executor made of them, the sessions'
// histories and connections, and the server's side of those connections
// (in this process too, so the figure is an upper bound). It also returns
// the records, for the caller to check the point ran.
func sessionMemory(t testing.TB, n, size int) (float64, []metrics.Record) {
	srv := &holdServer{arrived: make(chan struct{}, n), release: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	sc := testScenario(0)
	base := liveHeap()
	docs := proseDocs(n, size)
	p, err := PlanPoint(sc, docs, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: n + 1}
	type done struct {
		run Execution
		err error
	}
	finished := make(chan done, 1)
	go func() {
		run, err := ex.RunPoint(context.Background(), p, nil)
		finished <- done{run, err}
	}()
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-srv.arrived:
		case <-timeout:
			t.Fatal("the requests did not all reach the server within a minute")
		}
	}
	held := liveHeap()
	close(srv.release)
	res := <-finished
	if res.err != nil {
		t.Fatal(res.err)
	}
	goruntime.KeepAlive(docs)
	return float64(held-base) / float64(n), res.run.Records
}

// idleConnMemory measures the live heap per warm, idle connection (both
// ends, as sessionMemory).
func idleConnMemory(t testing.TB, n int) float64 {
	ts := httptest.NewServer(&holdServer{})
	defer ts.Close()
	client, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	base := liveHeap()
	conns := make([]*openai.Conn, n)
	for i := range conns {
		conns[i] = client.NewConn()
		if err := conns[i].Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	held := liveHeap()
	for _, c := range conns {
		c.Close()
	}
	return float64(held-base) / float64(n)
}

// TestDocumentMemory holds a distinct-document point in flight and checks
// that each 128k-token document is kept in one form: beyond its idle
// connection, a session takes under 1.5 times its document (the escaped
// form is a few percent longer than the text), where the text kept beside
// its escaped form would take twice the document.
func TestDocumentMemory(t *testing.T) {
	const n = 8
	per, recs := sessionMemory(t, n, docBytes)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if r.Error != "" {
			t.Fatalf("request %s failed: %s %s", r.ID, r.Error, r.Message)
		}
	}
	conn := idleConnMemory(t, n)
	t.Logf("%.0f bytes per in-flight session with a %d-byte document, %.0f per idle connection", per, docBytes, conn)
	if limit := 1.5 * docBytes; per-conn > limit {
		t.Errorf("%.0f bytes per in-flight session beyond its connection, want ≤ %.0f (1.5 × the %d-byte document)", per-conn, limit, docBytes)
	}
}

// BenchmarkSessionMemory reports the live heap per in-flight session of a
// distinct-document point with 128k-token documents, and per warm idle
// connection (docs/PERFORMANCE.md has the targets).
func BenchmarkSessionMemory(b *testing.B) {
	const n = 16
	var session, idle float64
	for b.Loop() {
		session, _ = sessionMemory(b, n, docBytes)
		idle = idleConnMemory(b, 64)
	}
	b.ReportMetric(session, "B/session")
	b.ReportMetric(idle, "B/idle-conn")
}

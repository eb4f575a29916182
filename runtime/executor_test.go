package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// recordingServer is a fake OpenAI-compatible server that records every chat
// request's messages and answers each with a text naming the request.
type recordingServer struct {
	mu   sync.Mutex
	reqs []recorded
	fail func(n int) bool // fail the n-th chat request (1-based) with HTTP 500
	// failMsgs fails a chat request whose messages it picks with HTTP 500.
	failMsgs func(messages []map[string]string) bool
	resets   int // accept POST /reset_prefix_cache when non-zero; counts them
	// maxModelLen is listed as the model's max_model_len when non-zero.
	maxModelLen int
	delay       time.Duration // before answering a chat request
}

type recorded struct {
	id       string
	messages []map[string]string
}

func (s *recordingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/models":
		fmt.Fprintf(w, `{"object":"list","data":[{"id":"fake","object":"model","max_model_len":%d}]}`, s.maxModelLen)
		return
	case "/v1/chat/completions":
	case "/reset_prefix_cache":
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.resets == 0 {
			http.NotFound(w, r)
			return
		}
		s.resets++
		return
	default:
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Messages  []map[string]string `json:"messages"`
		MaxTokens int                 `json:"max_tokens"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, recorded{id: r.Header.Get("X-Request-Id"), messages: req.Messages})
	n := len(s.reqs)
	s.mu.Unlock()
	time.Sleep(s.delay)
	if (s.fail != nil && s.fail(n)) || (s.failMsgs != nil && s.failMsgs(req.Messages)) {
		http.Error(w, `{"error":{"message":"planted failure"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	answer := "answer to " + r.Header.Get("X-Request-Id")
	fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`+"\n\n")
	chunk, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": answer}}}})
	fmt.Fprintf(w, "data: %s\n\n", chunk)
	fmt.Fprint(w, `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func testScenario(rounds int) *spec.Scenario {
	lit := func(s string) spec.Template { return spec.Template{{Kind: spec.PartLiteral, Text: s}} }
	return &spec.Scenario{
		Name:   "t",
		Target: &spec.Target{Name: "fake", API: "chat"},
		Corpus: &spec.Corpus{Name: "c"},
		Script: &spec.Script{
			Name:      "s",
			Opening:   spec.Template{{Kind: spec.PartLiteral, Text: "Read "}, {Kind: spec.PartDocument}, {Kind: spec.PartLiteral, Text: " as "}, {Kind: spec.PartUser}},
			Questions: []spec.Template{lit("q1"), append(lit("q2 round "), spec.Part{Kind: spec.PartRound})},
			MaxTokens: 8,
		},
		Rounds: rounds,
		Seed:   7,
		Assign: "distinct",
	}
}

func testDocs(n int) []corpus.Document {
	docs := make([]corpus.Document, n)
	for i := range docs {
		docs[i] = corpus.Document{ID: fmt.Sprintf("doc%d", i), Text: fmt.Sprintf("DOCUMENT-%d", i)}
	}
	return docs
}

func TestHTTPExecutorOrderAndHistory(t *testing.T) {
	srv := &recordingServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sc := testScenario(2)
	client, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	docs := testDocs(8)
	plan, err := PlanPoint(sc, docs, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{} // the executor takes the documents' text
	for _, d := range docs {
		texts[d.ID] = d.Text
	}
	ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: 10}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := ex.RunPoint(ctx, plan, nil)
	recs := run.Records
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 || len(srv.reqs) != 9 {
		t.Fatalf("got %d records, %d requests; want 9", len(recs), len(srv.reqs))
	}
	// One worker: session 1 turn 0, session 2 turn 0, session 3 turn 0, session 1 turn 1, …
	var order []string
	for _, r := range srv.reqs {
		order = append(order, strings.TrimPrefix(r.id, "run-c1s3-"))
	}
	want := "c1s1-t0 c1s2-t0 c1s3-t0 c1s1-t1 c1s2-t1 c1s3-t1 c1s1-t2 c1s2-t2 c1s3-t2"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("request order\n got %s\nwant %s", got, want)
	}
	// Every request carries the full history: all earlier user messages and
	// the assistant's complete answers, then the new question.
	bySession := map[string][]recorded{}
	for _, r := range srv.reqs {
		sess := strings.Split(strings.TrimPrefix(r.id, "run-c1s3-"), "-")[0]
		bySession[sess] = append(bySession[sess], r)
	}
	for _, sess := range plan.Sessions() {
		rs := bySession[sess.Label]
		if len(rs) != 3 {
			t.Fatalf("%s: %d requests", sess.Label, len(rs))
		}
		if sess.Doc.Text != "" {
			t.Errorf("%s: the run kept %s's text beside its escaped copy", sess.Label, sess.Doc.ID)
		}
		wantOpening := "Read " + texts[sess.Doc.ID] + " as " + sess.Label
		wantMsgs := []map[string]string{{"role": "user", "content": wantOpening}}
		for turn, r := range rs {
			if turn == 1 {
				wantMsgs = append(wantMsgs, map[string]string{"role": "user", "content": "q1"})
			}
			if turn == 2 {
				wantMsgs = append(wantMsgs, map[string]string{"role": "user", "content": "q2 round 2"})
			}
			if !equalMsgs(r.messages, wantMsgs) {
				t.Fatalf("%s turn %d messages\n got %v\nwant %v", sess.Label, turn, r.messages, wantMsgs)
			}
			wantMsgs = append(wantMsgs, map[string]string{"role": "assistant", "content": "answer to " + r.id})
		}
	}
	for _, r := range recs {
		if !r.OK() || r.TTFT <= 0 || r.PromptTokens != 10 || r.CachedTokens != 4 {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestHTTPExecutorFailedTurnLeftOutOfHistory(t *testing.T) {
	// The 2nd request (session 1 turn 1 with S=1) fails; turn 2 must not carry it.
	srv := &recordingServer{fail: func(n int) bool { return n == 2 }}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sc := testScenario(2)
	client, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := PlanPoint(sc, testDocs(2), 1, 1)
	ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: 10}
	run, err := ex.RunPoint(context.Background(), plan, nil)
	recs := run.Records
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1].Error != "http_500" {
		t.Fatalf("records: %+v", recs)
	}
	last := srv.reqs[2].messages
	// opening, answer, q2 — the failed q1 exchange is gone.
	if len(last) != 3 || last[2]["content"] != "q2 round 2" || last[1]["role"] != "assistant" {
		t.Fatalf("history after a failed turn: %v", last)
	}
}

func TestHTTPExecutorTargetDown(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there now: every request is a connect error
	sc := testScenario(3)
	client, err := openai.New(openai.Config{BaseURL: url + "/v1", Model: "fake", ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := PlanPoint(sc, testDocs(8), 2, 4)
	ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: 5}
	run, err := ex.RunPoint(context.Background(), plan, nil)
	recs := run.Records
	if err == nil || !strings.Contains(err.Error(), "target is down") {
		t.Fatalf("err = %v, want target down", err)
	}
	connect, turns := 0, 0
	for _, r := range recs {
		if r.Attempt == 0 {
			turns++ // a resent opening is an extra record of its slot
		}
		switch r.Error {
		case metrics.ErrConnect:
			connect++
		case metrics.ErrCanceled, metrics.ErrOpeningFailed:
		default:
			t.Fatalf("unexpected record %+v", r)
		}
	}
	if connect < 5 || turns != plan.Requests() {
		t.Fatalf("%d connect errors, %d turn records of %d", connect, turns, plan.Requests())
	}
}

func equalMsgs(a, b []map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i]["role"] != b[i]["role"] || a[i]["content"] != b[i]["content"] {
			return false
		}
	}
	return true
}

func TestPlanPointDeterministicAndDistinct(t *testing.T) {
	sc := testScenario(1)
	docs := testDocs(16)
	a, err := PlanPoint(sc, docs, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PlanPoint(sc, docs, 4, 3)
	seen := map[string]bool{}
	for i, s := range a.Sessions() {
		if b.Sessions()[i].Doc.ID != s.Doc.ID {
			t.Fatalf("assignment not deterministic at %s", s.Label)
		}
		if seen[s.Doc.ID] {
			t.Fatalf("document %s used twice under distinct", s.Doc.ID)
		}
		seen[s.Doc.ID] = true
	}
	if _, err := PlanPoint(sc, docs, 5, 4); err == nil || !strings.Contains(err.Error(), "needs 20 distinct documents") {
		t.Fatalf("shortfall error = %v", err)
	}
	sc.Assign = "random"
	r1, _ := PlanPoint(sc, testDocs(3), 4, 4)
	r2, _ := PlanPoint(sc, testDocs(3), 4, 4)
	for i, s := range r1.Sessions() {
		if r2.Sessions()[i].Doc.ID != s.Doc.ID {
			t.Fatal("random assignment not deterministic")
		}
	}
	sc.Seed = 8
	r3, _ := PlanPoint(sc, testDocs(3), 4, 4)
	same := true
	for i, s := range r1.Sessions() {
		same = same && r3.Sessions()[i].Doc.ID == s.Doc.ID
	}
	if same {
		t.Fatal("a different seed gave the same 16 draws")
	}
}

func TestVirtualSharesOnlySessionIndependentText(t *testing.T) {
	sc := testScenario(1)
	v := &virtualExecutor{script: sc.Script, tok: countWords{}}
	plan, _ := PlanPoint(sc, []corpus.Document{{ID: "d", Text: "x", Tokens: 100}, {ID: "e", Text: "y", Tokens: 100}}, 1, 2)
	// testScenario's opening is "Read ${document} as ${user}": the label comes
	// after the document, so the document prefix is shared.
	if got := v.sessions(plan)[0][0].DocumentTokens; got == 0 {
		t.Fatal("document prefix not shared")
	}
	sc.Script.Opening = spec.Template{{Kind: spec.PartUser}, {Kind: spec.PartLiteral, Text: " reads "}, {Kind: spec.PartDocument}}
	if got := v.sessions(plan)[0][0].DocumentTokens; got != 0 {
		t.Fatalf("opening names the user before the document, yet %d tokens are shared", got)
	}
}

// countWords is a stand-in tokenizer: one token per space-separated word.
type countWords struct{}

func (countWords) Name() string            { return "words" }
func (countWords) Encode(s string) []int   { return make([]int, len(strings.Fields(s))) }
func (countWords) Decode(ids []int) string { return "" }
func (countWords) Count(s string) int      { return len(strings.Fields(s)) }

// A server that accepts requests and never answers is declared down after
// DownAfter requests without an answer, as one that refuses connections is;
// and a stream that never ends is cut by the total timeout.
func TestHungServers(t *testing.T) {
	// models answers the model list; for any other request it reads the
	// body, so the server notices when the client hangs up.
	models := func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v1/models" {
			fmt.Fprint(w, `{"object":"list","data":[{"id":"fake","object":"model"}]}`)
			return true
		}
		_, _ = io.Copy(io.Discard, r.Body)
		return false
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		cfg     openai.Config
		want    string
		down    bool
	}{
		{"accepts and never answers", func(w http.ResponseWriter, r *http.Request) {
			if !models(w, r) {
				<-r.Context().Done()
			}
		}, openai.Config{FirstTokenTimeout: 100 * time.Millisecond}, metrics.ErrTimeoutFirstToken, true},
		{"streams forever", func(w http.ResponseWriter, r *http.Request) {
			if models(w, r) {
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			for r.Context().Err() == nil {
				if _, err := fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"content":"x"}}]}`+"\n\n"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(5 * time.Millisecond)
			}
		}, openai.Config{TotalTimeout: 150 * time.Millisecond}, metrics.ErrTimeoutTotal, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			cfg := tc.cfg
			cfg.BaseURL, cfg.Model = ts.URL+"/v1", "fake"
			client, err := openai.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			sc := testScenario(1)
			plan, _ := PlanPoint(sc, testDocs(4), 2, 2)
			ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: 3}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			run, err := ex.RunPoint(ctx, plan, nil)
			recs := run.Records
			if tc.down != errors.Is(err, ErrTargetDown) {
				t.Fatalf("err = %v, want target down %v", err, tc.down)
			}
			kinds := 0
			for _, r := range recs {
				if r.Error == tc.want {
					kinds++
				}
			}
			if kinds < 3 {
				t.Fatalf("%d records of kind %s, want at least 3: %+v", kinds, tc.want, recs)
			}
		})
	}
}

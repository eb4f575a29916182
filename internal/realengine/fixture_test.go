package realengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// fixture is what the engine tests share: the runtime, a model file, an
// mrqa binary, and engine servers started on first use.
type fixture struct {
	rt      *Runtime
	dir     string
	model   string
	mrqa    string
	servers map[Options]*Server
}

// newFixture finds node and the npm packages (skipping, or failing under
// MRQA_REQUIRE_ENGINE=1, without them), writes the model and builds mrqa.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	rt, err := FindRuntime()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("real engine unavailable and %s=1: %v", RequireEnv, err)
		}
		t.Skipf("real engine unavailable (%v); %s=1 makes this a failure", err, RequireEnv)
	}
	f := &fixture{rt: rt, dir: t.TempDir(), servers: map[Options]*Server{}}
	start := time.Now()
	if f.model, err = DefaultModel().EnsureFile(f.dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("model written in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	readSources(t)
	f.mrqa = filepath.Join(f.dir, "mrqa")
	if out, err := exec.Command("go", "build", "-o", f.mrqa, "github.com/mrqa-dev/mrqa/cmd/mrqa").CombinedOutput(); err != nil {
		t.Fatalf("building mrqa: %v\n%s", err, out)
	}
	t.Logf("mrqa built in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		for _, s := range f.servers {
			s.Close()
		}
	})
	return f
}

// readSources reads every Go source and module file of mrqa. The tests
// run an mrqa binary they build, which go test's result cache cannot see;
// files the test reads are part of that cache's key, so a change to mrqa
// reruns these tests instead of replaying a stale pass.
func readSources(t *testing.T) {
	t.Helper()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "out"):
			return filepath.SkipDir
		case d.IsDir() || !(strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum"):
			return nil
		}
		_, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// server returns a running server with these options (Model and Dir are
// filled in), starting it on first use. Its prefix cache is empty.
func (f *fixture) server(t *testing.T, o Options) *Server {
	t.Helper()
	o.Model = f.model
	s, ok := f.servers[o]
	if !ok {
		start := time.Now()
		withDir := o
		withDir.Dir = f.dir
		var err error
		if s, err = f.rt.Start(context.Background(), withDir); err != nil {
			t.Fatal(err)
		}
		f.servers[o] = s
		t.Logf("engine (%d slots, %d-token context, budget %d) ready in %s", o.Slots, o.Context, o.KVBudget, time.Since(start).Round(time.Millisecond))
		warmUp(t, s)
	}
	post(t, s.URL+"/reset_prefix_cache", nil, nil)
	return s
}

// post sends a JSON body (nil: none) and decodes a JSON answer into out
// (nil: ignored); anything but 200 fails the test.
func post(t *testing.T, url string, body, out any) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&rd).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json", &rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
	}
}

// scenario is what the tests vary in a scenario file.
type scenario struct {
	Name       string
	URL        string // the engine, without /v1
	Documents  int
	Seed       int // of the synthetic documents
	Tokens     int // every document cut to this
	Assign     string
	Concurrent []int
	Sequential []int
	Rounds     int
	SLO        string // the condition, e.g. "ttft_p95 <= 150ms"
	Expect     string
	Metrics    bool // scrape the engine's /metrics
	LMBench    bool
	// Instruction opens the opening turn, before the document; empty for
	// the default.
	Instruction string
	// ProfileFile, when set, replaces the engine by the simulator on the
	// virtual clock with this profile file.
	ProfileFile string
}

var scenarioText = template.Must(template.New("").Funcs(template.FuncMap{
	"list": func(xs []int) string { return strings.Join(strings.Fields(fmt.Sprint(xs)), ", ") },
}).Parse(`
target "engine" {
{{- if .ProfileFile}}
  simulator {
    profile_file = "{{.ProfileFile}}"
    clock        = "virtual"
  }
{{- else}}
  base_url = "{{.URL}}/v1"
  timeouts { first_token = "2m" }
  between_points { reset_prefix_cache = true }
{{- if .Metrics}}
  metrics {
    url      = "{{.URL}}/metrics"
    interval = "250ms"
  }
{{- end}}
{{- end}}
}

corpus "docs" {
  source "synthetic" {
    documents = {{.Documents}}
    seed      = {{.Seed}}
  }
  tokens = {{.Tokens}}
}

script "critic" {
  opening    = "{{if .Instruction}}{{.Instruction}}{{else}}Read and summarize this text.{{end}}\n\n${document}"
  questions  = ["Write down the author's feelings.", "Which character changes the most?", "What does the ending resolve?"]
  max_tokens = 16
}

scenario "{{.Name}}" {
  target = target.engine
  corpus = corpus.docs
  script = script.critic
  rounds = {{.Rounds}}
  assign = "{{.Assign}}"
  grid {
    concurrent = {{list .Concurrent}}
    sequential = {{list .Sequential}}
  }
  slo "ttft" { condition = "{{.SLO}}" }
{{- if .Expect}}
  expect = "{{.Expect}}"
{{- end}}
{{- if .LMBench}}
  report { lmbench = true }
{{- end}}
}
`))

// run is one mrqa exec: its exit code, output and results.
type run struct {
	code int
	out  string
	dir  string // out/<scenario>
	res  *results.Results
}

// exec writes the scenario file and runs mrqa exec on it.
func (f *fixture) exec(t *testing.T, s scenario) run {
	t.Helper()
	if s.Assign == "" {
		s.Assign = "distinct"
	}
	dir := t.TempDir()
	var text bytes.Buffer
	if err := scenarioText.Execute(&text, s); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, s.Name+".hcl")
	if err := os.WriteFile(file, text.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, f.mrqa, "exec", file, "-out", filepath.Join(dir, "out"))
	out, err := cmd.CombinedOutput()
	r := run{out: string(out), dir: filepath.Join(dir, "out", s.Name)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("mrqa exec: %v\n%s", err, out)
	}
	t.Logf("mrqa exec %s: exit %d in %s", s.Name, r.code, time.Since(start).Round(time.Millisecond))
	if r.code == 2 {
		return r // refused before the sweep: nothing was written
	}
	if r.res, err = results.Load(r.dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// point returns the results of point (c, s).
func (r run) point(t *testing.T, c, s int) *results.Point {
	t.Helper()
	for i := range r.res.Points {
		if p := &r.res.Points[i]; p.Concurrent == c && p.Sequential == s {
			return p
		}
	}
	t.Fatalf("no point C=%d S=%d in results\n%s", c, s, r.out)
	return nil
}

// warmUp sends a few requests, so that no measurement pays for the
// engine's first evaluations (buffers allocated, pages faulted in).
func warmUp(t *testing.T, s *Server) {
	t.Helper()
	text := strings.Repeat("A short warm-up text. ", 100)
	opening := chatMessage{Role: "user", Content: text}
	answer := chatOnce(t, s, "warm-up-0", []chatMessage{opening})
	for i := range 2 {
		chatOnce(t, s, fmt.Sprintf("warm-up-%d", i+1), []chatMessage{opening, {Role: "assistant", Content: answer}, {Role: "user", Content: "And then?"}})
	}
}

// calibrate measures, on this machine now, the TTFT of a follow-up whose
// document is cached and of a document's first prefill, and returns their
// geometric mean, rounded to the millisecond: a bound with the same margin
// on both sides, whatever the machine's speed or load. The cached side is
// the median of six follow-ups, the cold side the faster of two documents.
func (f *fixture) calibrate(t *testing.T, s *Server, docTokens int) time.Duration {
	t.Helper()
	tok, err := tokenizer.Load(tokenizer.CL100KBase, tokenizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cold, warm := math.Inf(1), []float64(nil)
	for i, text := range corpus.Synthetic(2, 99, 8*docTokens) {
		doc := tok.Decode(tok.Encode(text)[:docTokens])
		opening := chatMessage{Role: "user", Content: "Read and summarize this text.\n\n" + doc}
		id := fmt.Sprintf("calibrate-%d", i)
		answer := chatOnce(t, s, id+"-cold", []chatMessage{opening})
		cold = min(cold, stampOf(t, s, id+"-cold").TTFT)
		for j := range 3 {
			wid := fmt.Sprintf("%s-warm-%d", id, j)
			chatOnce(t, s, wid, []chatMessage{opening, {Role: "assistant", Content: answer}, {Role: "user", Content: "Write down the author's feelings."}})
			warm = append(warm, stampOf(t, s, wid).TTFT)
		}
	}
	post(t, s.URL+"/reset_prefix_cache", nil, nil)
	slices.Sort(warm)
	cached := (warm[2] + warm[3]) / 2
	slo := time.Duration(math.Sqrt(cold*cached) * float64(time.Second)).Round(time.Millisecond)
	t.Logf("calibration: cold %.0f ms, cached %.1f ms (%.0fx): bound %s", cold*1e3, cached*1e3, cold/cached, slo)
	if cold < 2*cached {
		t.Fatalf("cold prefill (%.0f ms) is not clearly slower than a cached follow-up (%.1f ms): the prefix cache is not working", cold*1e3, cached*1e3)
	}
	return slo
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatOnce sends one non-streaming chat request and returns the answer.
func chatOnce(t *testing.T, s *Server, id string, msgs []chatMessage) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"messages": msgs, "max_tokens": 16})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Choices) != 1 {
		t.Fatalf("chat %s: %s %v", id, resp.Status, err)
	}
	return out.Choices[0].Message.Content
}

func stampOf(t *testing.T, s *Server, id string) Stamp {
	t.Helper()
	stamps, err := s.Stamps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, ok := stamps[id]
	if !ok {
		t.Fatalf("the engine has no stamp for %s", id)
	}
	return st
}

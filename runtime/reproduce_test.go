package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func TestDocumentsDiff(t *testing.T) {
	rec := []results.Document{{ID: "a", Tokens: 8, SHA256: "1"}, {ID: "b", Tokens: 8, SHA256: "2"}, {ID: "c", Tokens: 8, SHA256: "3"}}
	doc := func(id string, tokens int, sum string) corpus.Document {
		return corpus.Document{ID: id, Tokens: tokens, SHA256: sum}
	}
	tests := []struct {
		name string
		docs []corpus.Document
		want string
	}{
		{"same", []corpus.Document{doc("a", 8, "1"), doc("b", 8, "2"), doc("c", 8, "3")}, ""},
		{"text changed", []corpus.Document{doc("a", 8, "1"), doc("b", 8, "9"), doc("c", 8, "3")}, "b (changed)"},
		{"cut elsewhere", []corpus.Document{doc("a", 8, "1"), doc("b", 9, "2"), doc("c", 8, "3")}, "b (changed)"},
		{"gone and new", []corpus.Document{doc("a", 8, "1"), doc("c", 8, "3"), doc("d", 8, "4")}, "b (gone), d (new)"},
		{"reordered", []corpus.Document{doc("a", 8, "1"), doc("c", 8, "3"), doc("b", 8, "2")}, "in another order (first at position 2: c, recorded b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(documentsDiff(rec, tt.docs), ", "); got != tt.want {
				t.Errorf("documentsDiff = %q, want %q", got, tt.want)
			}
		})
	}
}

// countingServer is recordingServer counting every request, whatever its
// path.
type countingServer struct {
	recordingServer
	all atomic.Int64
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.all.Add(1)
	s.recordingServer.ServeHTTP(w, r)
}

// TestRunReproduce: a re-run of a recording names it in its results; one
// whose corpus no longer loads to the recorded documents stops before it
// sends anything or claims an output folder, naming the documents.
func TestRunReproduce(t *testing.T) {
	srv := &countingServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file, sc := sweepScenario(t, ts.URL+"/v1", false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	orig, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	from := results.From{Dir: "out/s", Scenario: orig.Scenario, Started: orig.Started}
	again, err := Run(ctx, file, sc, Options{OutDir: t.TempDir(), Reproduce: &Reproduction{From: from, Recorded: orig}})
	if err != nil {
		t.Fatal(err)
	}
	if again.From == nil || again.From.Dir != "out/s" || !again.From.Started.Equal(orig.Started) {
		t.Errorf("re-run's from = %+v", again.From)
	}

	changed := *orig
	changed.Corpus.Documents = append([]results.Document(nil), orig.Corpus.Documents...)
	changed.Corpus.Documents[1].SHA256 = "0000"
	sent := srv.all.Load()
	out := filepath.Join(t.TempDir(), "rerun")
	_, err = Run(ctx, file, sc, Options{OutDir: out, Reproduce: &Reproduction{From: from, Recorded: &changed}})
	want := fmt.Sprintf("documents %s (changed)", orig.Corpus.Documents[1].ID)
	if !errors.Is(err, ErrNotReproduced) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want ErrNotReproduced naming %q", err, want)
	}
	if n := srv.all.Load() - sent; n != 0 {
		t.Errorf("%d requests sent by a refused re-run", n)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused re-run made its output folder: %v", err)
	}
}

// TestWorkloadDiff: a re-run's workload is compared field by field with
// the recording's, the identity with the recording's salt; a field built
// from a secret reads "changed", never a value; the model is compared only
// when the configuration names it, and the measurement rules not at all.
func TestWorkloadDiff(t *testing.T) {
	const salt, secretURL = "recorded-salt", "http://SECRETHOST-1234:8000/v1"
	recorded := func(sc *spec.Scenario, model string, secrets ...string) *results.Results {
		r := newResults(&spec.File{}, sc, testDocs(2), "test", newRedactor(secrets))
		r.IdentitySalt = salt
		r.Identity = identity(sc, testDocs(2), model, newRedactor(secrets), salt)
		r.Identity["rules"] = "0"
		return r
	}
	tests := []struct {
		name    string
		change  func(sc *spec.Scenario)
		secrets []string
		want    string
	}{
		{"same", func(*spec.Scenario) {}, nil, ""},
		{"rounds", func(sc *spec.Scenario) { sc.Rounds = 3 }, nil, `rounds ("2" → "3"), script (sha256:`},
		{"seed", func(sc *spec.Scenario) { sc.Seed = 8 }, nil, `seed ("7" → "8")`},
		{"grid", func(sc *spec.Scenario) { sc.Grid.Sequential = []int{1, 2} }, nil, `grid ("{\"concurrent\":[1],\"sequential\":[1]}" → "{\"concurrent\":[1],\"sequential\":[1,2]}")`},
		{"score", func(sc *spec.Scenario) { sc.Score = "concurrent" }, nil, `score ("sessions" → "concurrent")`},
		{"search", func(sc *spec.Scenario) { sc.Search = &spec.Search{Kind: "frontier"} }, nil, `search (none → "frontier")`},
		{"secret URL", func(sc *spec.Scenario) { sc.Target.BaseURL = "http://SECRETHOST-9999:8000/v1" }, []string{secretURL, "http://SECRETHOST-9999:8000/v1"}, "target.base_url (changed)"},
		// The model is compared once preflight confirms it (checkReproducedModel):
		// a configured name is not what the server may answer with.
		{"model named", func(sc *spec.Scenario) { sc.Target.Model = "other" }, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := testScenario(2)
			sc.Target.BaseURL, sc.Target.Model, sc.Score = secretURL, "fake", "sessions"
			sc.Grid = spec.Grid{Concurrent: []int{1}, Sequential: []int{1}}
			rec := recorded(sc, sc.Target.Model, tt.secrets...)
			tt.change(sc)
			got := strings.Join(workloadDiff(rec, sc, testDocs(2), newRedactor(tt.secrets)), ", ")
			if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
				t.Errorf("workloadDiff = %q, want %q…", got, tt.want)
			}
			if strings.Contains(got, "SECRETHOST") {
				t.Errorf("workloadDiff shows a secret: %q", got)
			}
		})
	}
	t.Run("model the server names", func(t *testing.T) {
		sc := testScenario(2)
		rec := recorded(sc, "served-model")
		if got := workloadDiff(rec, sc, testDocs(2), newRedactor(nil)); len(got) != 0 {
			t.Errorf("workloadDiff = %q, want none", got)
		}
	})
}

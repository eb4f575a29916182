package runtime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// shardScenario is a 3×3 grid on the quickstart simulator's virtual
// clock: small documents, so a whole sweep takes a fraction of a second.
func shardScenario(t *testing.T) (*spec.File, *spec.Scenario) {
	t.Helper()
	file, sc := sweepScenario(t, "", false)
	sc.Name = "shards"
	sc.Target = &spec.Target{Name: "sim", Simulator: &spec.Simulator{Profile: "quickstart", Clock: "virtual"}}
	sc.Corpus.Tokens = 512
	sc.Corpus.Source.Documents = 9
	sc.Rounds = 2
	sc.Grid = spec.Grid{Concurrent: []int{1, 2, 3}, Sequential: []int{1, 2, 3}}
	sc.SLOs[0].Condition = mustCompile(t, "ttft_p95 <= 250ms")
	file.SHA256 = "0123abcd"
	return file, sc
}

func runShard(t *testing.T, file *spec.File, sc *spec.Scenario, shard spec.Shard, out string) *results.Results {
	t.Helper()
	var log strings.Builder
	r, err := Run(context.Background(), file, sc, Options{OutDir: out, Progress: &log, Shard: shard})
	if err != nil {
		t.Fatalf("Run shard %v: %v\n%s", shard, err, log.String())
	}
	return r
}

// A point's workload does not depend on how the grid was cut: the shard
// that runs C=2 S=3 writes the records and the point the whole sweep
// writes for it (on the virtual clock even the times are the same),
// and the shard's folder plans and completes exactly its own points.
func TestShardPointEqualsWholeSweep(t *testing.T) {
	file, sc := shardScenario(t)
	whole, parts := t.TempDir(), t.TempDir()
	all := runShard(t, file, sc, spec.Shard{}, whole)
	shard := spec.Shard{Index: 1, Count: 3}
	if !slices.Contains(shard.Points(sc.Grid), [2]int{2, 3}) {
		t.Fatalf("shard %v runs %v, not C=2 S=3: the test needs another shard", shard, shard.Points(sc.Grid))
	}
	part := runShard(t, file, sc, shard, parts)
	if part.Shard == nil || *part.Shard != (results.Shard{Index: 1, Count: 3}) || all.Shard != nil {
		t.Fatalf("shard field: sharded %+v, whole %+v", part.Shard, all.Shard)
	}
	var ran [][2]int
	for _, p := range part.Points {
		ran = append(ran, [2]int{p.Concurrent, p.Sequential})
	}
	if !part.Complete || !slices.Equal(ran, shard.Points(sc.Grid)) {
		t.Fatalf("shard ran %v (complete %v), want its points %v", ran, part.Complete, shard.Points(sc.Grid))
	}
	rel := results.RecordsPath(2, 3)
	a, errA := os.ReadFile(filepath.Join(Dir(sc, whole), rel))
	b, errB := os.ReadFile(filepath.Join(Dir(sc, parts), rel))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("records of C=2 S=3 differ between the shard and the whole sweep:\n%s\n---\n%s", b, a)
	}
	pa, pb := *pointOf(all, [2]int{2, 3}), *pointOf(part, [2]int{2, 3})
	pa.Started = pb.Started // a time of day: the one field that may differ
	if !reflect.DeepEqual(pa, pb) {
		t.Errorf("point C=2 S=3 differs between the shard and the whole sweep:\n%+v\n%+v", pb, pa)
	}
}

// The shards of one sweep share their identity salt, so merge can compare
// the digests of fields built from secrets; a whole sweep's is random.
func TestShardSaltShared(t *testing.T) {
	file, sc := shardScenario(t)
	a := runShard(t, file, sc, spec.Shard{Index: 0, Count: 3}, t.TempDir())
	b := runShard(t, file, sc, spec.Shard{Index: 2, Count: 3}, t.TempDir())
	w1 := runShard(t, file, sc, spec.Shard{}, t.TempDir())
	w2 := runShard(t, file, sc, spec.Shard{}, t.TempDir())
	if a.IdentitySalt == "" || a.IdentitySalt != b.IdentitySalt {
		t.Errorf("shard salts %q and %q, want one shared salt", a.IdentitySalt, b.IdentitySalt)
	}
	if w1.IdentitySalt == w2.IdentitySalt || w1.IdentitySalt == a.IdentitySalt {
		t.Errorf("whole sweeps' salts %q, %q (shards' %q): want each random", w1.IdentitySalt, w2.IdentitySalt, a.IdentitySalt)
	}
}

// -resume continues a shard's folder with the same -shard, and refuses
// another shard or the whole sweep, naming both.
func TestShardResume(t *testing.T) {
	file, sc := shardScenario(t)
	out := t.TempDir()
	first := runShard(t, file, sc, spec.Shard{Index: 0, Count: 3}, out)
	tests := []struct {
		name  string
		shard spec.Shard
		want  string // "" resumes
	}{
		{"same shard", spec.Shard{Index: 0, Count: 3}, ""},
		{"other index", spec.Shard{Index: 1, Count: 3}, "it holds shard 0/3, and this run is shard 1/3"},
		{"other count", spec.Shard{Index: 0, Count: 2}, "it holds shard 0/3, and this run is shard 0/2"},
		{"whole sweep", spec.Shard{}, "it holds shard 0/3, and this run is the whole sweep (no -shard)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			r, err := Run(context.Background(), file, sc, Options{OutDir: out, Resume: true, Progress: &log, Shard: tt.shard})
			if tt.want == "" {
				if err != nil || len(r.Points) != len(first.Points) || !strings.Contains(log.String(), "already complete") {
					t.Fatalf("resume: %v, %d points\n%s", err, len(r.Points), log.String())
				}
				return
			}
			if !errors.Is(err, ErrOutputInUse) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("resume as %v = %v, want ErrOutputInUse with %q", tt.shard, err, tt.want)
			}
		})
	}
}

// A search cannot be sharded; Run refuses it before loading anything.
func TestShardRefusesSearch(t *testing.T) {
	file, sc := shardScenario(t)
	sc.Search = &spec.Search{Kind: "frontier"}
	out := t.TempDir()
	_, err := Run(context.Background(), file, sc, Options{OutDir: out, Shard: spec.Shard{Index: 0, Count: 2}})
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), "remove the search block") {
		t.Fatalf("Run = %v, want ErrPlan naming what to do", err)
	}
	if _, err := os.Stat(Dir(sc, out)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run created its folder (%v)", err)
	}
}

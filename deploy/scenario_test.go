package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/dsl"
)

// TestSweepScenario loads the scenario the ConfigMap holds as each of the
// sweep's N shards: every shard's file is valid and names its own replica
// (vllm-I through the headless Service vllm), for requests and metrics
// alike; the list has exactly N replicas; the API key the Job passes from
// its Secret is a secret; and the file is as mrqa fmt writes it.
func TestSweepScenario(t *testing.T) {
	m := loadDir(t, kubeDir)
	sw := readSweep(t, theContainer(t, m.job(t, "mrqa-sweep").Spec.Template.Spec))
	file := filepath.Join(kubeDir, filepath.Base(sw.scenario))
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const key = "key-for-the-deploy-test"
	env := []string{keyEnv(t, m) + "=" + key}
	for i := range sw.n {
		l := dsl.LoadSource(file, src, dsl.Options{Shard: dsl.Shard{Index: i, Count: sw.n}, Env: env})
		if l.Diags.HasErrors() {
			t.Fatalf("shard %d/%d: %s", i, sw.n, l.Diags.Error())
		}
		if len(l.File.Scenarios) != 1 {
			t.Fatalf("shard %d: %d scenarios, want 1", i, len(l.File.Scenarios))
		}
		tg := l.File.Scenarios[0].Target
		wantURL := fmt.Sprintf("http://vllm-%d.vllm:8000/v1", i)
		if tg.BaseURL != wantURL || tg.Metrics == nil || tg.Metrics.URL != strings.TrimSuffix(wantURL, "/v1")+"/metrics" {
			t.Errorf("shard %d: base_url %q, metrics %+v; want %s and its /metrics", i, tg.BaseURL, tg.Metrics, wantURL)
		}
		if tg.APIKey != key || !slices.Contains(l.File.Secrets, key) {
			t.Errorf("shard %d: the API key from the Secret is not the target's, or not a secret", i)
		}
	}
	over := dsl.LoadSource(file, src, dsl.Options{Shard: dsl.Shard{Index: sw.n, Count: sw.n + 1}, Env: env})
	if !over.Diags.HasErrors() || !strings.Contains(over.Diags.Error(), "Invalid index") {
		t.Errorf("shard %d of %d loaded (%v): the replicas list is longer than the Job's %d shards", sw.n, sw.n+1, over.Diags, sw.n)
	}
	formatted, diags := dsl.Format(src, file)
	if diags.HasErrors() || !bytes.Equal(formatted, src) {
		t.Errorf("%s is not as mrqa fmt writes it (%v)", file, diags)
	}
}

// keyEnv is the environment variable the sweep Job fills from its one
// Secret, which must set a variable of the scenario (MRQA_VAR_…).
func keyEnv(t *testing.T, m *manifests) string {
	t.Helper()
	var names []string
	for _, e := range theContainer(t, m.job(t, "mrqa-sweep").Spec.Template.Spec).Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, e.Name)
		}
	}
	if len(names) != 1 || !strings.HasPrefix(names[0], "MRQA_VAR_") {
		t.Fatalf("secret env %v: want one MRQA_VAR_ variable, the scenario's API key", names)
	}
	for _, e := range theContainer(t, m.job(t, "mrqa-merge").Spec.Template.Spec).Env {
		if e.ValueFrom != nil {
			t.Errorf("the merge Job reads %s from elsewhere: it sends nothing and needs no secret", e.Name)
		}
	}
	return names[0]
}

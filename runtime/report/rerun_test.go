package report

import (
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// rerunPair is a run and its re-run (exec -from) with rounds overridden:
// the same scenario and target names.
func rerunPair() (orig, rerun *results.Results) {
	orig = vllmFixture()
	orig.Variables = []results.Var{{Name: "rounds", Value: "3", Source: "default"}, {Name: "key", Value: Redacted, Sensitive: true}}
	rerun = vllmFixture()
	rerun.Variables = []results.Var{{Name: "rounds", Value: "4", Source: "flag"}, {Name: "key", Value: Redacted, Sensitive: true}}
	rerun.Started = orig.Started.Add(3600e9)
	rerun.From = &results.From{Dir: "runs/baseline", Scenario: orig.Scenario, Started: orig.Started, Overridden: []string{"rounds"}}
	return orig, rerun
}

// TestCompareLabelsByFolder: two runs of one scenario on one target are
// told apart by the folders they were read from, not by "#2".
func TestCompareLabelsByFolder(t *testing.T) {
	orig, rerun := rerunPair()
	page := renderCompare(t, []*results.Results{orig, rerun}, Options{Labels: []string{"runs/baseline", "runs/baseline-rerun"}})
	for _, want := range []string{`<td class="name">runs/baseline</td>`, `<td class="name">runs/baseline-rerun</td>`,
		`<th scope="col">runs/baseline-rerun<span`, "runs/baseline-rerun allows 1.00×"} {
		if !strings.Contains(page, want) {
			t.Errorf("comparison page lacks %q", want)
		}
	}
	if strings.Contains(page, orig.Scenario+" ("+orig.Target.Name+") #2") {
		t.Error("comparison page still numbers the second run")
	}
}

// TestCompareSaysRerun: the page says which run re-ran which, with the
// variables it overrode and both values; a re-run of a run not on the page
// names the recording's folder.
func TestCompareSaysRerun(t *testing.T) {
	orig, rerun := rerunPair()
	labels := []string{"runs/baseline", "runs/baseline-rerun"}
	page := renderCompare(t, []*results.Results{orig, rerun}, Options{Labels: labels})
	want := "runs/baseline-rerun re-ran runs/baseline from its results.json, overriding var.rounds (3 → 4)."
	if !strings.Contains(page, want) {
		t.Errorf("comparison page lacks %q", want)
	}
	other := vllmFixture()
	other.Started = orig.Started.Add(-3600e9) // another run of the scenario
	alone := renderCompare(t, []*results.Results{other, rerun}, Options{Labels: []string{"other", "rerun"}})
	want = "rerun re-ran the run recorded in runs/baseline (scenario " + orig.Scenario + ", started "
	if !strings.Contains(alone, want) {
		t.Errorf("comparison page lacks %q", want)
	}
}

// TestScenarioPageSaysRerun: a re-run's own page names the recording.
func TestScenarioPageSaysRerun(t *testing.T) {
	_, rerun := rerunPair()
	page := renderScenario(t, rerun, Options{})
	want := "the run recorded in runs/baseline (scenario seed-vllm, started " + fmtTime(rerun.From.Started) + "), from its results.json, overriding var.rounds (now 4)"
	if !strings.Contains(page, want) {
		t.Errorf("report lacks %q", want)
	}
	if page := renderScenario(t, vllmFixture(), Options{}); strings.Contains(page, "Re-run of") {
		t.Error("the report of a run of files says it re-ran one")
	}
}

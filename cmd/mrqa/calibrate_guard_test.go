package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sweepRunsScenario sweeps runsScenario on the real-clock simulator (about 2 s)
// and returns the run's folder.
func sweepRunsScenario(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, ".cache"))
	hcl := filepath.Join(dir, "runs.hcl")
	if err := os.WriteFile(hcl, []byte(runsScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if code := Main([]string{"exec", hcl, "-out", filepath.Join(dir, "out")}, &out, &errs); code != 0 {
		t.Fatalf("exec: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	return filepath.Join(dir, "out", "runs")
}

// TestCalibrateNeverOverwritesResults: -out naming the results.json of the
// run being fitted must be refused, and the results left as they were.
func TestCalibrateNeverOverwritesResults(t *testing.T) {
	runDir := sweepRunsScenario(t)
	resultsPath := filepath.Join(runDir, "results.json")
	before, _ := os.ReadFile(resultsPath)
	var out, errs strings.Builder
	code := Main([]string{"calibrate", "-from", runDir, "-base", "quickstart", "-out", resultsPath}, &out, &errs)
	after, _ := os.ReadFile(resultsPath)
	if !bytes.Equal(before, after) {
		t.Errorf("calibrate -out %s (exit %d) overwrote the finished run's results.json:\n%s", resultsPath, code, out.String())
	}
	if code == 0 {
		t.Errorf("calibrate -out onto results.json exited 0")
	}
}

// TestReportMeasuredLabelsOnlyPredictions: a run that loaded no profile
// file is a measurement; -measured must not present it as a prediction
// (nor a prediction as "measured"), let alone find it agrees with itself.
func TestReportMeasuredLabelsOnlyPredictions(t *testing.T) {
	runDir := sweepRunsScenario(t)
	var out, errs strings.Builder
	code := Main([]string{"report", "-measured", runDir, runDir}, &out, &errs)
	if code == 0 && strings.Contains(out.String(), "Predicted (runs) beside measured") {
		t.Errorf("report -measured labelled a measured run as the prediction (exit 0):\n%s", out.String())
	}
}

// TestCalibrateFromSameRunTwice: naming one run folder twice adds no
// evidence; the fit must refuse it or come out no surer than from the
// folder once (each record counted twice halves the variance and can turn
// a coefficient "too uncertain to use" into an identified one).
func TestCalibrateFromSameRunTwice(t *testing.T) {
	runDir := sweepRunsScenario(t)
	stderrs := func(dirs ...string) (map[string]float64, int) {
		path := filepath.Join(t.TempDir(), "p.json")
		var out, errs strings.Builder
		args := append([]string{"calibrate", "-from"}, dirs...)
		code := Main(append(args, "-base", "quickstart", "-out", path), &out, &errs)
		if code != 0 {
			return nil, code
		}
		var f struct {
			Calibration struct {
				Parameters []struct {
					Name       string  `json:"name"`
					StdErr     float64 `json:"stderr"`
					Identified bool    `json:"identified"`
				} `json:"parameters"`
			} `json:"calibration"`
		}
		data, _ := os.ReadFile(path)
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		m := map[string]float64{}
		for _, p := range f.Calibration.Parameters {
			if p.Identified {
				m[p.Name] = p.StdErr
			}
		}
		return m, 0
	}
	once, _ := stderrs(runDir)
	twice, code := stderrs(runDir, runDir+string(filepath.Separator))
	if code != 0 {
		return // refused: fine
	}
	for name, se := range twice {
		if se1, ok := once[name]; !ok {
			t.Errorf("%s: not identified from the folder once, identified (± %.3g) from the same folder twice", name, se)
		} else if se < 0.9*se1 {
			t.Errorf("%s: ± %.3g from the same folder twice, ± %.3g from it once", name, se, se1)
		}
	}
}

// A virtual-clock run's timings are the simulator's own: fitting them
// would calibrate the simulator to itself, and a prediction made from it
// would read as measured. calibrate -from refuses it.
func TestCalibrateFromRefusesSimulatedRuns(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, ".cache"))
	hcl := filepath.Join(dir, "virtual.hcl")
	virtual := strings.Replace(runsScenario, `clock            = "real"`, `clock            = "virtual"`, 1)
	if err := os.WriteFile(hcl, []byte(virtual), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if code := Main([]string{"exec", hcl, "-out", filepath.Join(dir, "out")}, &out, &errs); code != 0 {
		t.Fatalf("exec: exit %d\n%s", code, errs.String())
	}
	errs.Reset()
	code := Main([]string{"calibrate", "-from", filepath.Join(dir, "out", "runs"), "-out", filepath.Join(dir, "p.json")}, &out, &errs)
	if code == 0 || !strings.Contains(errs.String(), "ran on the simulator's virtual clock") {
		t.Errorf("exit %d: %s", code, errs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
		t.Errorf("a profile was written from simulated timings")
	}
}

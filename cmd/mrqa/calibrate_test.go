package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runsScenario is a small real-clock sweep of a simulator whose prefill
// cost and KV capacity differ from its base profile's (quickstart: 150 µs,
// 10240 tokens), so that a fit that kept the base values would fail.
const runsScenario = `
target "sim" {
  simulator {
    profile          = "quickstart"
    clock            = "real"
    kv_cache_tokens  = 6144
    prefill_token_us = 120
  }
  between_points {
    reset_prefix_cache = true
  }
}
corpus "c" {
  source "synthetic" {
    documents = 4
    seed      = 1
  }
  tokenizer = "cl100k_base"
  tokens    = 512
}
script "s" {
  opening    = "Read and summarize this novel.\n\n${document}"
  questions  = ["Write down the author's feelings.", "Which character changes the most?"]
  max_tokens = 8
}
scenario "runs" {
  target = target.sim
  corpus = corpus.c
  script = script.s
  rounds = 2
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
`

// TestCalibrateFromRuns runs a sweep on the real-clock simulator with a
// known prefill cost and KV capacity, then fits a profile from the run's
// folder alone and checks what it recovered.
func TestCalibrateFromRuns(t *testing.T) {
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
	runDir, profilePath := filepath.Join(dir, "out", "runs"), filepath.Join(dir, "fitted.json")
	out.Reset()
	if code := Main([]string{"calibrate", "-from", runDir, "-base", "quickstart", "-out", profilePath}, &out, &errs); code != 0 {
		t.Fatalf("calibrate -from: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	t.Log(out.String())
	var f struct {
		Params      map[string]any `json:"params"`
		Calibration struct {
			Source string `json:"source"`
			Runs   struct {
				Points []struct {
					Concurrent int `json:"concurrent"`
					TTFTRows   int `json:"ttft_rows"`
					Queued     int `json:"ttft_queued"`
				} `json:"points"`
			} `json:"runs"`
		} `json:"calibration"`
	}
	b, err := os.ReadFile(profilePath)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Params["prefill_token_us"].(float64); math.Abs(got/120-1) > 0.20 {
		t.Errorf("prefill_token_us %.1f, the simulator's 120", got)
	}
	if got := f.Params["kv_cache_tokens"]; got != 6144.0 {
		t.Errorf("kv_cache_tokens %v, the simulator states 6144", got)
	}
	if want := "runs " + runDir; f.Calibration.Source != want {
		t.Errorf("source %q, want %q", f.Calibration.Source, want)
	}
	if len(f.Calibration.Runs.Points) != 4 || f.Calibration.Runs.Points[0].TTFTRows == 0 {
		t.Errorf("points %+v: want 4, the first (C=1) with its TTFTs fitted", f.Calibration.Runs.Points)
	}
	if !strings.Contains(out.String(), "c2_s2") {
		t.Errorf("no per-point residuals printed:\n%s", out.String())
	}
	checkPrediction(t, dir, profilePath, runDir)
}

// checkPrediction runs the scenario on the fitted profile (virtual clock)
// and checks that its results and summary say they are a prediction.
func checkPrediction(t *testing.T, dir, profilePath, runDir string) {
	whatif := strings.NewReplacer(`profile          = "quickstart"`, `profile_file     = "fitted.json"`,
		`clock            = "real"`, `clock            = "virtual"`).Replace(runsScenario)
	hcl := filepath.Join(dir, "whatif.hcl")
	if err := os.WriteFile(hcl, []byte(whatif), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if code := Main([]string{"exec", hcl, "-out", filepath.Join(dir, "pred")}, &out, &errs); code != 0 {
		t.Fatalf("exec on the profile: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	want := "Prediction: simulator calibrated from runs " + runDir + " on "
	if !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, out.String())
	}
	var r struct {
		Target struct {
			ProfileFile struct{ Path, SHA256, Source string } `json:"profile_file"`
		} `json:"target"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "pred", "runs", "results.json"))
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		t.Fatal(err)
	}
	if pf := r.Target.ProfileFile; pf.Path != profilePath || len(pf.SHA256) != 64 || pf.Source != "runs "+runDir {
		t.Errorf("results.json target.profile_file %+v", pf)
	}
	checkVersus(t, runDir, filepath.Join(dir, "pred", "runs"))
}

// checkVersus sets the prediction beside the measurement, and refuses the
// two the wrong way round.
func checkVersus(t *testing.T, measuredDir, predictedDir string) {
	var out, errs strings.Builder
	if code := Main([]string{"report", "-measured", measuredDir, predictedDir}, &out, &errs); code != 0 {
		t.Fatalf("report -measured: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	if !strings.Contains(out.String(), "Predicted (runs) beside measured") {
		t.Errorf("no predicted-beside-measured table:\n%s", out.String())
	}
	out.Reset()
	errs.Reset()
	code := Main([]string{"report", "-measured", predictedDir, measuredDir}, &out, &errs)
	if code != 2 || !strings.Contains(errs.String(), "it is a prediction, not a measurement") {
		t.Errorf("the wrong way round: exit %d\n%s", code, errs.String())
	}
}

// LMBenchmark run files carry no start times, no cached tokens and no
// server metrics: fitted from the C=1 files of one document length, the
// profile must say that prefill, the front end and the KV capacity were not
// identified (keeping the base values), and leave the C>1 files out with
// the reason — never present the base profile's numbers as measured.
func TestCalibrateFromLMBenchFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, ".cache"))
	hcl := filepath.Join(dir, "runs.hcl")
	if err := os.WriteFile(hcl, []byte(runsScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if code := Main([]string{"exec", "-lmbench", hcl, "-out", filepath.Join(dir, "out")}, &out, &errs); code != 0 {
		t.Fatalf("exec: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	files := filepath.Join(dir, "out", "runs", "lmbench")
	out.Reset()
	if code := Main([]string{"calibrate", "-from", files, "-base", "quickstart", "-out", filepath.Join(dir, "fitted.json")}, &out, &errs); code != 0 {
		t.Fatalf("calibrate -from: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	text := out.String()
	lines := map[string]string{} // the first word of each line → the line
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for name, want := range map[string]string{
		"prefill_token_us":  "not identified, base value kept",
		"frontend_token_us": "not identified, base value kept",
		"kv_cache_tokens":   "not identified, base value kept: LMBenchmark run files carry no server metrics",
		"c2_s1":             "at C > 1 what ran beside each request is unknown",
	} {
		if !strings.Contains(lines[name], want) {
			t.Errorf("%s: %q lacks %q", name, lines[name], want)
		}
	}
	if !strings.Contains(text, "LMBenchmark run files carry no cached-token counts") {
		t.Errorf("no note on the missing cached tokens:\n%s", text)
	}
}

package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// A run on a profile file says it predicts, and from what, in the page's
// header and in the terminal summary; any other run says nothing of it.
func TestPredictionLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		pf   *results.ProfileFile
		want string
	}{
		{"measured run", nil, ""},
		{"calibrated", &results.ProfileFile{Path: "gpu1.json", SHA256: "ab", Source: "runs out/gpu", Calibrated: "2026-03-04T05:06:07Z"},
			"Prediction: simulator calibrated from runs out/gpu on 2026-03-04 (profile file gpu1.json)"},
		{"no calibration", &results.ProfileFile{Path: "hand.json", SHA256: "ab"},
			"Prediction: simulator on profile file hand.json, which records no calibration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := vllmFixture()
			r.Target.ProfileFile = tc.pf
			var term, page strings.Builder
			Terminal(&term, r)
			if err := Write(&page, r, Options{}); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if strings.Contains(term.String(), "Prediction") || strings.Contains(page.String(), "mrqa-prediction") {
					t.Errorf("a measured run is labelled a prediction")
				}
				return
			}
			if !strings.Contains(term.String(), tc.want+"\n") {
				t.Errorf("terminal lacks %q:\n%s", tc.want, term.String())
			}
			if !strings.Contains(page.String(), `id="mrqa-prediction" class="line warn">`+tc.want+"</p>") {
				t.Errorf("page header lacks %q", tc.want)
			}
		})
	}
}

// -measured sets the measured run beside the predicted one point by
// point: a point whose verdicts differ is marked, and the best of each named.
func TestVersus(t *testing.T) {
	pred, measured := vllmFixture(), vllmFixture()
	flipped := &measured.Points[len(measured.Points)-1]
	flipped.Passed = !flipped.Passed
	measured.Points = measured.Points[1:] // a point only the prediction ran
	var term, page strings.Builder
	TerminalVersus(&term, pred, measured)
	if err := Write(&page, pred, Options{Measured: measured}); err != nil {
		t.Fatal(err)
	}
	n := len(pred.Points)
	for _, want := range []string{"differ", "—", "Best point: predicted " + bestText(pred.Best) + "; measured " + bestText(measured.Best),
		"agrees with the measurement at " + itoa(n-2) + " of the " + itoa(n-1) + " points both ran"} {
		if !strings.Contains(term.String(), want) {
			t.Errorf("terminal lacks %q:\n%s", want, term.String())
		}
		if !strings.Contains(page.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if lines := strings.Count(term.String(), "\n"); lines != n+4 {
		t.Errorf("terminal has %d lines, want a heading, a header, %d points, best and agreement:\n%s", lines, n, term.String())
	}
	var plain strings.Builder
	if err := Write(&plain, pred, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), `id="versus"`) {
		t.Errorf("a page without -measured has the predicted-beside-measured section")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

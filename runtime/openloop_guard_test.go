package runtime

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Until the sweep runs points on the rate axis, an open-loop scenario is
// refused before anything is loaded or sent, never run as an empty grid.
func TestOpenLoopRefused(t *testing.T) {
	sc := &spec.Scenario{Name: "chat", Target: &spec.Target{Name: "t"}, Corpus: &spec.Corpus{Name: "c"}, Script: &spec.Script{Name: "s"},
		Users: &spec.Users{Arrival: spec.ArrivalPoisson, Rates: []float64{10}, Duration: time.Minute, MaxActive: 10}}
	r, err := Run(context.Background(), &spec.File{Scenarios: []*spec.Scenario{sc}}, sc, Options{OutDir: t.TempDir()})
	if !errors.Is(err, ErrPlan) || r != nil {
		t.Errorf("Run: %v, results %v; want ErrPlan and none", err, r)
	}
	var buf bytes.Buffer
	if err := DryRun(&buf, sc); !errors.Is(err, ErrPlan) || buf.Len() != 0 {
		t.Errorf("DryRun: %v, printed %q; want ErrPlan and nothing", err, buf.String())
	}
}

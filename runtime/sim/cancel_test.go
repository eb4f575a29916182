package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// A virtual-clock point stops between engine steps once its context ends.
// The seed's 16×16 point with 128k-token novels simulates some 15,500 s and
// takes many seconds of CPU; cancelled at 600 s of simulated time (from the
// observer, so the moment is exact), the run returns context.Canceled
// before the observer has seen another second.
func TestRunVirtualStopsWhenCancelled(t *testing.T) {
	cfg, err := profile.Build(&spec.Simulator{Profile: profile.SeedVLLM})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const stopAt = 600 * time.Second
	var seen int
	var last time.Duration
	obs := &Observer{Every: time.Second, Observe: func(now time.Duration, _ engine.Stats) {
		seen++
		last = now
		if now >= stopAt {
			cancel()
		}
	}}
	t0 := time.Now()
	recs, err := RunVirtual(ctx, cfg, seedPoint(16, 16), obs)
	took := time.Since(t0)
	if !errors.Is(err, context.Canceled) || recs != nil {
		t.Fatalf("err %v with %d records, want context.Canceled and none", err, len(recs))
	}
	// One observation per simulated second up to the cancel, and the final
	// one on the way out.
	if limit := int(stopAt/time.Second) + 3; seen > limit || last > stopAt+2*time.Second {
		t.Errorf("%d observations up to %v of simulated time, want at most %d up to %v", seen, last, limit, stopAt)
	}
	if took > 5*time.Second {
		t.Errorf("took %v to stop", took)
	}
	// Without an observer it stops the same way, and a context ended
	// before the start runs nothing.
	if _, err := RunVirtual(ctx, cfg, seedPoint(1, 1), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("RunVirtual on an ended context: %v", err)
	}
}

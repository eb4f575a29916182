package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// TestSimulatorFaultsRecordedExactly runs a point against the real-clock
// simulator with each fault kind striking every second request, and checks
// the client records exactly that kind for exactly those requests; with
// faults off nothing fails.
func TestSimulatorFaultsRecordedExactly(t *testing.T) {
	cases := []struct {
		fault string // "" = none
		want  string
	}{
		{"", ""},
		{"http_500", "http_500"},
		{"http_429", "http_429"},
		{"reset", metrics.ErrConnect},
		{"cut", metrics.ErrStreamCut},
		{"stall", metrics.ErrTimeoutIdle},
		{"malformed", metrics.ErrMalformed},
		{"stream_error", metrics.ErrServer},
	}
	for _, tc := range cases {
		name := tc.fault
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			params := map[string]any{"fault_after_tokens": 2.0, "fault_stall": 4 * time.Second}
			if tc.fault != "" {
				params["fault_"+tc.fault+"_every"] = 2.0
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			srv, err := sim.Start(ctx, &spec.Simulator{Profile: "quickstart", Clock: "real", Params: params}, "")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			client, err := openai.New(openai.Config{BaseURL: srv.BaseURL(), Model: "mrqa-sim-quickstart", IdleTimeout: 1500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			sc := testScenario(1)
			sc.Script.MaxTokens = 6
			plan, err := PlanPoint(sc, testDocs(4), 4, 1)
			if err != nil {
				t.Fatal(err)
			}
			ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "f", DownAfter: 100}
			run, err := ex.RunPoint(ctx, plan, nil)
			recs := run.Records
			if err != nil {
				t.Fatal(err)
			}
			// Every slot sends exactly one request; every second one is
			// struck. A session whose opening was struck re-sends it in its
			// next slot, and that slot's question is recorded as not asked.
			sent, failed, skipped, openingsFailed := 0, 0, 0, 0
			for _, r := range recs {
				if !r.Sent() {
					skipped++
					continue
				}
				sent++
				if r.OK() {
					if r.CompletionTokens != 6 || r.TTFT <= 0 {
						t.Errorf("successful record %s: %d tokens, ttft %v", r.ID, r.CompletionTokens, r.TTFT)
					}
					continue
				}
				failed++
				if r.Turn == 0 && r.Attempt == 0 {
					openingsFailed++
				}
				if r.Error != tc.want {
					t.Errorf("record %s: error %q (%s), want %q", r.ID, r.Error, r.Message, tc.want)
				}
			}
			wantFailed := 0
			if tc.fault != "" {
				wantFailed = sent / 2 // every second request is struck
			}
			if sent != 8 || failed != wantFailed || skipped != openingsFailed {
				t.Fatalf("%d requests sent, %d failed, %d turns skipped; want 8, %d and %d (one per failed first opening)", sent, failed, skipped, wantFailed, openingsFailed)
			}
		})
	}
}

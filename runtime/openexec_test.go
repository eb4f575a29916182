package runtime

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

func openScenario(rounds int, u spec.Users) *spec.Scenario {
	sc := testScenario(rounds)
	sc.Users = &u
	return sc
}

func runOpenPoint(t *testing.T, srv *recordingServer, sc *spec.Scenario, rate float64) (*OpenPoint, []metrics.Record) {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanOpenPoint(sc, testDocs(8), rate)
	if err != nil {
		t.Fatal(err)
	}
	ex := &HTTPExecutor{Client: client, Script: sc.Script, RunID: "run", DownAfter: 10}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := ex.RunOpen(ctx, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	return plan, run.Records
}

// A slow server does not slow arrivals: with every answer taking 1.5 s,
// twenty sessions arriving 100 ms apart all start on schedule (a closed
// loop of one worker would need 30 s to start the last), and the server
// sees them all at once.
func TestOpenArrivalsNotSlowedOnRealClock(t *testing.T) {
	srv := &recordingServer{delay: 1500 * time.Millisecond}
	sc := openScenario(0, spec.Users{Arrival: spec.ArrivalConstant, Sessions: 20, MaxActive: 100})
	plan, recs := runOpenPoint(t, srv, sc, 600)
	if len(recs) != 20 {
		t.Fatalf("%d records, want 20", len(recs))
	}
	slices.SortFunc(recs, func(a, b metrics.Record) int { return strings.Compare(a.Session, b.Session) })
	late := 0.0
	for _, r := range recs {
		i := slices.IndexFunc(plan.Sessions, func(s OpenSession) bool { return s.Label == r.Session })
		late = max(late, r.Start-plan.Sessions[i].Arrival.Seconds())
		if !r.OK() || r.Duration < 1.4 {
			t.Errorf("%s: error %q, %.2fs; want a slow success", r.Session, r.Error, r.Duration)
		}
	}
	// Loose: a busy machine may start a goroutine late, never 1.5 s late
	// as waiting for the server would.
	if late > 1.0 {
		t.Errorf("a session started %.2fs after its arrival time", late)
	}
	ss := metrics.CountSessions(recs, 0, 3.4)
	if ss.ActiveMax < 15 || ss.Started != 20 {
		t.Errorf("%+v; want all 20 started, at least 15 active at once", ss)
	}
}

// Sessions think between turns, resend their history, and arrivals past
// max_active are dropped, every turn recorded, none sent.
func TestOpenSessionsOnRealClock(t *testing.T) {
	srv := &recordingServer{delay: 300 * time.Millisecond}
	sc := openScenario(2, spec.Users{Arrival: spec.ArrivalConstant, Sessions: 4, MaxActive: 2,
		Think: spec.Think{Distribution: spec.ThinkConstant, Mean: 200 * time.Millisecond}})
	_, recs := runOpenPoint(t, srv, sc, 1200) // 50 ms apart
	ss := metrics.CountSessions(recs, 0, 10)
	if ss.Started != 2 || ss.Dropped != 2 || ss.Finished != 2 {
		t.Fatalf("%+v; want 2 started and finished, 2 dropped", ss)
	}
	if len(recs) != 12 || len(srv.reqs) != 6 {
		t.Fatalf("%d records, %d requests; want 12 records (3 turns × 4 sessions), 6 sent", len(recs), len(srv.reqs))
	}
	for _, r := range recs {
		if (r.Session == "u3" || r.Session == "u4") != (r.Error == metrics.ErrDropped) {
			t.Errorf("%s turn %d: error %q; u3 and u4 are the dropped ones", r.Session, r.Turn, r.Error)
		}
	}
	for _, q := range srv.reqs {
		if strings.HasSuffix(q.id, "-t2") && len(q.messages) != 5 {
			t.Errorf("%s sent %d messages; want the opening, two answers and two questions", q.id, len(q.messages))
		}
	}
	// Three 300 ms turns and two 200 ms pauses.
	if d := ss.DurationMean; d < 1300*time.Millisecond || d > 5*time.Second {
		t.Errorf("mean session %v; want about 1.3 s", d)
	}
}

package results

import (
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// LMBenchmark run files carry no request start times, so a point read from
// them has no span: requests_per_s is no data, not requests divided by the
// longest latency, and an SLO on it does not pass.
func TestLMBenchImportHasNoThroughput(t *testing.T) {
	recs := []metrics.Record{
		{Session: "c1s1", Turn: 0, Start: 0, Duration: 1, TTFT: 0.5, TTFC: 0.5, End: 0.9, CompletionTokens: 4},
		{Session: "c1s2", Turn: 0, Start: 1, Duration: 1, TTFT: 0.5, TTFC: 0.5, End: 0.9, CompletionTokens: 4},
		{Session: "c1s1", Turn: 1, Start: 2, Duration: 1, TTFT: 0.1, TTFC: 0.1, End: 0.5, CompletionTokens: 4},
		{Session: "c1s2", Turn: 1, Start: 3, Duration: 1, TTFT: 0.1, TTFC: 0.1, End: 0.5, CompletionTokens: 4},
		{Session: "c1s1", Turn: 2, Start: 4, Duration: 1, TTFT: 0.1, TTFC: 0.1, End: 0.5, CompletionTokens: 4},
	}
	orig := metrics.Aggregate(1, 2, recs)
	dir := t.TempDir()
	if err := WriteLMBench(dir, &Results{Rounds: 2}, &Point{Concurrent: 1, Sequential: 2, Metrics: orig}, recs); err != nil {
		t.Fatal(err)
	}
	r, err := ReadLMBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Judge(r, []SLO{{Name: "slo", Condition: "requests_per_s >= 3"}}, "sessions"); err != nil {
		t.Fatal(err)
	}
	p := r.Points[0]
	if !p.Metrics.NoData.Has("requests_per_s") {
		t.Errorf("requests_per_s = %v from files without start times (the run's own: %v)", p.Metrics.RequestsPerS, orig.RequestsPerS)
	}
	if p.Passed {
		t.Errorf("requests_per_s >= 3 passed on the imported point; the run it came from did %.2f requests/s", orig.RequestsPerS)
	}
}

// Judge (mrqa report -slo on LMBenchmark files) keeps each SLO's reason
// with its outcome, so a no_data point says which metric had no data and
// why.
func TestJudgeKeepsTheReason(t *testing.T) {
	r := &Results{Points: []Point{{Concurrent: 1, Sequential: 1, Metrics: metrics.Aggregate(1, 1, []metrics.Record{
		{Turn: 0, Duration: 1, TTFT: 0.5, TTFC: 0.5, End: 0.9, CompletionTokens: 4},
	})}}}
	if err := Judge(r, []SLO{{Name: "slo", Condition: "ttft_p95 <= 2s"}}, "sessions"); err != nil {
		t.Fatal(err)
	}
	o := r.Points[0].SLOs[0]
	if o.Outcome != metrics.NoData || o.Reason == "" {
		t.Errorf("outcome %q with reason %q; want no_data with the reason (rounds = 0: no steady turn)", o.Outcome, o.Reason)
	}
}

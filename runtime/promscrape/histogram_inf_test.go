package promscrape

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// Histograms that export only their +Inf bucket say nothing about their
// p95: the point has no data for queue_time_p95, an SLO on it does not
// pass, and the summary and point are still writable as JSON.
func TestOnlyInfBucketHistogramHasNoP95(t *testing.T) {
	hist := func(n int) string {
		var b strings.Builder
		for _, fam := range []string{"vllm:request_queue_time_seconds", "vllm:time_to_first_token_seconds"} {
			fmt.Fprintf(&b, "# TYPE %s histogram\n", fam)
			fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n", fam, n)
			fmt.Fprintf(&b, "%s_sum %g\n%s_count %d\n", fam, 5.0*float64(n), fam, n)
		}
		return b.String()
	}
	r := NewRecorder(nil)
	ingestAt(t, r, 0, hist(0))
	ingestAt(t, r, 1, hist(10)) // 10 requests, each queued 5 s on average
	sum := r.Summary(Window{From: at(0), To: at(1)})

	var p metrics.Point
	sum.Apply(&p)
	cond, err := metrics.Compile("queue_time_p95 <= 100ms", metrics.ScopePoint)
	if err != nil {
		t.Fatal(err)
	}
	v := cond.Evaluate(&p)
	if v.Outcome == metrics.Pass {
		t.Errorf("queue_time_p95 <= 100ms passed (queue_time_p95 = %v, bounds %+v, has %v) although every request queued 5 s on average and the histogram has no finite bucket",
			p.QueueTimeP95, p.Bounds, sum.Has[metrics.NameQueueTimeP95])
	}
	if _, err := json.Marshal(sum.QueueTimeP95Bounds); err != nil {
		t.Errorf("queue_time_p95 bounds cannot be written: %v", err)
	}
	if _, err := json.Marshal(sum.ServerTTFTP95Bounds); err != nil {
		t.Errorf("server_ttft_p95 bounds cannot be written (results.json save would fail): %v", err)
	}
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("the point's metrics cannot be written: %v", err)
	}
}

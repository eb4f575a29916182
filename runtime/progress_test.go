package runtime

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// lockedBuffer is a bytes.Buffer safe for the redraw goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Workers only count into the progress; the terminal line is drawn by the
// progress's own goroutine, never on a worker's path between two requests.
func TestProgressWorkersNeverWrite(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, true, "sc")
	p.point(2, 3, 18)
	before := out.String()
	for i := 0; i < 50; i++ {
		p.record(metrics.Record{Turn: 1, TTFT: 0.25})
	}
	if out.String() != before {
		t.Fatalf("record wrote to the terminal: %q", strings.TrimPrefix(out.String(), before))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "requests 50/18") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); !strings.Contains(got, "C=2 S=3  requests 50/18  ttft_p95 0.250s") {
		t.Fatalf("redraw line missing: %q", got)
	}
	p.finish()
	n := len(out.String())
	time.Sleep(300 * time.Millisecond)
	if len(out.String()) != n {
		t.Fatal("progress kept redrawing after finish")
	}
}

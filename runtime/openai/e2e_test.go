package openai

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestTTFTOverhead measures the client's own share of TTFT: a local server
// stamps, on a clock shared with the test, the moment it flushed each
// stream's first token; the client's TTFT instant minus that stamp is time
// spent in the kernel, the transport and the reader. 256 streams run at once.
//
// The machine is shared: another process can starve this one for tens of
// milliseconds, which no client could hide. So the measurement runs up to
// three times and the bounds must hold in one of them; a client that stamps
// late (after decoding, after a wake-up) misses them every time.
func TestTTFTOverhead(t *testing.T) {
	const attempts = 3
	for a := 1; a <= attempts; a++ {
		median, p99 := measureTTFTOverhead(t)
		if raceBuild {
			t.Log("race detector on: the overhead bounds measure the instrumentation, not the client; not checked")
			return
		}
		if median < 2*time.Millisecond && p99 < 100*time.Millisecond {
			return
		}
		t.Logf("attempt %d: median %v (limit 2ms), p99 %v (limit 100ms)", a, median, p99)
	}
	t.Errorf("client overhead over its bounds in %d attempts", attempts)
}

func measureTTFTOverhead(t *testing.T) (median, p99 time.Duration) {
	const streams = 256
	base := time.Now() // the shared monotonic clock
	type stamp struct{ before, after time.Duration }
	var mu sync.Mutex
	stamps := map[string]stamp{}
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			models(w, "m")
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("X-Request-Id")
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		_, _ = io.WriteString(w, roleEv+"\n\n")
		f.Flush()
		// Spread first tokens over 800 ms, as a server's prefills would be.
		time.Sleep(time.Duration(h.Sum32()%800) * time.Millisecond)
		before := time.Since(base)
		_, _ = io.WriteString(w, contentEv("first")+"\n\n")
		f.Flush()
		after := time.Since(base)
		mu.Lock()
		stamps[id] = stamp{before, after}
		mu.Unlock()
		for range 3 {
			time.Sleep(2 * time.Millisecond)
			_, _ = io.WriteString(w, contentEv(" tok")+"\n\n")
			f.Flush()
		}
		_, _ = io.WriteString(w, finishEv+"\n\n"+usageEv+"\n\ndata: [DONE]\n\n")
	})
	c := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m"})
	conns := make([]*Conn, streams)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = c.NewConn()
		defer conns[i].Close()
		wg.Go(func() {
			if err := conns[i].Warm(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	results := make([]Result, streams)
	msgs := []Message{{Role: "user", Parts: []*Text{NewText("go")}}}
	for i := range conns {
		wg.Go(func() {
			results[i] = conns[i].Do(context.Background(), Request{ID: fmt.Sprintf("s%03d", i), Messages: msgs, MaxTokens: 4})
		})
	}
	wg.Wait()

	deltas := make([]time.Duration, 0, streams)
	for i, res := range results {
		if res.ErrKind != "" {
			t.Fatalf("stream %d: %s: %s", i, res.ErrKind, res.ErrMessage)
		}
		st, ok := stamps[fmt.Sprintf("s%03d", i)]
		if !ok {
			t.Fatalf("stream %d: no server stamp", i)
		}
		client := res.Start.Add(res.TTFT).Sub(base)
		if client < st.before {
			// Reading the first token before the server wrote it would mean
			// the role chunk (or something else) was taken for a token.
			t.Fatalf("stream %d: client TTFT instant %v precedes the server's write at %v", i, client, st.before)
		}
		deltas = append(deltas, client-st.after)
	}
	slices.Sort(deltas)
	q := func(p float64) time.Duration { return deltas[int(p*float64(len(deltas)-1)+0.5)] }
	t.Logf("client TTFT − server first-token flush over %d concurrent streams: min %v median %v p90 %v p99 %v max %v",
		streams, deltas[0], q(0.5), q(0.9), q(0.99), deltas[len(deltas)-1])
	return q(0.5), q(0.99)
}

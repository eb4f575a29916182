package openai

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStreamServerProcess is not a test: it is the streaming server that
// TestTTFTOverheadExternal starts in a process of its own (this test binary,
// re-run with MRQA_STREAM_SERVER=1). It answers every chat request with a
// role chunk, a first token after a delay spread over 800 ms whose content
// is the wall-clock instant its flush returned (unix nanoseconds), three
// more tokens and [DONE]; it stops when its standard input closes.
func TestStreamServerProcess(t *testing.T) {
	if os.Getenv("MRQA_STREAM_SERVER") != "1" {
		t.Skip("the helper process of TestTTFTOverheadExternal")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", l.Addr())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			models(w, "m")
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		h := fnv.New32a()
		_, _ = h.Write([]byte(r.Header.Get("X-Request-Id")))
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		_, _ = io.WriteString(w, roleEv+"\n\n")
		f.Flush()
		time.Sleep(time.Duration(h.Sum32()%800) * time.Millisecond)
		_, _ = io.WriteString(w, contentEv("x")+"\n\n")
		f.Flush()
		stamp := time.Now().UnixNano()
		_, _ = io.WriteString(w, contentEv(" "+strconv.FormatInt(stamp, 10))+"\n\n")
		for range 2 {
			time.Sleep(2 * time.Millisecond)
			_, _ = io.WriteString(w, contentEv(" tok")+"\n\n")
			f.Flush()
		}
		_, _ = io.WriteString(w, finishEv+"\n\n"+usageEv+"\n\ndata: [DONE]\n\n")
	})}
	go func() { _ = srv.Serve(l) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}

// TestTTFTOverheadExternal measures the closed-loop client overhead against
// a streaming server in another process: the client's first-token instant
// minus the instant the server's flush of that token returned, read on the
// wall clock both processes share, for MRQA_OVERHEAD_STREAMS concurrent
// streams (e.g. 256 or 1000). It is a measurement for docs/PERFORMANCE.md,
// run by hand; unset, it does not run. It checks every stream got its stamp.
func TestTTFTOverheadExternal(t *testing.T) {
	streams, _ := strconv.Atoi(os.Getenv("MRQA_OVERHEAD_STREAMS"))
	if streams <= 0 {
		t.Skip("set MRQA_OVERHEAD_STREAMS=256 (or 1000) to measure")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamServerProcess$")
	cmd.Env = append(os.Environ(), "MRQA_STREAM_SERVER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("server process said %q (%v)", line, err)
	}
	c := mustClient(t, Config{BaseURL: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR ")) + "/v1", Model: "m"})
	conns := make([]*Conn, streams)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = c.NewConn()
		defer conns[i].Close()
		wg.Go(func() { _ = conns[i].Warm(context.Background()) })
	}
	wg.Wait()
	res := make([]Result, streams)
	msgs := []Message{{Role: "user", Parts: []*Text{NewText("go")}}}
	for i := range conns {
		wg.Go(func() {
			res[i] = conns[i].Do(context.Background(), Request{ID: fmt.Sprintf("x%04d", i), Messages: msgs, MaxTokens: 4})
		})
	}
	wg.Wait()
	deltas := make([]time.Duration, 0, streams)
	for i, r := range res {
		if r.ErrKind != "" {
			t.Fatalf("stream %d: %s: %s", i, r.ErrKind, r.ErrMessage)
		}
		fields := strings.Fields(r.Content)
		if len(fields) < 2 {
			t.Fatalf("stream %d: no server stamp in %q", i, r.Content)
		}
		stamp, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("stream %d: stamp %q: %v", i, fields[1], err)
		}
		// The stamp is when the server's flush of the first token ("x")
		// returned; the client may read the token a little before that, so
		// small negative differences are possible, as in the in-process test.
		deltas = append(deltas, time.Duration(r.Start.Add(r.TTFT).UnixNano()-stamp))
	}
	slices.Sort(deltas)
	q := func(p float64) time.Duration { return deltas[int(p*float64(len(deltas)-1)+0.5)] }
	t.Logf("external server, %d streams: client TTFT instant − server first-token flush: min %v median %v p90 %v p99 %v max %v",
		streams, deltas[0], q(0.5), q(0.9), q(0.99), deltas[len(deltas)-1])
}

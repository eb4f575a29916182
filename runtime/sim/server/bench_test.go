package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTurnCPU measures the process CPU (server and in-process client)
// of one chat turn whose history is a 128k-token document already seen,
// against the same turn with a short history: the difference is what a long
// cached history costs beyond its new tokens.
func BenchmarkTurnCPU(b *testing.B) {
	cfg := engine.Config{Model: "m", MaxModelLen: 1 << 20, KVCacheTokens: 1 << 20, MaxBatchedTokens: 1 << 20}
	s, err := Start(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	words := strings.Fields("the whale sea ship captain harpoon deck sail wind storm night morning")
	var doc strings.Builder
	for i := 0; doc.Len() < 131072*5; i++ {
		doc.WriteString(words[i*7%len(words)])
		doc.WriteString(" ")
		if i%17 == 0 {
			doc.WriteString("\n")
		}
	}
	for _, tc := range []struct {
		name string
		doc  string
	}{{"short-history", "A short note."}, {"128k-history", doc.String()}} {
		b.Run(tc.name, func(b *testing.B) {
			body := func(q int) []byte {
				msgs := []map[string]any{
					{"role": "user", "content": "Read and summarize this novel.\n\n" + tc.doc},
					{"role": "assistant", "content": " the of and"},
					{"role": "user", "content": fmt.Sprintf("Question %d: what did the author feel?", q)},
				}
				raw, _ := json.Marshal(map[string]any{"model": "m", "messages": msgs, "max_tokens": 1, "stream": true,
					"stream_options": map[string]any{"include_usage": true}})
				return raw
			}
			send := func(raw []byte) int {
				resp, err := http.Post(s.BaseURL()+"/chat/completions", "application/json", bytes.NewReader(raw))
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return int(n)
			}
			send(body(-1)) // the document's tokens are cached from here on
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = body(i)
			}
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				send(bodies[i])
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/turn")
		})
	}
}

// BenchmarkConcurrentStreams runs many streams at once against 20 ms decode
// steps and reports how late the engine loop woke for its steps. The
// clients are raw TCP connections that only count bytes, so most of the
// process's CPU is the server's.
func BenchmarkConcurrentStreams(b *testing.B) {
	for _, streams := range []int{500, 2000} {
		b.Run(fmt.Sprint(streams), func(b *testing.B) {
			cfg := engine.Config{Model: "m", MaxModelLen: 4096, KVCacheTokens: 1 << 22, MaxNumSeqs: 4096,
				MaxBatchedTokens: 1 << 16, StepFixed: 20 * time.Millisecond}
			s, err := Start(cfg, "")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			body := `{"messages":[{"role":"user","content":"hello there"}],"max_tokens":50,"stream":true}`
			req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			conns := make([]net.Conn, streams)
			for i := range conns {
				if conns[i], err = net.Dial("tcp", s.Addr()); err != nil {
					b.Fatal(err)
				}
				defer conns[i].Close()
			}
			var events atomic.Int64
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for _, c := range conns {
					wg.Add(1)
					go func(c net.Conn) {
						defer wg.Done()
						if _, err := io.WriteString(c, req); err != nil {
							b.Error(err)
							return
						}
						buf := make([]byte, 4096)
						var tail []byte
						n := 0
						for {
							k, err := c.Read(buf)
							chunk := append(tail, buf[:k]...)
							n += bytes.Count(chunk, []byte("data: {"))
							if bytes.Contains(chunk, []byte("[DONE]")) {
								break
							}
							if err != nil {
								b.Error(err)
								return
							}
							tail = append(tail[:0], chunk[max(0, len(chunk)-8):]...)
						}
						events.Add(int64(n))
					}(c)
				}
				wg.Wait()
			}
			b.StopTimer()
			cpu := cpuTime() - c0
			lags := s.StepLags()
			slices.Sort(lags)
			if len(lags) > 0 {
				b.ReportMetric(float64(lags[len(lags)*99/100])/1e6, "lag-p99-ms")
				b.ReportMetric(float64(lags[len(lags)/2])/1e6, "lag-p50-ms")
			}
			b.ReportMetric(float64(events.Load())/float64(b.N), "events/op")
			b.ReportMetric(float64(cpu)/float64(events.Load())/1e3, "cpu-us/event")
		})
	}
}

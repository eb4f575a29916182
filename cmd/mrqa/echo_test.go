package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// echoServer is a hostile OpenAI-compatible server for testscript sessions
// (the echoserver program): it hands every credential a request carries
// back in each place a server can on grid point C=1 S=3, and answers every
// other point's requests with a broken header, so that the target counts as
// down and the run ends with a resume hint.
//
// Usage: echoserver ADDR
func echoServer() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echoserver ADDR")
		return 2
	}
	e := &echo{counts: map[string]int{}}
	if err := http.ListenAndServe(os.Args[1], e); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		return 1
	}
	return 0
}

type echo struct {
	mu     sync.Mutex
	counts map[string]int // requests seen per grid point
}

// echoModes are the ways a credential comes back, in the order a point's
// requests meet them; the last one answers properly.
var echoModes = []func(w http.ResponseWriter, msg string){
	func(w http.ResponseWriter, msg string) { // 4xx whose JSON escapes every byte
		w.WriteHeader(http.StatusUnauthorized)
		var b strings.Builder
		for i := 0; i < len(msg); i++ {
			fmt.Fprintf(&b, `\u%04x`, msg[i])
		}
		_, _ = io.WriteString(w, `{"error":{"message":"`+b.String()+`"}}`)
	},
	func(w http.ResponseWriter, msg string) { // a long 5xx body
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, msg)
	},
	func(w http.ResponseWriter, msg string) { // an error object in a 200 stream
		stream(w, `{"error":{"message":"`+msg+`"}}`)
	},
	func(w http.ResponseWriter, msg string) { // a malformed event
		stream(w, msg)
	},
	badHeader,
	func(w http.ResponseWriter, _ string) { goodStream(w) },
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/models":
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
		return
	case r.URL.Path != "/v1/chat/completions":
		http.NotFound(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("X-Request-Id")
	if id == "mrqa-preflight" {
		goodStream(w)
		return
	}
	// mrqa-<run>-c<C>s<S>-<session>-t<turn>
	parts := strings.Split(id, "-")
	point := parts[min(2, len(parts)-1)]
	e.mu.Lock()
	n := e.counts[point]
	e.counts[point]++
	e.mu.Unlock()
	creds := credentials(r)
	// Repeated, one occurrence straddles any cut; the varying lead shifts it.
	msg := strings.Repeat("x", n%7) + strings.Repeat(creds[(n/len(echoModes))%len(creds)]+" ", 40)
	if point != "c1s3" {
		badHeader(w, msg) // other points: the target looks down
		return
	}
	echoModes[n%len(echoModes)](w, msg)
}

// credentials are what the request carried: the bearer or basic token, the
// basic pair decoded, and the value of every X- header but X-Request-Id.
func credentials(r *http.Request) []string {
	var out []string
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		out = append(out, tok)
	}
	if tok, ok := strings.CutPrefix(auth, "Basic "); ok {
		out = append(out, tok)
		if pair, err := base64.StdEncoding.DecodeString(tok); err == nil {
			out = append(out, string(pair))
		}
	}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "X-") && k != "X-Request-Id" {
			out = append(out, v...)
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing")
	}
	return out
}

// badHeader answers with a Content-Length the transport quotes in its error.
func badHeader(w http.ResponseWriter, msg string) {
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = io.WriteString(bw, "HTTP/1.1 200 OK\r\nContent-Length: "+msg+"\r\n\r\n")
	_ = bw.Flush()
}

func stream(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range events {
		_, _ = io.WriteString(w, "data: "+ev+"\n\n")
	}
}

func goodStream(w http.ResponseWriter) {
	stream(w,
		`{"choices":[{"index":0,"delta":{"content":"Fine."}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}`,
		"[DONE]")
}

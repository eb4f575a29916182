package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
)

// modelServer is a server that answers one model list, for testscript
// sessions of mrqa init (the modelserver program): GET PATH answers with
// FILE's contents, everything else 404. With TOKEN, a request without
// "Authorization: Bearer TOKEN" gets a 401 that echoes the header it got, as
// careless gateways do. It stops on SIGINT.
//
// Usage: modelserver ADDR PATH FILE [TOKEN]
func modelServer() int {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: modelserver ADDR PATH FILE [TOKEN]")
		return 2
	}
	body, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "modelserver:", err)
		return 1
	}
	token := ""
	if len(os.Args) == 5 {
		token = os.Args[4]
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet || r.URL.Path != os.Args[2]:
			http.NotFound(w, r)
		case token != "" && r.Header.Get("Authorization") != "Bearer "+token:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":"bad credentials: %s"}}`, r.Header.Get("Authorization"))
		default:
			_, _ = w.Write(body)
		}
	})
	return serveUntilInterrupt(os.Args[1], h)
}

// serveUntilInterrupt serves h on addr until SIGINT, then exits 0, so that a
// session can stop the server and wait for its port to be free again.
func serveUntilInterrupt(addr string, h http.Handler) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: h}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "modelserver:", err)
		return 1
	}
	return 0
}

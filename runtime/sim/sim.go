// Package sim is the embedded simulator's front door: Start/Serve for the
// real-time HTTP server, and RunVirtual to run one grid point on a
// simulated clock. Profiles, the schema of a simulator block and Build live
// in runtime/sim/profile.
package sim

import (
	"context"
	"fmt"
	"io"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/sim/server"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Start serves the spec's simulator over HTTP in real time on addr ("" is
// 127.0.0.1:0). It stops when ctx is done or on srv.Close.
func Start(ctx context.Context, s *spec.Simulator, addr string) (*server.Server, error) {
	cfg, err := profile.Build(s)
	if err != nil {
		return nil, err
	}
	srv, err := server.Start(cfg, addr)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = srv.Close()
		case <-srv.Done():
		}
	}()
	return srv, nil
}

// Serve runs the named profile on addr until ctx is done, printing where it
// listens to out: `mrqa sim -profile P -addr A`.
func Serve(ctx context.Context, profile, addr string, out io.Writer) error {
	srv, err := Start(ctx, &spec.Simulator{Profile: profile, Clock: spec.ClockReal}, addr)
	if err != nil {
		return err
	}
	cfg := srv.Config()
	fmt.Fprintf(out, "mrqa sim: profile %s, model %s, serving %s (POST /reset_prefix_cache, POST /tokenize, GET /metrics)\n",
		profileName(profile), cfg.Model, srv.BaseURL())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return err
	}
	return nil
}

func profileName(p string) string {
	if p == "" {
		return profile.Default
	}
	return p
}

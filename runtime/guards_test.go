package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// a request's total timeout changes what a point measures (a
// request cut at 1 s is a failure that +Inf's the percentiles, uncut it is a
// sample): like connect, first_token and idle it belongs to the identity,
// or -resume mixes points measured with and without it.
func TestGuardIdentityCoversTotalTimeout(t *testing.T) {
	a, b := testScenario(1), testScenario(1)
	b.Target = &spec.Target{Name: "fake", API: "chat", Timeouts: spec.Timeouts{Total: time.Second}}
	red := newRedactor(nil)
	if d := identityDiff(identity(a, testDocs(2), "m", red, "salt"), identity(b, testDocs(2), "m", red, "salt")); len(d) == 0 {
		t.Fatal("timeouts { total = 1s } vs none: identities equal, so -resume adopts points measured without the limit")
	}
}

// values that come from env() (or a sensitive variable) are
// secrets and are redacted before they enter the identity, so every value
// of such a field reads "(sensitive)": base_url = env("VLLM_URL", ...) and
// model = env("MODEL", ...) are common, and pointing them at another server
// or model leaves the identity unchanged, so -resume mixes the two servers'
// points. The same holds for secret-valued extra_body entries and header
// values (only header names are kept).
func TestGuardIdentitySeesChangedSecretFields(t *testing.T) {
	mk := func(url, model string) map[string]string {
		sc := testScenario(1)
		sc.Target = &spec.Target{Name: "t", API: "chat", BaseURL: url, Model: model}
		return identity(sc, testDocs(2), model, newRedactor([]string{url, model}), "salt")
	}
	a := mk("http://gpu-a:8000/v1", "llama-3-8b")
	b := mk("http://gpu-b:8000/v1", "qwen-2.5-7b")
	if d := identityDiff(a, b); len(d) == 0 {
		t.Fatalf("another server and model from env(): identities equal (base_url %q, model %q), so -resume mixes their points",
			a["target.base_url"], a["target.model"])
	}
}

// TLS server_name picks the backend behind an SNI-routing proxy
// (one base_url, several deployments): a different server_name can measure
// a different server, yet it is not in the identity.
func TestGuardIdentityCoversServerName(t *testing.T) {
	mk := func(sni string) map[string]string {
		sc := testScenario(1)
		sc.Target = &spec.Target{Name: "t", API: "chat", BaseURL: "https://proxy:443/v1", Model: "m", TLS: &spec.TLS{ServerName: sni}}
		return identity(sc, testDocs(2), "m", newRedactor(nil), "salt")
	}
	if d := identityDiff(mk("vllm-a.internal"), mk("vllm-b.internal")); len(d) == 0 {
		t.Fatal("tls.server_name vllm-a vs vllm-b behind one proxy URL: identities equal")
	}
}

// modelHandler lists one model and answers chat like recordingServer.
func modelHandler(model string) http.Handler {
	rs := &recordingServer{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model"}]}`, model)
			return
		}
		rs.ServeHTTP(w, r)
	})
}

// with model omitted ("take the only model /v1/models lists"),
// the identity is computed before preflight resolves the model, so it
// records target.model = "" and a resume against a server that now serves
// another model (a redeploy behind the same address) adopts the first
// model's points: results.json then says every point measured the new one.
func TestGuardResumeOmittedModelChangedOnServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	hs := &http.Server{Handler: modelHandler("model-a")}
	go func() { _ = hs.Serve(l) }()
	out := t.TempDir()
	file, sc := sweepScenario(t, "http://"+addr+"/v1", false)
	sc.Target.Model = ""
	sc.Grid.Concurrent = []int{1}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Run(ctx, file, sc, Options{OutDir: out})
	_ = hs.Close()
	if err != nil || r.Target.Model != "model-a" {
		t.Fatalf("first run: %v", err)
	}

	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	hs2 := &http.Server{Handler: modelHandler("model-b")}
	go func() { _ = hs2.Serve(l2) }()
	defer hs2.Close()
	sc.Grid.Concurrent = []int{1, 2}
	r, err = Run(ctx, file, sc, Options{OutDir: out, Resume: true})
	if errors.Is(err, ErrOutputInUse) && strings.Contains(err.Error(), "target.model") {
		return
	}
	t.Fatalf("resume adopted model-a's point into a run of model-b (err %v, %d points, results say model %q for all)", err, len(r.Points), r.Target.Model)
}

// nothing stops a second run into a folder whose first run has
// not saved its first point yet (with 128k-token novels that point takes
// many minutes): a second terminal, a CI retry or a second exec both see
// no results.json, both measure the server at once (each loading it for
// the other), and the last to save wins, its points measured under the
// other's load. The second run should be refused while the folder is in
// use (a lock file), as a folder that holds a run is.
func TestGuardSecondRunWhileFirstIsInFlight(t *testing.T) {
	srv := &recordingServer{delay: 700 * time.Millisecond}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	file, sc := sweepScenario(t, hs.URL+"/v1", false)
	sc.Grid.Concurrent = []int{1}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := Run(ctx, file, sc, Options{OutDir: out})
		first <- err
	}()
	for {
		srv.mu.Lock()
		n := len(srv.reqs)
		srv.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := Run(ctx, file, sc, Options{OutDir: out})
	if e := <-first; e != nil {
		t.Fatalf("first run: %v", e)
	}
	if !errors.Is(err, ErrOutputInUse) {
		t.Fatalf("a second run into %s while the first was measuring: err %v; want ErrOutputInUse", out, err)
	}
}

// no client mrqa makes sets a redirect policy, so Go's default
// applies: Authorization is dropped on a redirect to another host, but
// every other header is forwarded. A target (or its /metrics, which by
// default carries the target's headers) that answers 30x to another host
// hands that host the credential in x-api-key / api-key (Azure's header),
// the usual place for a key outside Authorization.
func TestGuardRedirectForwardsSecretHeaders(t *testing.T) {
	const key = "hdr-SECRET-redirect-7f7f"
	var leaked atomic.Value
	leaked.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Api-Key"); v != "" {
			leaked.Store(r.URL.Path + ": " + v)
		}
		http.NotFound(w, r)
	}))
	defer other.Close()
	// The same server under another host name: Go counts it as another host.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	rec := &recordingServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.Redirect(w, r, otherURL+"/collect", http.StatusFound)
			return
		}
		rec.ServeHTTP(w, r)
	}))
	defer srv.Close()
	file, sc := sweepScenario(t, srv.URL+"/v1", false)
	sc.Grid.Concurrent = []int{1}
	file.Secrets = []string{key}
	sc.Target.Headers = map[string]string{"X-Api-Key": key}
	// What the dsl fills in when the metrics block names only its URL.
	sc.Target.Metrics = &spec.Metrics{URL: srv.URL + "/metrics", Interval: time.Hour, Headers: sc.Target.Headers}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if v := leaked.Load().(string); v != "" {
		t.Fatalf("a redirect to another host received the target's secret header (%s)", v)
	}
}

// -force moves the old run aside before the first new point is written and
// deletes it only after: a kill in between leaves it in .replaced-*.
func TestForceMovesTheOldRunAside(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"results.json", "report.html"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := &output{dir: dir, replace: true}
	if err := o.beforeSave(); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, ".replaced-*", "results.json"))
	if _, err := os.Stat(filepath.Join(dir, "results.json")); !errors.Is(err, os.ErrNotExist) || len(aside) != 1 {
		t.Fatalf("after beforeSave: old results.json still in place (%v) or not aside (%v)", err, aside)
	}
	o.afterSave()
	if left, _ := filepath.Glob(filepath.Join(dir, ".replaced-*")); len(left) != 0 {
		t.Fatalf("after afterSave: %v left", left)
	}
}

package runtime

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf/tlstest"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// A "server" corpus is counted by its target: root URL, model and
// credentials come from the target unless the options already name a server.
func TestTokenizerOptions(t *testing.T) {
	target := &spec.Target{BaseURL: "https://gpu.example:8443/v1/", Model: "qwen", APIKey: "sk-1", Headers: map[string]string{"X-Team": "kv"}}
	tests := []struct {
		name       string
		in         tokenizer.Options
		target     *spec.Target
		wantURL    string
		wantModel  string
		wantAuth   string
		wantBase   string
		wantClient bool
	}{
		{"from the target", tokenizer.Options{BaseDir: "/d"}, target, "https://gpu.example:8443", "qwen", "Bearer sk-1", "/d", true},
		{"already set", tokenizer.Options{ServerURL: "http://mirror", Model: "m"}, target, "http://mirror", "m", "", "", false},
		{"simulator", tokenizer.Options{}, &spec.Target{Simulator: &spec.Simulator{}}, "", "", "", "", false},
		{"no target", tokenizer.Options{}, nil, "", "", "", "", false},
	}
	for _, tc := range tests {
		got, err := TokenizerOptions(tc.in, tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.ServerURL != tc.wantURL || got.Model != tc.wantModel || got.Header.Get("Authorization") != tc.wantAuth ||
			got.BaseDir != tc.wantBase || (got.HTTPClient != nil) != tc.wantClient {
			t.Errorf("%s: %+v", tc.name, got)
		}
		if tc.wantAuth != "" && got.Header.Get("X-Team") != "kv" {
			t.Errorf("%s: headers %v", tc.name, got.Header)
		}
	}
}

// A sweep reaches an https target and its /metrics with the scenario's tls
// settings; without them it stops at the preflight, saying how to fix it.
func TestRunTLSTarget(t *testing.T) {
	rec := &recordingServer{}
	srv, files := tlstest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			_, _ = io.WriteString(w, "vllm:num_requests_running 1\n")
			return
		}
		rec.ServeHTTP(w, r)
	}), false)
	tests := []struct {
		name    string
		tls     *spec.TLS
		wantErr string
	}{
		{"ca_file", &spec.TLS{CAFile: files.CA}, ""},
		{"no tls block", nil, `set tls { ca_file = "ca.pem" }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, sc := sweepScenario(t, srv.URL+"/v1", false)
			sc.Target.TLS = tc.tls
			sc.Target.Metrics = &spec.Metrics{URL: srv.URL + "/metrics", Interval: time.Hour, TLS: tc.tls}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := Run(ctx, file, sc, Options{OutDir: t.TempDir()})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "x509") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want x509 and %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Points) != 2 || !r.Points[0].Passed {
				t.Fatalf("points %+v", r.Points)
			}
			if r.ServerSeries == nil || len(r.ServerSeries.Samples) == 0 {
				t.Fatal("no scrape")
			}
			for _, smp := range r.ServerSeries.Samples {
				if smp.Err != "" || smp.Values["requests_running"] != 1 {
					t.Errorf("scrape %+v", smp)
				}
			}
		})
	}
}

// A gateway that authenticates /metrics gets the metrics block's
// credentials, by default the target's api_key and headers; none of them
// reaches the outputs.
func TestRunMetricsAuth(t *testing.T) {
	const key, hdr, token = "sk-target-SECRET-1", "hdr-SECRET-2", "tok-SECRET-3"
	rec := &recordingServer{}
	var want string // the Authorization /metrics requires
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			rec.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != want || r.Header.Get("X-Gateway") != hdr {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "vllm:num_requests_running 1\n")
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		metrics spec.Metrics
		want    string
	}{
		// What the dsl fills in when the metrics block says nothing.
		{"the target's", spec.Metrics{BearerToken: key, Headers: map[string]string{"X-Gateway": hdr}}, "Bearer " + key},
		{"its own", spec.Metrics{BearerToken: token, Headers: map[string]string{"X-Gateway": hdr}}, "Bearer " + token},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want = tc.want
			file, sc := sweepScenario(t, srv.URL+"/v1", false)
			file.Secrets = []string{key, hdr, token}
			sc.Target.APIKey = key
			sc.Target.Headers = map[string]string{"X-Gateway": hdr}
			m := tc.metrics
			m.URL, m.Interval = srv.URL+"/metrics", time.Hour
			sc.Target.Metrics = &m
			out := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := Run(ctx, file, sc, Options{OutDir: out})
			if err != nil {
				t.Fatal(err)
			}
			if r.ServerSeries == nil || len(r.ServerSeries.Samples) == 0 {
				t.Fatal("no scrape")
			}
			for _, smp := range r.ServerSeries.Samples {
				if smp.Err != "" {
					t.Errorf("scrape failed: %s", smp.Err)
				}
			}
			noSecrets(t, out, key, hdr, token)
		})
	}
}

// noSecrets fails if any file under dir holds one of the secrets.
func noSecrets(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

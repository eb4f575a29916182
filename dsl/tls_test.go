package dsl

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// withTarget is a valid file whose target "t" holds body after base_url.
func withTarget(body string) string {
	return strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
		`base_url = "http://127.0.0.1:8000/v1"`, `base_url = "https://gpu.example:8443/v1"`+"\n"+body, 1)
}

// The tls block reaches the spec with paths resolved against the scenario
// file; the metrics block takes the target's unless it has its own.
func TestTLSBlock(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantTarget  *spec.TLS // paths relative to the file's directory
		wantMetrics *spec.TLS
	}{
		{
			name:        "none",
			body:        `metrics { url = "https://gpu.example:8443/metrics" }`,
			wantTarget:  nil,
			wantMetrics: nil,
		},
		{
			name: "target's, inherited by metrics",
			body: `tls {
    ca_file     = "certs/ca.pem"
    server_name = "gpu.internal"
    cert_file   = "/etc/mrqa/client.pem"
    key_file    = "/etc/mrqa/client-key.pem"
  }
  metrics { url = "https://gpu.example:8443/metrics" }`,
			wantTarget:  &spec.TLS{CAFile: "certs/ca.pem", ServerName: "gpu.internal", CertFile: "/etc/mrqa/client.pem", KeyFile: "/etc/mrqa/client-key.pem"},
			wantMetrics: &spec.TLS{CAFile: "certs/ca.pem", ServerName: "gpu.internal", CertFile: "/etc/mrqa/client.pem", KeyFile: "/etc/mrqa/client-key.pem"},
		},
		{
			name: "metrics' own",
			body: `tls { ca_file = "ca.pem" }
  metrics {
    url = "https://gpu.example:9100/metrics"
    tls { insecure_skip_verify = true }
  }`,
			wantTarget:  &spec.TLS{CAFile: "ca.pem"},
			wantMetrics: &spec.TLS{InsecureSkipVerify: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustLoad(t, withTarget(tc.body), Options{})
			dir := filepath.Dir(f.Path)
			for _, w := range []*spec.TLS{tc.wantTarget, tc.wantMetrics} {
				if w != nil && w.CAFile != "" && !filepath.IsAbs(w.CAFile) {
					w.CAFile = filepath.Join(dir, w.CAFile)
				}
			}
			tgt := f.Scenarios[0].Target
			if !reflect.DeepEqual(tgt.TLS, tc.wantTarget) {
				t.Errorf("target tls %+v, want %+v", tgt.TLS, tc.wantTarget)
			}
			if !reflect.DeepEqual(tgt.Metrics.TLS, tc.wantMetrics) {
				t.Errorf("metrics tls %+v, want %+v", tgt.Metrics.TLS, tc.wantMetrics)
			}
		})
	}
}

func TestTLSBlockErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"cert without key", withTarget(`tls { cert_file = "/c.pem" }`), "Incomplete client certificate"},
		{"key without cert", withTarget(`metrics {
    url = "https://x/metrics"
    tls { key_file = "/k.pem" }
  }`), "Incomplete client certificate"},
		{"unknown attribute", withTarget(`tls { ca = "/c.pem" }`), "Unsupported argument"},
		{"two blocks", withTarget("tls {}\n  tls {}"), "Duplicate tls block"},
		{"simulator", strings.Replace(validSkeleton(`  slo "a" { condition = "ttft_p95 <= 2s" }`),
			`base_url = "http://127.0.0.1:8000/v1"`, "simulator {}\n  tls { insecure_skip_verify = true }", 1), "Conflicting target settings"},
	}
	for _, tc := range tests {
		errs := loadErrors(t, tc.src, Options{})
		if len(errs) != 1 || !strings.Contains(errs[0].Summary, tc.want) {
			t.Errorf("%s: errors %v, want one %q", tc.name, errs, tc.want)
		}
	}
}

// The metrics block sends the target's api_key and headers unless it sets
// its own bearer_token and headers; all of them are secrets.
func TestMetricsAuth(t *testing.T) {
	target := `api_key = "sk-key-SECRET"
  headers = { "x-team" = "hdr-SECRET" }
`
	tests := []struct {
		name        string
		metrics     string
		wantToken   string
		wantHeaders map[string]string
	}{
		{"defaults", `metrics { url = "https://gpu.example:8443/metrics" }`, "sk-key-SECRET", map[string]string{"x-team": "hdr-SECRET"}},
		{"its own", `metrics {
    url          = "https://gpu.example:9100/metrics"
    bearer_token = "tok-SECRET"
    headers      = { "x-gateway" = "gw-SECRET" }
  }`, "tok-SECRET", map[string]string{"x-gateway": "gw-SECRET"}},
		{"none at all", `metrics {
    url          = "https://gpu.example:9100/metrics"
    bearer_token = ""
    headers      = {}
  }`, "", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustLoad(t, withTarget(target+"  "+tc.metrics), Options{})
			m := f.Scenarios[0].Target.Metrics
			if m.BearerToken != tc.wantToken || !reflect.DeepEqual(m.Headers, tc.wantHeaders) {
				t.Errorf("bearer %q headers %v, want %q %v", m.BearerToken, m.Headers, tc.wantToken, tc.wantHeaders)
			}
			for _, s := range []string{tc.wantToken, tc.wantHeaders["x-gateway"]} {
				if s == "" {
					continue
				}
				if !slices.Contains(f.Secrets, s) {
					t.Errorf("%q is not a secret: %v", s, f.Secrets)
				}
				if strings.Contains(f.Redacted, s) {
					t.Errorf("the redacted file shows %q", s)
				}
			}
		})
	}
}

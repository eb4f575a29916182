package openai

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf/tlstest"
)

// An https target is reached with the tls settings: a CA file or
// insecure_skip_verify, a server name, a client certificate; without them
// the error says what is wrong and which setting fixes it.
func TestTLSTarget(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			models(w, "m")
		case "/v1/chat/completions":
			goodStream(w)
		}
	})
	plain, pf := tlstest.Server(t, handler, false)
	mutual, mf := tlstest.Server(t, handler, true)
	tests := []struct {
		name    string
		url     string
		tls     *spec.TLS
		wantErr []string // "" entries: none
	}{
		{"ca_file", plain.URL, &spec.TLS{CAFile: pf.CA}, nil},
		{"insecure_skip_verify", plain.URL, &spec.TLS{InsecureSkipVerify: true}, nil},
		{"server_name the certificate carries", plain.URL, &spec.TLS{CAFile: pf.CA, ServerName: "example.com"}, nil},
		{"neither", plain.URL, nil, []string{"x509: certificate signed by unknown authority", `set tls { ca_file = "ca.pem" }`, "insecure_skip_verify = true"}},
		{"wrong server_name", plain.URL, &spec.TLS{CAFile: pf.CA, ServerName: "wrong.example"}, []string{"wrong.example", "server_name", "it carries example.com"}},
		{"client certificate presented", mutual.URL, &spec.TLS{CAFile: mf.CA, CertFile: mf.ClientCert, KeyFile: mf.ClientKey}, nil},
		{"client certificate missing", mutual.URL, &spec.TLS{CAFile: mf.CA}, []string{"certificate", `set tls { cert_file = "client.pem", key_file = "client-key.pem" }`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tlsconf.Load(tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			c := mustClient(t, Config{BaseURL: tc.url + "/v1", TLS: cfg})
			info, err := c.Preflight(context.Background())
			if len(tc.wantErr) == 0 {
				if err != nil || info.Model != "m" {
					t.Fatalf("preflight: %v (model %q)", err, info.Model)
				}
				return
			}
			if err == nil {
				t.Fatal("preflight succeeded")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

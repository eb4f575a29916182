package tlsconf

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf/tlstest"
)

func TestLoad(t *testing.T) {
	_, f := tlstest.Server(t, http.NotFoundHandler(), false)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      *spec.TLS
		wantErr string
	}{
		{name: "none", in: nil},
		{name: "all set", in: &spec.TLS{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey, ServerName: "gpu", InsecureSkipVerify: true}},
		{name: "missing ca_file", in: &spec.TLS{CAFile: "/nonexistent/ca.pem"}, wantErr: "tls ca_file: open /nonexistent/ca.pem"},
		{name: "ca_file without PEM", in: &spec.TLS{CAFile: notPEM}, wantErr: "no PEM certificate in it"},
		{name: "cert without key", in: &spec.TLS{CertFile: f.ClientCert}, wantErr: "cert_file and key_file go together"},
		{name: "key that is no key", in: &spec.TLS{CertFile: f.ClientCert, KeyFile: notPEM}, wantErr: "tls cert_file and key_file:"},
	}
	for _, tc := range tests {
		cfg, err := Load(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.in == nil && cfg != nil:
			t.Errorf("%s: config %v, want nil", tc.name, cfg)
		case tc.in != nil && (cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "gpu" || !cfg.InsecureSkipVerify):
			t.Errorf("%s: config %+v", tc.name, cfg)
		}
	}
}

func TestHintOther(t *testing.T) {
	for _, err := range []error{nil, errors.New("connection refused")} {
		if h := Hint(err); h != "" {
			t.Errorf("Hint(%v) = %q, want none", err, h)
		}
	}
}

package promscrape

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf/tlstest"
)

// An https /metrics is scraped with its tls settings; without them the first
// error says which setting fixes it.
func TestScrapeTLS(t *testing.T) {
	srv, files := tlstest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("vllm:num_requests_running 2\n"))
	}), true)
	tests := []struct {
		name    string
		tls     *spec.TLS
		wantErr string // "" for a good scrape
	}{
		{"ca_file and client certificate", &spec.TLS{CAFile: files.CA, CertFile: files.ClientCert, KeyFile: files.ClientKey}, ""},
		{"no tls settings", nil, `set tls { ca_file = "ca.pem" }`},
		{"no client certificate", &spec.TLS{CAFile: files.CA}, `set tls { cert_file = "client.pem", key_file = "client-key.pem" }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tlsconf.Load(tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			s := Start(context.Background(), srv.URL+"/metrics", time.Hour, nil, Access{TLS: cfg})
			err = s.ScrapeNow(context.Background())
			ser := s.Stop()
			switch {
			case tc.wantErr == "" && (err != nil || ser.Samples[len(ser.Samples)-1].Values["requests_running"] != 2):
				t.Errorf("scrape: %v, samples %+v", err, ser.Samples)
			case tc.wantErr != "" && (s.FirstError() == nil || !strings.Contains(s.FirstError().Error(), tc.wantErr)):
				t.Errorf("first error %v, want %q", s.FirstError(), tc.wantErr)
			case tc.wantErr != "" && strings.Contains(ser.Samples[0].Err, "set tls"):
				t.Errorf("the hint went into the series: %q", ser.Samples[0].Err)
			}
		})
	}
}

// Access.Header goes with every scrape and stays out of the series.
func TestScrapeHeader(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer m-secret" || r.Header.Get("Accept") == "" {
			http.Error(w, "unauthorized: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("vllm:num_requests_running 2\n"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		header http.Header
		ok     bool
	}{
		{http.Header{"Authorization": {"Bearer m-secret"}}, true},
		{nil, false},
	} {
		s := Start(context.Background(), srv.URL+"/metrics", time.Hour, nil, Access{Header: tc.header})
		err := s.ScrapeNow(context.Background())
		ser := s.Stop()
		if (err == nil) != tc.ok {
			t.Errorf("header %v: scrape error %v", tc.header, err)
		}
		b, _ := json.Marshal(ser)
		if strings.Contains(string(b), "m-secret") {
			t.Errorf("the series holds the token: %s", b)
		}
	}
}

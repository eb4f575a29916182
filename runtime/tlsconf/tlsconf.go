// Package tlsconf turns a scenario's tls settings into a crypto/tls
// configuration for the HTTP clients that reach a target (requests, the
// /metrics scraper, the server tokenizer), and explains certificate errors
// in terms of those settings.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Load builds the client configuration t describes; nil t gives nil, which
// net/http reads as its defaults.
func Load(t *spec.TLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	cfg := &tls.Config{
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, // the user's explicit choice, documented as for testing only
		MinVersion:         tls.VersionTLS12,
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls cert_file and key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case t.CertFile != "" || t.KeyFile != "":
		return nil, errors.New("tls: cert_file and key_file go together: set both or neither")
	}
	return cfg, nil
}

// Hint says how the tls settings can fix a certificate problem in err, as
// text to append to its message ("" when err is no such problem).
func Hint(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &unknown):
		return ` (the server's certificate is signed by an authority this machine does not trust: set tls { ca_file = "ca.pem" } to the PEM file of that authority, or insecure_skip_verify = true to skip the check, for testing only)`
	case errors.As(err, &host):
		return fmt.Sprintf(` (the server's certificate is not for this host name: set tls { server_name = "…" } to a name it carries%s)`, certNames(host.Certificate))
	case errors.As(err, &invalid):
		return ` (the server's certificate is not valid, e.g. expired; renew it, or set tls { insecure_skip_verify = true } for testing only)`
	case strings.Contains(err.Error(), "tls: certificate required"), strings.Contains(err.Error(), "tls: bad certificate"):
		return ` (the server asks for a client certificate: set tls { cert_file = "client.pem", key_file = "client-key.pem" })`
	}
	return ""
}

// certNames lists the names a certificate carries, for a hint.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	names := c.DNSNames
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return ""
	}
	return "; it carries " + strings.Join(names, ", ")
}

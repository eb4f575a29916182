// Package tlstest starts HTTPS test servers on 127.0.0.1 and writes the
// PEM files a scenario's tls block names, for the tests of the packages
// that connect to targets.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Files are the PEM files of a test server: the certificate to trust (its
// own, self-signed) and a client certificate with its key.
type Files struct {
	CA, ClientCert, ClientKey string
}

// Server starts an HTTPS server with h on 127.0.0.1, closed when the test
// ends. With requireClient it demands a client certificate signed by
// Files.ClientCert (tls.RequireAndVerifyClientCert).
func Server(t testing.TB, h http.Handler, requireClient bool) (*httptest.Server, Files) {
	t.Helper()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(h)
	certPEM, keyPEM, cert := clientCert(t)
	if requireClient {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, Files{
		CA:         write(t, dir, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})),
		ClientCert: write(t, dir, "client.pem", certPEM),
		ClientKey:  write(t, dir, "client-key.pem", keyPEM),
	}
}

func write(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientCert makes a self-signed client certificate valid for an hour.
func clientCert(t testing.TB) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mrqa test client"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), cert
}

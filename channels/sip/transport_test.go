package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files in dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "airbranch-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestOptionsOverEachTransport: OPTIONS is answered 200 with Allow over
// UDP, TCP and TLS (a self-signed certificate configured).
func TestOptionsOverEachTransport(t *testing.T) {
	cfg := testConfig()
	cfg.TLSAddr = "127.0.0.1:0"
	var pool *x509.CertPool
	cfg.TLSCertFile, cfg.TLSKeyFile, pool = selfSigned(t, t.TempDir())
	s := startServer(t, cfg, newFakeSink(), nil)
	for _, network := range []string{"udp", "tcp", "tls"} {
		t.Run(network, func(t *testing.T) {
			ua, err := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
			if err != nil {
				t.Fatal(err)
			}
			defer ua.Close()
			cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
			if err != nil {
				t.Fatal(err)
			}
			addr := s.Addr(network).String()
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			scheme := "sip"
			if network == "tls" {
				scheme = "sips"
			}
			req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: scheme, Host: host, Port: p})
			req.SetTransport(map[string]string{"udp": "UDP", "tcp": "TCP", "tls": "TLS"}[network])
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := cli.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 || res.GetHeader("Allow") == nil {
				t.Fatalf("OPTIONS over %s: %d, Allow %v", network, res.StatusCode, res.GetHeader("Allow"))
			}
		})
	}
}

func TestNATDestination(t *testing.T) {
	t.Parallel()
	tests := []struct{ contact, source, want string }{
		{"sip:rm@192.0.2.7:5062", "192.0.2.7:40000", ""},
		{"sip:rm@10.0.0.5:5062", "203.0.113.9:40000", "203.0.113.9:40000"},
		{"sip:rm@phone.example", "203.0.113.9:40000", "203.0.113.9:40000"},
		{"sip:rm@10.0.0.5:5062", "", ""},
	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.contact, &u); err != nil {
			t.Fatal(err)
		}
		if got := natDestination(u, tt.source); got != tt.want {
			t.Errorf("natDestination(%s, %s) = %q, want %q", tt.contact, tt.source, got, tt.want)
		}
	}
}

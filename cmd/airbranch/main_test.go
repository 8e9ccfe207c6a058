package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "airbranch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// envWithout returns the environment minus Airbranch's own variables, so a
// developer's shell settings do not leak into the test.
func envWithout(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AIRBRANCH_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestServeDefaultsHealthyAndDrains runs the real binary on embedded
// defaults with no Redis: /healthz answers 200 within 10 s, and SIGTERM ends
// it with exit code 0 after the drain.
func TestServeDefaultsHealthyAndDrains(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr := freeAddr(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = envWithout("AIRBRANCH_HTTP_ADDR=" + addr)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	deadline := time.Now().Add(10 * time.Second)
	healthy := false
	for time.Now().Before(deadline) && !healthy {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			healthy = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
		if !healthy {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !healthy {
		t.Fatalf("no 200 from /healthz within 10 s; log:\n%s", stderr.String())
	}
	for _, path := range []string{"/readyz", "/metrics"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
	log := stderr.String()
	for _, want := range []string{`"msg":"draining"`, `"msg":"stopped"`, "AIRBRANCH_JWT_SECRET is not set"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

// TestServePortInUse fails fast with the address in the message.
func TestServePortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stderr bytes.Buffer
	env := func(k string) string {
		if k == "AIRBRANCH_HTTP_ADDR" {
			return ln.Addr().String()
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := serve(ctx, nil, env, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1; log:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), ln.Addr().String()) {
		t.Fatalf("error does not name the address:\n%s", stderr.String())
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	// Three mistakes: an unknown log level, a body limit out of range, an
	// unknown key.
	if err := os.WriteFile(bad, []byte("log:\n  level: loud\nhttp:\n  max_body_bytes: 12\n  colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check-config", "-config", bad}, func(string) string { return "" }, &out, &errOut)
	if code == 0 {
		t.Fatalf("exit 0 for a bad config:\n%s", out.String())
	}
	for _, want := range []string{"level", "max_body_bytes", "colour"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not report %s:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"check-config"}, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("embedded configuration: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"rm from directory", []string{"token", "-role", "rm", "-subject", "rm-pb-01"}, 0, "eyJ"},
		{"supervisor", []string{"token", "-role", "supervisor", "-subject", "sup-01"}, 0, "eyJ"},
		{"unknown rm", []string{"token", "-role", "rm", "-subject", "rm-nobody"}, 2, ""},
		{"missing role", []string{"token", "-subject", "rm-pb-01"}, 2, ""},
		{"unknown role", []string{"token", "-role", "root", "-subject", "x", "-team", "t"}, 2, ""},
		{"rm with its own team", []string{"token", "-role", "rm", "-subject", "rm-pb-01", "-team", "private_bank"}, 0, "eyJ"},
		{"rm with another team", []string{"token", "-role", "rm", "-subject", "rm-pb-01", "-team", "mass"}, 2, ""},
		{"unknown rm with a team", []string{"token", "-role", "rm", "-subject", "rm-nobody", "-team", "mass"}, 2, ""},
		{"supervisor of a team", []string{"token", "-role", "supervisor", "-subject", "sup-01", "-team", "private_bank"}, 0, "eyJ"},
		{"supervisor of an unknown team", []string{"token", "-role", "supervisor", "-subject", "sup-01", "-team", "nope"}, 2, ""},
		{"ttl at the minimum", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "1m"}, 0, "eyJ"},
		{"ttl at the maximum", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "720h"}, 0, "eyJ"},
		{"ttl below the minimum", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "59s"}, 2, ""},
		{"ttl above the maximum", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "721h"}, 2, ""},
		{"zero ttl", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "0s"}, 2, ""},
		{"negative ttl", []string{"token", "-role", "admin", "-subject", "ops", "-ttl", "-1h"}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, func(string) string { return "" }, &out, &errOut)
			if code != tc.code || !strings.HasPrefix(out.String(), tc.out) {
				t.Fatalf("code %d out %q err %q", code, out.String(), errOut.String())
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errOut); code != 2 {
		t.Fatalf("code %d", code)
	}
	if !strings.Contains(errOut.String(), fmt.Sprintf("%q", "frobnicate")) {
		t.Fatalf("stderr: %s", errOut.String())
	}
}

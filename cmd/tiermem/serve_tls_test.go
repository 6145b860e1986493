package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/tlstest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns their paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	return tlstest.SelfSigned(t).WriteFiles(t, dir)
}

// TestServeTLS runs serve with a certificate, set in a config file: a real
// redis-cli with --tls stores and reads, a plain-text RESP client gets
// nothing, HTTPS answers (with the connection counted in /metrics), plain
// HTTP does not, and analytics is on by default.
func TestServeTLS(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("no redis-cli (make deps installs it)")
	}
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	addr, httpAddr := freeAddr(t), freeAddr(t)
	conf := writeConfig(t, "# TLS from the file\ntls-cert "+cert+"\ntls-key "+key+"\nanalytics-interval 100ms\n")
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	root.SetArgs([]string{"serve", "--config", conf, "--addr", addr, "--http", httpAddr, "--dir", filepath.Join(dir, "data"),
		"--no-glacier", "--hot", "16MiB", "--warm", "32MiB", "--cold", "256MiB", "--requirepass", "pw"})
	var logs strings.Builder
	root.SetErr(&logs)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
	}()
	waitListening(t, addr)
	waitListening(t, httpAddr)
	_, port, _ := net.SplitHostPort(addr)
	cli := func(args ...string) (string, error) {
		out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", port, "-a", "pw", "--no-auth-warning"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli("--tls", "--insecure", "SET", "k", "over tls"); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET: %q, %v", out, err)
	}
	if out, err := cli("--tls", "--insecure", "GET", "k"); err != nil || out != "over tls" {
		t.Errorf("redis-cli --tls GET: %q, %v", out, err)
	}
	if out, _ := cli("GET", "k"); strings.Contains(out, "over tls") {
		t.Errorf("a plain-text client read the value: %q", out)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+httpAddr+path, nil)
		req.Header.Set("Authorization", "Bearer pw")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s over HTTPS: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	if v := get("/v1/keys/k"); v != "over tls" {
		t.Errorf("HTTPS GET k: %q", v)
	}
	// Go's server answers a plain request on a TLS port with a 400.
	if resp, err := http.Get("http://" + httpAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP answered 200")
		}
	}
	time.Sleep(300 * time.Millisecond) // a few analytics samples
	metrics := get("/metrics")
	for _, want := range []string{`tiermem_connected_clients{protocol="http"} 1`, "tiermem_misses_total", `tiermem_tier_hits_total{tier="hot"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}

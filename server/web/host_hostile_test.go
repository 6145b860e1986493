package web_test

import (
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestHostileDNSRebindingIsRefused: without a password, a web page the
// user visits can rebind its own name to 127.0.0.1 and make the browser
// call the API under that name. Such a request (a Host naming neither an
// IP address, localhost, nor an allowed name) gets 403 and changes
// nothing; IP addresses, localhost and Config.AllowedHosts are answered,
// as is every host once a password is set, and the health checks always.
func TestHostileDNSRebindingIsRefused(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{AllowedHosts: []string{"Cache.Example.Org"}})
	must(t, m.Store("k", []byte("v")))
	for host, want := range map[string]int{
		"evil.example.com":       http.StatusForbidden,
		"evil.example.com:8080":  http.StatusForbidden,
		"127.0.0.1.evil.example": http.StatusForbidden,
		"127.0.0.1:8080":         http.StatusOK,
		"[::1]:8080":             http.StatusOK,
		"10.1.2.3":               http.StatusOK,
		"localhost:8080":         http.StatusOK,
		"app.localhost":          http.StatusOK,
		"cache.example.org:80":   http.StatusOK,
		"cache.example.org.":     http.StatusOK,
	} {
		req, err := http.NewRequest("DELETE", keyURL(srv, "k"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		if want == http.StatusOK {
			req.Method = "GET"
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "v" {
		t.Errorf("after DELETEs from refused hosts: %q, %v", got, err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
	req.Host = "evil.example.com"
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz from any host: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}

	_, locked := newServer(t, nil, web.Config{Password: "secret"})
	req, _ = http.NewRequest("GET", locked.URL+"/v1/usage", nil)
	req.Host = "tiermem.internal.example"
	req.Header.Set("Authorization", "Bearer secret")
	if resp, err := locked.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("with a password, any host with it: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

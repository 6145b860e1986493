package web_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// Serve a Manager over HTTP behind a password, then store a value in the
// warm tier and read part of it back.
func Example() {
	dir, _ := os.MkdirTemp("", "tiermem-web-example")
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, &tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}, KeepMemoryLimit: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	h, err := web.New(m, web.Config{Password: "secret", MaxBodyBytes: 16 << 20})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // or http.ListenAndServe("127.0.0.1:8080", h)
	defer srv.Close()

	send := func(method, path, body string, header ...string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		line := fmt.Sprintf("%s %s: %d", method, path, resp.StatusCode)
		if len(b) > 0 {
			line += " " + strings.TrimSpace(string(b))
		}
		fmt.Println(line)
	}
	send("PUT", "/v1/keys/user%2F42?tier=warm&ttl=1h", "Ada Lovelace")
	send("GET", "/v1/keys/user%2F42", "", "Range", "bytes=0-2")
	t, _ := m.Tier("user/42")
	fmt.Println("tier:", t)
	send("PUT", "/v1/keys/x?tier=lukewarm", "")
	// Output:
	// PUT /v1/keys/user%2F42?tier=warm&ttl=1h: 201
	// GET /v1/keys/user%2F42: 206 Ada
	// tier: warm
	// PUT /v1/keys/x?tier=lukewarm: 400 {"error":"web: bad parameter: tier \"lukewarm\": want hot, warm, cold or glacier","status":400}
}

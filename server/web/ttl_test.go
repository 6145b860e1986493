package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server/web"
)

// TestHugeTTLKeepsAcknowledgedValue: ?ttl= takes whole seconds up to
// what a time.Duration holds (about 292 years), so a TTL that ends after
// 2262 (what an int64 of Unix nanoseconds holds) is accepted. The RESP
// side keeps such an expiry as 2262's (SET k v EX 9000000000, package
// server's doc); over HTTP the PUT must either do the same or refuse the
// TTL with a 400 before touching the key. What it must not do is answer
// 204 and then have the value (and the one it replaced) gone.
func TestHugeTTLKeepsAcknowledgedValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, c := range []struct {
		name, ttl string
		size      int
		path      string
	}{
		{"small value, whole seconds", "9000000000", 10, "/v1/keys/"},
		{"small value, a Go duration", "2562047h", 10, "/v1/keys/"},
		{"streamed value (100 KiB)", "9000000000", 100 << 10, "/v1/keys/"},
		{"array", "9000000000", 0, "/v1/arrays/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := "k-" + c.name
			must(t, m.Store(key, []byte("old")))
			var body []byte
			if c.path == "/v1/arrays/" {
				body = npyFile("|u1", "(3,)", []byte{1, 2, 3})
			} else {
				body = bytes.Repeat([]byte("n"), c.size)
			}
			resp, rb := do(t, http.MethodPut, srv.URL+c.path+url.PathEscape(key)+"?ttl="+c.ttl, bytes.NewReader(body))
			v, err := m.Retrieve(key)
			switch {
			case resp.StatusCode/100 == 2:
				if err != nil {
					t.Fatalf("PUT ?ttl=%s: %s, then the key is %v: an acknowledged write is lost (and so is the value it replaced)", c.ttl, resp.Status, err)
				}
				if exp, err := m.ExpireTime(key); err != nil || time.Until(exp) < 200*365*24*time.Hour {
					t.Errorf("PUT ?ttl=%s: expires %v (%v); want about 2262 (the RESP side's cap)", c.ttl, exp, err)
				}
			case resp.StatusCode == http.StatusBadRequest:
				if err != nil || string(v) != "old" {
					t.Errorf("PUT ?ttl=%s refused (%s) but the key changed: %q, %v", c.ttl, rb, v, err)
				}
			default:
				t.Errorf("PUT ?ttl=%s: %s %s; want 204 (expiry capped) or 400", c.ttl, resp.Status, rb)
			}
		})
	}
}

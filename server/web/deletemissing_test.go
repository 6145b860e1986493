package web_test

import (
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestDeleteIfMatchOfAMissingKey: RFC 9110 §13.2.1: "A server
// MUST ignore all received preconditions if its response to the same
// request without those conditions ... would have been a status code other
// than a 2xx (Successful) or 412": a DELETE of a key that holds nothing is
// a 404 with If-Match too (as a GET with If-Match of it is), so that a
// client retrying a conditional DELETE that did land learns the key is
// gone, rather than that someone changed it.
func TestDeleteIfMatchOfAMissingKey(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "never-stored")
	for _, tag := range []string{"*", `"0123456789abcdef"`} {
		resp, body := do(t, http.MethodDelete, u, nil, "If-Match", tag)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE If-Match: %s of a missing key: %s %s; want 404 (RFC 9110 §13.2.1)", tag, resp.Status, body)
		}
		resp, body = do(t, http.MethodGet, u, nil, "If-Match", tag)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET If-Match: %s of a missing key: %s %s", tag, resp.Status, body)
		}
	}
}

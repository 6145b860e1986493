package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestEmptySuffixRangeAfterPreconditions: "Range: bytes=-0" asks
// for nothing, but the preconditions come first (RFC 9110 §13.2.2: If-Match,
// If-None-Match, ... and Range is evaluated last, only for a 200 that
// would be sent) and a false If-Range means the Range is ignored
// (§13.1.5). A cache revalidating with If-None-Match must get its 304, and
// a resuming download whose If-Range no longer matches must get the whole
// new value, not a 416.
func TestEmptySuffixRangeAfterPreconditions(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	const value = "0123456789"
	u := keyURL(srv, "r")
	do(t, http.MethodPut, u, strings.NewReader(value))
	resp, _ := do(t, http.MethodGet, u, nil)
	tag := resp.Header.Get("ETag")

	for _, c := range []struct {
		name   string
		header []string
		status int
		body   string
	}{
		{"If-None-Match with its ETag", []string{"If-None-Match", tag}, http.StatusNotModified, ""},
		{"If-Match with another ETag", []string{"If-Match", `"0000000000000000"`}, http.StatusPreconditionFailed, ""},
		{"If-Range with another ETag", []string{"If-Range", `"0000000000000000"`}, http.StatusOK, value},
	} {
		resp, body := do(t, http.MethodGet, u, nil, append([]string{"Range", "bytes=-0"}, c.header...)...)
		if resp.StatusCode != c.status || (c.status == http.StatusOK && string(body) != c.body) {
			t.Errorf("Range: bytes=-0 with %s: %s %q; want %d %q", c.name, resp.Status, body, c.status, c.body)
		}
	}
}

// TestRangeUnitsPerRFC9110: an origin server MUST ignore a Range
// header whose unit it does not understand (RFC 9110 §14.2) and answer
// 200 with the whole value; range unit names are case-insensitive
// (§14.1), so "Bytes=" is the bytes unit (a 206 for it, or a 200 if the
// server chooses to ignore the Range, never a 416).
func TestRangeUnitsPerRFC9110(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	const value = "0123456789abcdefghij"
	u := keyURL(srv, "r")
	do(t, http.MethodPut, u, strings.NewReader(value))

	resp, body := do(t, http.MethodGet, u, nil, "Range", "items=0-4")
	if resp.StatusCode != http.StatusOK || string(body) != value {
		t.Errorf("Range: items=0-4: %s %q (Content-Range %q); want 200 and the whole value (RFC 9110 §14.2: MUST ignore)",
			resp.Status, body, resp.Header.Get("Content-Range"))
	}
	resp, body = do(t, http.MethodGet, u, nil, "Range", "Bytes=0-4")
	switch {
	case resp.StatusCode == http.StatusPartialContent && string(body) == "01234":
	case resp.StatusCode == http.StatusOK && string(body) == value:
	default:
		t.Errorf("Range: Bytes=0-4: %s %q; want 206 \"01234\" (unit names are case-insensitive, RFC 9110 §14.1)", resp.Status, body)
	}
}

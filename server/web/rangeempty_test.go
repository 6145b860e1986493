package web_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestEmptyRangeRepliesNoValue: "Range: bytes=-0" (no byte) is a
// 416 whose JSON body says so; it carries the size in Content-Range, and
// never the value's bytes (a 416 is an error, and a value of gigabytes
// must not be buffered into its message), in every tier a GET serves
// from.
func TestEmptyRangeRepliesNoValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	value := bytes.Repeat([]byte("SECRET-"), 40<<10) // 280 KiB
	for _, tier := range []string{"hot", "warm", "cold"} {
		u := keyURL(srv, "r-"+tier)
		resp, body := do(t, http.MethodPut, u+"?tier="+tier, bytes.NewReader(value))
		wantWritten(t, resp, body)
		resp, body = do(t, http.MethodGet, u, nil, "Range", "bytes=-0")
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("%s: Range bytes=-0: %s, want 416", tier, resp.Status)
		}
		if bytes.Contains(body, []byte("SECRET-")) || len(body) > 4<<10 {
			t.Errorf("%s: the 416 reply to Range bytes=-0 has a %d-byte body holding the value: %.120q...", tier, len(body), body)
		}
	}
	_ = m
}

package web_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// TestIfNoneMatchReadAsServeContentReadsIt: getOpened skips Verify when
// namesTag finds the ETag in If-None-Match, trusting that
// http.ServeContent then answers 304 with no body. ServeContent reads only
// the first If-None-Match line and stops at the first token that is not an
// entity tag, so for these headers it answers 200 with the body: namesTag
// must read them the same way, so that the value is verified before the
// 200 header and a corrupt one is a 500, not a cut reply (a hostile
// review's find). HEADs with ranges and preconditions of the corrupt value
// are answered whole, without reading it.
func TestIfNoneMatchReadAsServeContentReadsIt(t *testing.T) {
	srv, _, tag := corruptCold(t)
	// What does hold: replies without a body send none and are not cut.
	for _, hdr := range [][]string{{"Range", "bytes=0-1,5-9"}, {"Range", "bytes=0-1,5-9", "If-Range", tag}, {"If-Match", `"0"`}} {
		req, _ := http.NewRequest(http.MethodHead, keyURL(srv, "big"), nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("HEAD %q of a corrupt value: %v", hdr, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent && resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("HEAD %q of a corrupt value: %s", hdr, resp.Status)
		}
	}
	for _, c := range []struct {
		name  string
		lines []string // If-None-Match header lines
	}{
		{"a token that is no tag before it", []string{`garbage, ` + tag}},
		{"a second header line", []string{`"0000000000000000"`, tag}},
		{"a no-break space before it", []string{`"0",` + "\u00a0" + tag}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, keyURL(srv, "big"), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header["If-None-Match"] = c.lines
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET of a corrupt cold value, If-None-Match %q: the connection was cut (%v); want a 304 or a 500 JSON error", c.lines, err)
			}
			defer resp.Body.Close()
			b, readErr := io.ReadAll(resp.Body)
			switch {
			case resp.StatusCode == http.StatusNotModified && len(b) == 0:
			case resp.StatusCode == http.StatusInternalServerError && bytes.Contains(b, []byte("corrupt")):
			default:
				t.Errorf("GET of a corrupt cold value, If-None-Match %q: %s, %d bytes of body, read error %v; want a 304 or a 500 JSON error, not a cut reply",
					c.lines, resp.Status, len(b), readErr)
			}
		})
	}
}

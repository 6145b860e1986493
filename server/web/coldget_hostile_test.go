package web_test

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestHostileBodilessErrorRepliesReadNoValue: a GET of a 64 MiB cold
// value (stored raw: a PUT with a Content-Length) answered without a byte
// of it reads nothing of it from disk, as a HEAD or a 304 does: a 412
// (If-Match names another version), a 416 (a Range past the end: what
// curl -C - sends to resume a download that is already complete), or a
// 416 for a Range of nothing ("-0") are decided from the ETag and the
// size the cold tier keeps, before the value is verified. Otherwise each
// such request on a value of gigabytes costs a full read. The bytes read
// are the process's rchar (/proc/self/io).
func TestHostileBodilessErrorRepliesReadNoValue(t *testing.T) {
	rchar := func() int64 {
		b, err := os.ReadFile("/proc/self/io")
		if err != nil {
			t.Skipf("no /proc/self/io: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err == nil {
					return n
				}
			}
		}
		t.Skip("no rchar in /proc/self/io")
		return 0
	}
	_, srv := newServer(t, nil, web.Config{})
	const n = 64 << 20
	req, err := http.NewRequest("PUT", keyURL(srv, "big")+"?tier=cold", &blockReader{block: randomBlock(), n: n})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range []struct {
		header []string
		status int
	}{
		{[]string{"If-Match", `"0123456789abcdef"`}, http.StatusPreconditionFailed},
		{[]string{"If-Match", `W/"0123456789abcdef", "x"`, "Range", "bytes=0-9"}, http.StatusPreconditionFailed},
		{[]string{"Range", fmt.Sprintf("bytes=%d-", n)}, http.StatusRequestedRangeNotSatisfiable},
		{[]string{"Range", fmt.Sprintf("bytes=%d-%d, -0", n+10, n+20)}, http.StatusRequestedRangeNotSatisfiable},
		{[]string{"Range", "bytes=-0"}, http.StatusRequestedRangeNotSatisfiable},
	} {
		before := rchar()
		resp, body := do(t, "GET", keyURL(srv, "big"), nil, c.header...)
		read := rchar() - before
		if resp.StatusCode != c.status {
			t.Errorf("GET with %q: %d %s, want %d", c.header, resp.StatusCode, body, c.status)
		}
		if read > 16<<20 {
			t.Errorf("GET with %q: a %d reply of %d bytes read %d MiB", c.header, resp.StatusCode, len(body), read>>20)
		}
	}
}

package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestETagFollowsTheValueAcrossTiers: "a value has one ETag
// whichever tier serves it" (doc.go). A value PUT into cold (raw), then
// moved to hot, warm, cold again (compressed, through Move), glacier and
// back, keeps the XXH3-64 of its bytes as its ETag for GET and HEAD, so a
// client's If-None-Match keeps working while the value migrates; the
// bytes stay the same.
func TestETagFollowsTheValueAcrossTiers(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, size := range []int{10, 100 << 10, 3 << 20} {
		v := bytes.Repeat([]byte("abcdefgh"), size/8) // compressible: cold compresses what Move brings it
		want := fmt.Sprintf(`"%016x"`, xxh3.Hash(v))
		resp, body := do(t, http.MethodPut, keyURL(srv, "e")+"?tier=cold", bytes.NewReader(v))
		wantWritten(t, resp, body)
		for _, tr := range []tiermem.Tier{tiermem.Cold, tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier, tiermem.Hot} {
			if cur, _ := m.Tier("e"); cur != tr {
				must(t, m.Move("e", tr))
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				resp, body := do(t, method, keyURL(srv, "e"), nil)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != want || (method == http.MethodGet && !bytes.Equal(body, v)) {
					t.Errorf("%d bytes in %v, %s: %s, ETag %s (want %s), %d bytes of body", size, tr, method, resp.Status, resp.Header.Get("ETag"), want, len(body))
				}
				resp, _ = do(t, method, keyURL(srv, "e"), nil, "If-None-Match", want)
				if resp.StatusCode != http.StatusNotModified {
					t.Errorf("%d bytes in %v, %s If-None-Match with its ETag: %s", size, tr, method, resp.Status)
				}
			}
		}
	}
}

package web_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// BenchmarkPutCold64MiB PUTs 64 MiB into the cold tier over loopback:
// "streamed" with a Content-Length (StoreFrom: staged to disk, then
// appended to the log), "buffered" without one (read into memory, then
// Store). It reports MB/s and the Go memory allocated per PUT.
func BenchmarkPutCold64MiB(b *testing.B) {
	const n = 64 << 20
	block := randomBlock()
	for _, mode := range []string{"streamed", "buffered"} {
		b.Run(mode, func(b *testing.B) {
			_, srv := newServer(b, nil, web.Config{})
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				var body io.Reader = &blockReader{block: block, n: n}
				if mode == "buffered" {
					body = struct{ io.Reader }{body} // no length: chunked
				}
				req, _ := http.NewRequest(http.MethodPut, keyURL(srv, "big")+"?tier=cold", body)
				if mode == "streamed" {
					req.ContentLength = n
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					b.Fatalf("PUT: %s", resp.Status)
				}
			}
		})
	}
}

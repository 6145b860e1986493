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

// BenchmarkGetCold64MiB GETs a 64 MiB value over loopback: "streamed" from
// cold, where it is stored raw (verified by a first pass, then sent as it
// is read), and "memory" from warm, read into a buffer and sent from it,
// the baseline. It reports MB/s and the Go memory allocated per GET.
func BenchmarkGetCold64MiB(b *testing.B) { benchRead64MiB(b, http.MethodGet) }

// BenchmarkHeadCold64MiB is a HEAD of the same values: the cold one is
// answered from the size and checksum its tier keeps (OpenValueDeferred),
// the warm one is read into memory for its ETag. MB/s counts the 64 MiB
// each reply describes.
func BenchmarkHeadCold64MiB(b *testing.B) { benchRead64MiB(b, http.MethodHead) }

// benchRead64MiB measures requests of one method for a 64 MiB value of
// random bytes, streamed from cold and held in warm.
func benchRead64MiB(b *testing.B, method string) {
	const n = 64 << 20
	block := randomBlock()
	for _, c := range []struct{ name, tier string }{{"streamed", "cold"}, {"memory", "warm"}} {
		b.Run(c.name, func(b *testing.B) {
			_, srv := newServer(b, nil, web.Config{})
			req, _ := http.NewRequest(http.MethodPut, keyURL(srv, "big")+"?tier="+c.tier, &blockReader{block: block, n: n})
			req.ContentLength = n
			resp, err := srv.Client().Do(req)
			if err != nil || resp.StatusCode != http.StatusNoContent {
				b.Fatalf("PUT: %v %v", resp, err)
			}
			resp.Body.Close()
			get, _ := http.NewRequest(method, keyURL(srv, "big"), nil)
			want := int64(n)
			if method == http.MethodHead {
				want = 0
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := srv.Client().Do(get)
				if err != nil {
					b.Fatal(err)
				}
				got, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || got != want || resp.ContentLength != n {
					b.Fatalf("%s: %s, %d bytes, length %d", method, resp.Status, got, resp.ContentLength)
				}
			}
		})
	}
}

package web_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// BenchmarkPutCold64MiB PUTs 64 MiB into the cold tier over loopback:
// "streamed" with a Content-Length (StoreFrom: staged to disk, then
// appended to the log), "chunked" without one (StoreFrom of unknown length:
// staged to disk to its end, then appended the same way; before, it was
// read into a growing buffer, then stored). It reports MB/s and the Go
// memory allocated per PUT.
func BenchmarkPutCold64MiB(b *testing.B) {
	const n = 64 << 20
	block := randomBlock()
	for _, mode := range []string{"streamed", "chunked"} {
		b.Run(mode, func(b *testing.B) {
			_, srv := newServer(b, nil, web.Config{})
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				var body io.Reader = &blockReader{block: block, n: n}
				if mode == "chunked" {
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
				if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
					b.Fatalf("PUT: %s", resp.Status)
				}
			}
		})
	}
}

// BenchmarkGetCold64MiB GETs a 64 MiB value over loopback: "streamed" from
// cold, where it is stored raw (verified by a first pass, then sent as it
// is read), "hot" and "warm" sent from the memory the tier holds it in
// (RetrieveShared, OpenValue), not copied. It reports MB/s and the Go
// memory allocated per GET.
func BenchmarkGetCold64MiB(b *testing.B) { benchRead64MiB(b, http.MethodGet) }

// BenchmarkHeadCold64MiB is a HEAD of the same values: the cold one is
// answered from the size and checksum its tier keeps (OpenValueDeferred),
// the hot and warm ones are hashed where they lie for their ETag. MB/s
// counts the 64 MiB each reply describes.
func BenchmarkHeadCold64MiB(b *testing.B) { benchRead64MiB(b, http.MethodHead) }

// BenchmarkPutMemory64MiB PUTs 64 MiB with a Content-Length into the hot
// and the warm tier over loopback (StoreFrom: read into the memory the
// tier keeps). It reports MB/s and the Go memory allocated per PUT.
func BenchmarkPutMemory64MiB(b *testing.B) {
	const n = 64 << 20
	block := randomBlock()
	for _, tier := range []string{"hot", "warm"} {
		b.Run(tier, func(b *testing.B) {
			_, srv := newServer(b, nil, web.Config{})
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				putBig(b, srv.Client(), keyURL(srv, "big")+"?tier="+tier, block, n)
			}
		})
	}
}

// putBig PUTs n bytes, block repeated, with a Content-Length.
func putBig(b *testing.B, c *http.Client, url string, block []byte, n int64) {
	req, _ := http.NewRequest(http.MethodPut, url, &blockReader{block: block, n: n})
	req.ContentLength = n
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		b.Fatalf("PUT: %s", resp.Status)
	}
}

// benchRead64MiB measures requests of one method for a 64 MiB value of
// random bytes, streamed from cold and held in warm.
func benchRead64MiB(b *testing.B, method string) {
	const n = 64 << 20
	block := randomBlock()
	for _, c := range []struct{ name, tier string }{{"streamed", "cold"}, {"hot", "hot"}, {"warm", "warm"}} {
		b.Run(c.name, func(b *testing.B) {
			_, srv := newServer(b, nil, web.Config{})
			putBig(b, srv.Client(), keyURL(srv, "big")+"?tier="+c.tier, block, n)
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

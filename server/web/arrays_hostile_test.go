package web_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileArrayBodilessRepliesCopyNoArray: for a 64 MiB array in
// the warm or the cold tier, a HEAD of /v1/arrays/{key}, a GET answered
// 304, and a GET of 10 bytes (Range) each copy the whole array into
// memory, where the same value under /v1/keys costs nothing (doc.go: "a
// reply without a body ... reads nothing of it"; a Range is served from
// where the value lies). The ETag needs no read: arrayTag already makes it
// from the stored checksum. So each such request in flight holds the
// whole array: a few HEADs of a large array exhaust memory.
func TestHostileArrayBodilessRepliesCopyNoArray(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	data := make([]byte, 64<<20)
	rand.Read(data)
	a := tiermem.Array{DType: tiermem.Float64, Shape: []int{1024, len(data) / 8 / 1024}, Data: data}
	for _, tr := range []tiermem.Tier{tiermem.Warm, tiermem.Cold} {
		if err := m.StoreArray("a", a, tiermem.InTier(tr)); err != nil {
			t.Fatal(err)
		}
		resp, _ := do(t, http.MethodHead, srv.URL+"/v1/arrays/a", nil)
		tag := resp.Header.Get("Etag")
		for _, c := range []struct {
			method string
			header []string
			status int
		}{
			{http.MethodHead, nil, http.StatusOK},
			{http.MethodGet, []string{"If-None-Match", tag}, http.StatusNotModified},
			{http.MethodGet, []string{"Range", "bytes=128-137"}, http.StatusPartialContent},
		} {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			resp, body := do(t, c.method, srv.URL+"/v1/arrays/a", nil, c.header...)
			runtime.ReadMemStats(&ms)
			if resp.StatusCode != c.status || len(body) > 10 {
				t.Fatalf("%v, %s %v: %s, %d bytes", tr, c.method, c.header, resp.Status, len(body))
			}
			if got := ms.TotalAlloc - before; got > 16<<20 {
				t.Errorf("array of %d MiB in %v, %s %v (%s, %d bytes of body): %d MiB allocated", len(data)>>20, tr, c.method, c.header, resp.Status, len(body), got>>20)
			}
		}
	}
}

// TestHostileArrayRepliesAgreeAcrossTiers: an array is served the same
// from every tier, whether its data is sent from where it lies (a large
// warm or cold one) or copied: the same ETag (that of its .npy file,
// which a conditional PUT computes from the stored checksum), the same
// bytes for GET and for a Range, the same header for HEAD, 304 for its
// ETag; and a key that holds no array is a 409 from every tier.
func TestHostileArrayRepliesAgreeAcrossTiers(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	random := make([]byte, 3<<20)
	rand.Read(random)
	for _, c := range []struct {
		name string
		a    tiermem.Array
	}{
		{"small", tiermem.Float64Array([]float64{1, 2.5, -3, 4, 5, 6}, 2, 3)},
		{"compressible", tiermem.Array{DType: tiermem.Int32, Shape: []int{100, 256}, Data: make([]byte, 100*256*4)}},
		{"large random", tiermem.Array{DType: tiermem.Float64, Shape: []int{3, 128, 1024}, Data: random}},
	} {
		var want []byte
		var tag string
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
			if err := m.StoreArray("a", c.a, tiermem.InTier(tr)); err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, http.MethodGet, srv.URL+"/v1/arrays/a", nil)
			if resp.StatusCode != http.StatusOK || !bytes.HasSuffix(body, c.a.Data) {
				t.Fatalf("%s in %v: GET %s, %d bytes", c.name, tr, resp.Status, len(body))
			}
			if want == nil {
				want, tag = body, resp.Header.Get("ETag")
			}
			if !bytes.Equal(body, want) || resp.Header.Get("ETag") != tag || tag == "" {
				t.Errorf("%s in %v: GET gave %d bytes, ETag %s; from hot %d bytes, ETag %s", c.name, tr, len(body), resp.Header.Get("ETag"), len(want), tag)
			}
			head, hbody := do(t, http.MethodHead, srv.URL+"/v1/arrays/a", nil)
			for _, f := range []string{"Etag", "Content-Length", "Content-Type", "X-Tiermem-Dtype"} {
				if head.Header.Get(f) != resp.Header.Get(f) || len(hbody) != 0 {
					t.Errorf("%s in %v: HEAD's %s %q, GET's %q", c.name, tr, f, head.Header.Get(f), resp.Header.Get(f))
				}
			}
			if r, b := do(t, http.MethodGet, srv.URL+"/v1/arrays/a", nil, "If-None-Match", tag); r.StatusCode != http.StatusNotModified || len(b) != 0 {
				t.Errorf("%s in %v: If-None-Match its ETag: %s", c.name, tr, r.Status)
			}
			for _, rng := range []struct {
				spec     string
				from, to int
			}{{"bytes=100-199", 100, 200}, {"bytes=-5", len(want) - 5, len(want)}, {"bytes=0-0", 0, 1}} {
				r, b := do(t, http.MethodGet, srv.URL+"/v1/arrays/a", nil, "Range", rng.spec)
				if r.StatusCode != http.StatusPartialContent || !bytes.Equal(b, want[rng.from:min(rng.to, len(want))]) {
					t.Errorf("%s in %v: Range %s: %s, %q", c.name, tr, rng.spec, r.Status, b)
				}
			}
			// A compare-and-set with the ETag GET gave (arrayTag, from the
			// stored checksum) holds.
			put, b := do(t, http.MethodPut, srv.URL+"/v1/arrays/a?tier="+tr.String(), bytes.NewReader(want), "If-Match", tag)
			if put.StatusCode != http.StatusNoContent {
				t.Errorf("%s in %v: PUT If-Match its ETag: %s %s", c.name, tr, put.Status, b)
			}
		}
	}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		if err := m.Store("plain", bytes.Repeat([]byte{7}, 200<<10), tiermem.InTier(tr)); err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if r, _ := do(t, method, srv.URL+"/v1/arrays/plain", nil); r.StatusCode != http.StatusConflict {
				t.Errorf("%s of a value that is no array, in %v: %s, want 409", method, tr, r.Status)
			}
		}
	}
}

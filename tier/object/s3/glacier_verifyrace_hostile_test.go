package s3_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

// TestGlacierHostileVerifyDuringCompaction: VerifyGlacier on a healthy
// store, while a compaction (every migration pass runs one) rewrites a
// pack that Verify has listed but not yet read, must not report an error:
// the pack was compacted, not lost (verifyPack skips a pack compacted
// before it looks, "compacted meanwhile"). An HTTP proxy holds Verify's
// GET of the pack until the compaction has deleted it.
func TestGlacierHostileVerifyDuringCompaction(t *testing.T) {
	ep := s3test.Endpoint(t)
	up, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(up)
	var mu sync.Mutex
	armed, gets := false, 0
	held := make(chan struct{})    // closed when Verify's GET is held
	deleted := make(chan struct{}) // closed when the pack is deleted
	var heldOnce, deletedOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pack/0000000000000001.pack") {
			mu.Lock()
			on := armed
			if on && r.Method == http.MethodGet {
				gets++
			}
			first := gets == 1 && r.Method == http.MethodGet
			mu.Unlock()
			switch {
			case on && first:
				heldOnce.Do(func() { close(held) })
				select {
				case <-deleted:
				case <-time.After(10 * time.Second):
				}
			case on && r.Method == http.MethodDelete:
				defer deletedOnce.Do(func() { close(deleted) })
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	direct := s3test.URL(t)
	i := strings.Index(direct, "endpoint=")
	j := strings.IndexByte(direct[i:], '&')
	proxied := direct[:i] + "endpoint=" + srv.URL + direct[i+j:]

	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: proxied, Object: &object.Options{PackSize: 64 << 10,
			Compression: object.NoCompression, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 20 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 20 {
		key := fmt.Sprint("g", i)
		if err := m.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Migrate(); err != nil {
		t.Fatal(err)
	}
	for i := range 16 { // pack 1 is 20% live: the next compaction rewrites it
		if err := m.Delete(fmt.Sprint("g", i)); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	armed = true
	mu.Unlock()
	verified := make(chan error, 1)
	go func() { verified <- m.VerifyGlacier() }()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("VerifyGlacier never read pack 1")
	}
	if err := m.CompactGlacier(); err != nil {
		t.Fatal(err)
	}
	if err := <-verified; err != nil {
		t.Fatalf("VerifyGlacier of a healthy store, one of whose packs a compaction rewrote meanwhile: %v", err)
	}
}

package web_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileAnnouncedBodyIntoGlacierIsNotAllocatedAhead: a client
// sends the head of a PUT announcing a 256 MiB body, bound for the glacier
// tier (?tier=glacier, or no tier with a value larger than every other
// tier's budget), and 1 KiB of it, then stalls. The server must not
// allocate the 256 MiB announced before the bytes come: any client could
// otherwise make it hold MaxBodyBytes (1 GiB by default) per connection
// by sending headers alone, memory no tier's budget counts.
// TestAnnouncedBodyIsNotAllocatedAhead holds array PUTs to this; PUTs into
// hot, warm and cold allocate nothing ahead either.
func TestHostileAnnouncedBodyIntoGlacierIsNotAllocatedAhead(t *testing.T) {
	const announced = 256 << 20
	for _, c := range []struct {
		name, query string
		opts        *tiermem.Options
	}{
		{"named glacier", "?tier=glacier", nil},
		{"placed in glacier", "", &tiermem.Options{
			Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
			Cold: tiermem.TierOptions{Size: 4 << 20}, MigrateInterval: -1, KeepMemoryLimit: true}},
		{"named cold (control)", "?tier=cold", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, srv := newServer(t, c.opts, web.Config{MaxBodyBytes: 1 << 30})
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "PUT /v1/keys/k%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", c.query, announced)
			conn.Write(make([]byte, 1<<10))
			// The server gets a second to act on the head; a fixed server
			// allocates nothing, so this waits the whole second.
			var grown uint64
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var now runtime.MemStats
				runtime.ReadMemStats(&now)
				if grown = now.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
					break
				}
			}
			if grown > 64<<20 {
				t.Errorf("a PUT%s announcing %d MiB that sent 1 KiB made the server allocate %d MiB", c.query, announced>>20, grown>>20)
			}
		})
	}
}

// TestHostileChunkedPutIntoMemoryTierCostsTwiceItsSizeAtMost: a PUT of
// 32 MiB into ?tier=hot or ?tier=warm sent in chunks (no Content-Length:
// curl -T -, a generator body) is read into memory in blocks that are
// never copied as they grow, then stored as a value of known length: it
// allocates at most twice its size of Go memory for hot (the blocks, then
// the value), once for warm (the blocks: the value goes into the tier's
// own mapping), where reading it whole by doubling and storing a copy
// took 3.3 and 2.3 times. Sent with a Content-Length it costs its size
// once for hot, nothing for warm.
func TestHostileChunkedPutIntoMemoryTierCostsTwiceItsSizeAtMost(t *testing.T) {
	const n = 32 << 20
	_, srv := newServer(t, nil, web.Config{})
	block := randomBlock()
	put := func(query string, chunked bool) uint64 {
		req, err := http.NewRequest("PUT", keyURL(srv, "k")+query, &blockReader{block: block, n: n})
		if err != nil {
			t.Fatal(err)
		}
		if !chunked {
			req.ContentLength = n
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		runtime.ReadMemStats(&after)
		wantWritten(t, resp, body)
		return after.TotalAlloc - before.TotalAlloc
	}
	for _, tier := range []string{"hot", "warm"} {
		sized := put("?tier="+tier, false)
		chunked := put("?tier="+tier, true)
		if chunked > sized+n+8<<20 {
			t.Errorf("?tier=%s: a %d MiB PUT allocated %d MiB sent in chunks, over its size more than %d MiB with a Content-Length",
				tier, n>>20, chunked>>20, sized>>20)
		}
	}
}

// TestHostileChunkedPutIntoGlacierIsNotBoundByCold: with a 4 MiB cold
// tier and a glacier tier without a budget, an 8 MiB PUT sent in chunks,
// named for glacier or placed by the Manager, is stored in glacier (201),
// as the same PUT with a Content-Length is: its staging counts in
// glacier's budget, named or once it outgrew cold's. 413 is for a body
// over Config.MaxBodyBytes (100 MiB here) or a value larger than its tier.
func TestHostileChunkedPutIntoGlacierIsNotBoundByCold(t *testing.T) {
	opts := &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 4 << 20}, MigrateInterval: -1, KeepMemoryLimit: true}
	m, srv := newServer(t, opts, web.Config{MaxBodyBytes: 100 << 20})
	block := randomBlock()
	for i, query := range []string{"?tier=glacier", ""} {
		for _, chunked := range []bool{false, true} {
			key := fmt.Sprintf("k%d-%v", i, chunked)
			req, err := http.NewRequest("PUT", keyURL(srv, key)+query, &blockReader{block: block, n: 8 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if !chunked {
				req.ContentLength = 8 << 20
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("8 MiB PUT%s (chunked %v): %d %s, want 201", query, chunked, resp.StatusCode, body)
				continue
			}
			if tr, err := m.Tier(key); err != nil || tr != tiermem.Glacier {
				t.Errorf("8 MiB PUT%s (chunked %v): stored in %v (%v), want glacier", query, chunked, tr, err)
			}
		}
	}
}

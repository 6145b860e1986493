package web_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestGetWhileValuesChange GETs keys whose large values are PUT
// into hot and warm (through streams), moved and deleted meanwhile: every
// 200 reply is one whole value that was written, with the ETag of its
// bytes, and If-None-Match with that ETag is a 304 or a new value.
func TestGetWhileValuesChange(t *testing.T) {
	m, srv := newServer(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 16 << 20},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, MigrateInterval: -1}, web.Config{})
	var values [][]byte
	for i, n := range []int{64 << 10, 70 << 10, 300 << 10, 1 << 20, 1000} {
		v := make([]byte, n)
		rand.NewChaCha8([32]byte{byte(i)}).Read(v)
		values = append(values, v)
	}
	tagOf := func(b []byte) string {
		return `"` + hex.EncodeToString(binary.BigEndian.AppendUint64(nil, xxh3.Hash(b))) + `"`
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var stop atomic.Bool
	var gets atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for !stop.Load() {
				key := fmt.Sprint("k", rng.IntN(3))
				u := keyURL(srv, key)
				var req *http.Request
				switch g % 4 {
				case 0:
					v := values[rng.IntN(len(values))]
					tr := []string{"hot", "warm"}[rng.IntN(2)]
					req, _ = http.NewRequest(http.MethodPut, u+"?tier="+tr, bytes.NewReader(v))
				case 1:
					switch rng.IntN(3) {
					case 0:
						m.Move(key, tiermem.Tier(rng.IntN(3)))
					case 1:
						m.Delete(key)
					default:
						m.Migrate()
					}
					time.Sleep(200 * time.Microsecond)
					continue
				default:
					req, _ = http.NewRequest(http.MethodGet, u, nil)
				}
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					fail(err)
					return
				}
				if req.Method != http.MethodGet || resp.StatusCode == http.StatusNotFound {
					continue
				}
				gets.Add(1)
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("GET %s: %s", key, resp.Status))
					continue
				}
				known := false
				for _, v := range values {
					known = known || bytes.Equal(v, body)
				}
				if !known {
					fail(fmt.Errorf("GET %s: %d bytes that no PUT sent", key, len(body)))
				}
				if tag := resp.Header.Get("Etag"); tag != tagOf(body) {
					fail(fmt.Errorf("GET %s: ETag %s is not that of the %d bytes sent", key, tag, len(body)))
				}
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for gets.Load() < 400 && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

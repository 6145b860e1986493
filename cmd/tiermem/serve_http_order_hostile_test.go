package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestHostileSlowUploadHoldsUpNoRESPClient: serve puts HTTP reads and writes
// in the RESP server's order (web.Handler.SequenceWith), and web's doc
// says "a PUT's body is read before its turn, so a slow upload holds up no
// transaction". A small PUT naming a tier stores its value inside its
// turn, and Store waits up to 5 s there for the room that a slow upload's
// stream holds. An MSET that comes meanwhile waits for that turn; had the
// turn been the RESP server's shared lock, every other RESP client would
// wait behind the MSET (one stalled upload and one 60 KiB PUT froze the
// RESP server). It is the lock a RENAME takes: the others are served.
func TestHostileSlowUploadHoldsUpNoRESPClient(t *testing.T) {
	addr, httpAddr := serveInProcess(t, "--hot", "8MiB")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Set(ctx, "x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	streaming := func() int64 {
		resp, err := http.Get("http://" + httpAddr + "/v1/usage")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u struct {
			Tiers []struct {
				Tier           string `json:"tier"`
				StreamingBytes int64  `json:"streaming_bytes"`
			} `json:"tiers"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
		return u.Tiers[0].StreamingBytes
	}
	// A slow upload into hot: its room is held from its first byte.
	slow, err := net.Dial("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "PUT /v1/keys/slow?tier=hot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", 8<<20-32<<10)
	slow.Write(make([]byte, 1<<10))
	for deadline := time.Now().Add(5 * time.Second); streaming() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow upload holds no room in hot")
		}
	}
	// A small PUT into hot: it waits for room in its turn.
	go func() {
		req, _ := http.NewRequest(http.MethodPut, "http://"+httpAddr+"/v1/keys/small?tier=hot", bytes.NewReader(make([]byte, 60<<10)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	// A transaction of another client, then a plain GET of a third.
	go func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		c.MSet(ctx, "k1", "v1", "k2", "v2")
	}()
	time.Sleep(100 * time.Millisecond)
	reader := redis.NewClient(&redis.Options{Addr: addr})
	defer reader.Close()
	start := time.Now()
	if err := reader.Get(ctx, "x").Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a RESP GET took %v while an HTTP upload stalled", d.Round(time.Millisecond))
	}
}

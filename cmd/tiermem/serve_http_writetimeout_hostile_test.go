package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestHostileStalledDownloadLetsGoOfTheReplacedValue: issue 14 asks that
// slow clients cannot make the server hold unbounded memory, and serve's
// --write-timeout closes a RESP client that stops taking its replies. An
// HTTP client that sends GET for a large hot value and never reads the
// reply kept that value's memory forever (once the key was replaced, the
// old value was "held", counted in no budget, per stalled connection): the
// reply is now cut after --write-timeout and the value let go.
func TestHostileStalledDownloadLetsGoOfTheReplacedValue(t *testing.T) {
	_, httpAddr := serveInProcess(t, "--write-timeout", "1s")
	value := bytes.Repeat([]byte{1}, 32<<20)
	put := func() {
		req, _ := http.NewRequest(http.MethodPut, "http://"+httpAddr+"/v1/keys/big?tier=hot", bytes.NewReader(value))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT: %s", resp.Status)
		}
	}
	put()
	conn, err := net.Dial("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := conn.Write([]byte("GET /v1/keys/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the reply has begun, and stalls
	put()                              // replaced: the old value is held by the reply
	held := func() int64 {
		runtime.GC() // Held drops once the collector reclaims what no reply holds: serve runs in this process
		resp, err := http.Get("http://" + httpAddr + "/v1/usage")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u struct {
			Tiers []struct {
				Tier      string `json:"tier"`
				HeldBytes int64  `json:"held_bytes"`
			} `json:"tiers"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, tu := range u.Tiers {
			n += tu.HeldBytes
		}
		return n
	}
	t.Logf("held right after the replace: %d", held())
	time.Sleep(4 * time.Second)
	if n := held(); n >= int64(len(value)) {
		t.Errorf("4 s after the client stopped reading (--write-timeout 1s): %d bytes still held for it", n)
	}
}

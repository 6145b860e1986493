package server_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileEXECDoesNotWaitOutAnHTTPStreamItBlocks: an HTTP PUT streams a
// new value of key k into the cold tier, replacing k's old one; its
// room is reserved there before its first byte is read. A client's
// transaction COPYes another key in the cold tier meanwhile: the copy
// needs room that the PUT frees once it is stored (k's old value). The
// EXEC runs alone, and its COPY waits for the room streams hold; the
// PUT's body then comes whole. Had its write waited in line for its turn
// (the server's unheldWrites) inside Manager.StoreFrom, still holding its
// room, behind the EXEC, each would wait for the other until the room
// wait gave up (5 s, twice): every RESP client stalled that long, and the
// EXEC failed for want of room the PUT would have freed. The PUT tries
// for its turn for 200 ms, then stores out of the order, and the EXEC
// gets its room.
func TestHostileEXECDoesNotWaitOutAnHTTPStreamItBlocks(t *testing.T) {
	addr, m, finish := putStreamingCold(t, 7*mib, tiermem.None)
	if err := m.Store("a", noise(3*mib/2), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	c.do("MULTI")
	c.do("COPY", "a", "b")
	start := time.Now()
	c.send(encode("EXEC"))
	time.Sleep(300 * time.Millisecond) // the EXEC runs alone, its COPY waiting for room
	finish()
	got := string(c.reply())
	if took := time.Since(start); got != "*1\r\n:1\r\n" || took > 3*time.Second {
		t.Errorf("EXEC of a COPY, while an HTTP PUT replacing a cold value ends: %q after %v, want *1 :1 at once",
			got, took.Round(time.Millisecond))
	}
}

// TestHostileDurableMSETDoesNotWaitOutAnHTTPStreamItBlocks: the same with
// the most common of the commands that run alone: with
// tiermem-durability every-second, an MSET writes through to the cold
// log, and waits there for the room the HTTP PUT holds, which waits for
// the MSET. The MSET fails (OOM) after 5 s, every client stalled.
func TestHostileDurableMSETDoesNotWaitOutAnHTTPStreamItBlocks(t *testing.T) {
	addr, _, finish := putStreamingCold(t, 6*mib, tiermem.EverySecond)
	c := dial(t, addr)
	start := time.Now()
	c.send(encode("MSET", "x", string(noise(3*mib/2)), "y", "1"))
	time.Sleep(300 * time.Millisecond) // the MSET runs alone, waiting for room in the cold log
	finish()
	got := string(c.reply())
	if took := time.Since(start); got != "+OK\r\n" || took > 3*time.Second {
		t.Errorf("durable MSET, while an HTTP PUT replacing a cold value ends: %.300q after %v, want +OK at once",
			got, took.Round(time.Millisecond))
	}
}

const mib = 1 << 20

// putStreamingCold serves a Manager with a cold tier of cold bytes over RESP and
// HTTP, sequenced as `tiermem serve` does, stores a 2.5 MiB value k in
// the cold tier, and begins an HTTP PUT of a new 2.5 MiB value of k
// there, sending all of its body but the last byte: its room is held.
// finish sends the last byte and checks the PUT succeeded.
func putStreamingCold(t *testing.T, cold int64, d tiermem.Durability) (addr string, m *tiermem.Manager, finish func()) {
	t.Helper()
	opts := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 8 * mib}, Warm: tiermem.TierOptions{Size: 8 * mib},
		Cold: tiermem.TierOptions{Size: cold}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1,
	}
	addr, srv, m := startManager(t, t.TempDir(), opts, nil)
	if err := m.SetDurability(d); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.SequenceWith(srv.Sequencer())
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	if err := m.Store("k", noise(5*mib/2), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	const size = 5 * mib / 2
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPut, hs.URL+"/v1/keys/k?tier=cold", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	status := make(chan string, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- err.Error()
			return
		}
		resp.Body.Close()
		status <- resp.Status
	}()
	if _, err := pw.Write(noise(size - 1)); err != nil {
		t.Fatal(err)
	}
	for m.Usage()[tiermem.Cold].Streaming == 0 { // the PUT's room is held
		time.Sleep(time.Millisecond)
	}
	return addr, m, func() {
		t.Helper()
		if _, err := pw.Write([]byte("n")); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if st := <-status; st != "201 Created" && st != "204 No Content" && st != "200 OK" {
			t.Errorf("the PUT: %s", st)
		}
	}
}

// noise returns n bytes that do not compress.
func noise(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 3))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// goneWithin polls CLIENT LIST through other until no client named name is
// left, for up to wait, and reports whether it went.
func goneWithin(other *client, name string, wait time.Duration) bool {
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if !strings.Contains(string(other.do("CLIENT", "LIST")), "name="+name+" ") {
			return true
		}
	}
	return false
}

// TestHostileIdleTimeoutClosesAClientThatTakesNoReplies: under a 1 s idle
// timeout (and no WriteTimeout), a client pipelines GETs of a 1 MiB value
// and then neither reads a reply nor sends anything. It takes none of its
// replies, so it is idle: it is closed after the timeout, counted from its
// last command read or the last byte of its replies written, as Redis
// closes it (its lastinteraction moves only when bytes are written).
// Checked below the output limit (the connection reads on, its sender
// stuck on the full socket) and over it (the connection waits for its
// queue), and against a real redis-server.
func TestHostileIdleTimeoutClosesAClientThatTakesNoReplies(t *testing.T) {
	value := largeValue(1<<20, 3)
	var req []byte
	for range 48 {
		req = append(req, encode("GET", "v")...)
	}
	stall := func(t *testing.T, addr string) {
		t.Helper()
		c := dial(t, addr)
		if got := string(c.do("CLIENT", "SETNAME", "stuck")); got != "+OK\r\n" {
			t.Fatalf("CLIENT SETNAME: %q", got)
		}
		c.send(req) // 48 MiB of replies, never read
		other := dial(t, addr)
		if !goneWithin(other, "stuck", 4*time.Second) {
			t.Errorf("a client that took none of its replies and sent nothing for 4 s is still connected under a 1 s idle timeout")
		}
	}
	t.Run("redis", func(t *testing.T) {
		addr := startRedis(t)
		c := dial(t, addr)
		if got := string(c.do("SET", "v", string(value))); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		if got := string(c.do("CONFIG", "SET", "timeout", "1")); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET timeout: %q", got)
		}
		stall(t, addr)
	})
	for _, tc := range []struct {
		name  string
		limit int64
	}{{"under the output limit", 0}, {"over the output limit", 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _, m := startTiermem(t, &server.Options{IdleTimeout: time.Second, MaxOutput: tc.limit})
			if err := m.Store("v", value, tiermem.InTier(tiermem.Hot)); err != nil {
				t.Fatal(err)
			}
			stall(t, addr)
		})
	}
}

// TestHostileRaisedOutputLimitLetsAWaitingClientRead: a client's pipeline
// outgrows a 1 MiB output limit, so its connection stops reading from it.
// CONFIG SET client-output-buffer-limit "normal 0 0 0" then lifts the
// limit: the connection reads on at once and queues the rest, so the
// client's write of its pipeline completes before it reads any reply.
func TestHostileRaisedOutputLimitLetsAWaitingClientRead(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{MaxOutput: 1 << 20})
	req, want := echoPipeline(1024, 16<<10) // 16 MiB each way
	c := dial(t, addr)
	wrote := make(chan error, 1)
	go func() {
		c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.nc.Write(req)
		wrote <- err
	}()
	time.Sleep(500 * time.Millisecond) // the queue passes the limit; the server stops reading
	other := dial(t, addr)
	if got := string(other.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET client-output-buffer-limit: %q", got)
	}
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("writing the pipeline: %v", err)
		}
		wrote <- nil // for the check after the replies are read
	case <-time.After(5 * time.Second):
		t.Errorf("the output limit was lifted 5 s ago, yet the server still reads nothing of a client waiting on its replies")
	}
	got := make([]byte, len(want))
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("reading the replies: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the replies differ from what was sent")
	}
	if err := <-wrote; err != nil {
		t.Fatalf("writing the pipeline: %v", err)
	}
}

// TestHostileHalfClosedDeepPipelineGetsEveryReply: a client writes a deep
// pipeline, shuts its write side, and only then reads. Its commands were
// all read before the EOF, so it gets every reply, then EOF.
func TestHostileHalfClosedDeepPipelineGetsEveryReply(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{MaxOutput: 1 << 20})
	req, want := echoPipeline(2048, 16<<10)
	c := dial(t, addr)
	go func() {
		c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.nc.Write(req); err == nil {
			c.nc.(*net.TCPConn).CloseWrite()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	got := make([]byte, len(want))
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("reading the replies of a half-closed pipeline: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the replies differ from what was sent")
	}
	if b, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after the last reply: %q, %v; want EOF", b, err)
	}
}

// TestHostileStreamedSetOrderedAmongQueuedReplies: a client writes, before
// reading anything, GETs of a 1 MiB hot value (replies that queue), a
// plain SET of 4 MiB (streamed from the connection), a GET of that key,
// and a GET of a 2 MiB warm value (sent from a ValueReader), then reads:
// every reply comes in order with the right bytes.
func TestHostileStreamedSetOrderedAmongQueuedReplies(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: 1 << 20})
	hot, warm, big := largeValue(1<<20, 1), largeValue(2<<20, 2), largeValue(4<<20, 3)
	if err := m.Store("h", hot, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("w", warm, tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	bulk := func(v []byte) []byte { return fmt.Appendf(nil, "$%d\r\n%s\r\n", len(v), v) }
	var req, want []byte
	for range 16 {
		req = append(req, encode("GET", "h")...)
		want = append(want, bulk(hot)...)
	}
	req = append(req, encode("SET", "k", string(big))...)
	want = append(want, "+OK\r\n"...)
	req = append(req, encode("GET", "k")...)
	want = append(want, bulk(big)...)
	for range 8 {
		req = append(req, encode("GET", "w")...)
		want = append(want, bulk(warm)...)
		req = append(req, encode("ECHO", "x")...)
		want = append(want, "$1\r\nx\r\n"...)
	}
	c := dial(t, addr)
	wrote := make(chan error, 1)
	go func() {
		c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.nc.Write(req)
		wrote <- err
	}()
	got := make([]byte, len(want))
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("reading the replies: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("the replies differ from byte %d of %d", i, len(want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestHostileKilledClientClosesItsQueuedReaders: a client pipelines GETs
// of a 2 MiB warm value (each sent from a ValueReader on the value's
// mapping) and reads none; the value is then replaced, so the readers
// queued for the client hold the old mapping (Usage's Held). CLIENT KILL
// closes the client: the readers it queued must be closed, and Held go
// back to 0.
func TestHostileKilledClientClosesItsQueuedReaders(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	if err := m.Store("w", largeValue(2<<20, 5), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if got := string(c.do("CLIENT", "SETNAME", "hog")); got != "+OK\r\n" {
		t.Fatalf("CLIENT SETNAME: %q", got)
	}
	var req []byte
	for range 100 {
		req = append(req, encode("GET", "w")...)
	}
	c.send(req)
	other := dial(t, addr)
	for end := time.Now().Add(5 * time.Second); omem(t, other, "hog") == 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Store("w", largeValue(2<<20, 6), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	if m.Usage()[tiermem.Warm].Held == 0 {
		t.Fatal("no reader held the replaced value: the test did not queue readers")
	}
	if got := string(other.do("CLIENT", "KILL", "SKIPME", "yes")); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for m.Usage()[tiermem.Warm].Held != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if h := m.Usage()[tiermem.Warm].Held; h != 0 {
		t.Errorf("5 s after its client was killed, its queued readers still hold %d bytes", h)
	}
}

// TestHostileCloseWhileQueuedLeavesNothing: clients over TCP pipeline GETs
// of a 2 MiB warm value (ValueReaders) and of a 1 MiB hot one and read
// none, while another changes the output limit and lists the clients; the
// server is then closed with every queue full. Close returns, the race
// detector finds nothing, the goroutines the server started end and the
// readers queued are closed (warm's Held back to 0 once the key is gone).
func TestHostileCloseWhileQueuedLeavesNothing(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before := runtime.NumGoroutine() // the Manager's own included
	srv := server.New(m, &server.Options{MaxOutput: 4 << 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := m.Store("w", largeValue(2<<20, 1), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("h", largeValue(1<<20, 2), tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	var req []byte
	for range 40 {
		req = append(req, encode("GET", "w")...)
		req = append(req, encode("GET", "h")...)
		req = append(req, encode("ECHO", "x")...)
	}
	var conns []net.Conn
	for range 6 {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(req); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
	}
	admin, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for i := range 10 {
		limit := []string{"normal 1mb 0 0", "normal 0 0 0", "normal 8mb 0 0"}[i%3]
		admin.Write(encode("CONFIG", "SET", "client-output-buffer-limit", limit))
		admin.Write(encode("CLIENT", "LIST"))
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Store("w", largeValue(2<<20, 3), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return in 5 s with replies queued")
	}
	<-served
	for _, nc := range conns {
		nc.Close()
	}
	admin.Close()
	deadline := time.Now().Add(5 * time.Second)
	for (runtime.NumGoroutine() > before || m.Usage()[tiermem.Warm].Held != 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines 5 s after Close, %d before the server:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	if h := m.Usage()[tiermem.Warm].Held; h != 0 {
		t.Errorf("5 s after Close, readers queued for clients still hold %d bytes", h)
	}
}

// TestHostileQueueMemoryBoundedByMaxOutput: the doc says the queue of a
// client's replies is bounded by MaxOutput, "counting every byte it
// holds", so that "a client that never reads costs at most that". A client
// that fills its socket and then sends small commands one at a time
// without reading (a fire-and-forget client: EXISTS, 4-byte replies) gets
// one queued batch per read, each a batch, its pieces and a buffer: well
// over 100 bytes of heap per 4 bytes of reply. What the queue counts
// against the limit (and CLIENT LIST's omem shows) is the memory it keeps,
// bookkeeping included: the heap grows no more than a few times that.
func TestHostileQueueMemoryBoundedByMaxOutput(t *testing.T) {
	const limit = 1 << 20
	addr, _, _ := startTiermem(t, &server.Options{MaxOutput: limit})
	c := dial(t, addr)
	if got := string(c.do("CLIENT", "SETNAME", "forget")); got != "+OK\r\n" {
		t.Fatalf("CLIENT SETNAME: %q", got)
	}
	other := dial(t, addr)
	fill := encode("ECHO", string(make([]byte, 256<<10)))
	for end := time.Now().Add(5 * time.Second); omem(t, other, "forget") == 0 && time.Now().Before(end); {
		c.send(fill) // until the socket's buffers are full and the sender waits
		time.Sleep(30 * time.Millisecond)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base, queued := heap(), omem(t, other, "forget")
	cmd := encode("EXISTS", "x")
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); {
		c.send(cmd)
		time.Sleep(20 * time.Microsecond)
	}
	grew, counted := int64(heap())-int64(base), omem(t, other, "forget")-queued
	t.Logf("omem grew by %d bytes, the heap by %d", counted, grew)
	if counted <= 0 {
		t.Fatal("nothing was queued for the client: the test did not fill its socket")
	}
	if grew > 4*counted+256<<10 {
		t.Errorf("the queue of a client that reads nothing holds %d bytes of heap for the %d bytes it counts against MaxOutput (%.0fx): "+
			"under the 1 GiB default it could hold %.0f GiB", grew, counted, float64(grew)/float64(counted), float64(grew)/float64(counted))
	}
}

package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// lockedLog is a log destination that the server's goroutines write at
// once.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// repeatedKey returns cmd followed by key n times, as one frame.
func repeatedKey(cmd, key string, n int) []byte {
	args := []string{cmd}
	for range n {
		args = append(args, key)
	}
	return encode(args...)
}

// closedWithoutReply reads from c until the server closes it and reports
// whether it did so before sending a byte.
func closedWithoutReply(t *testing.T, c *client) bool {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c.br)
	if err != nil {
		t.Fatalf("waiting for the server to close the connection: %v after %d bytes", err, n)
	}
	return n == 0
}

// bigReply reads one reply from c, however long, and fails the test
// naming only its length.
func bigReply(t *testing.T, c *client) []byte {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var buf bytes.Buffer
	if err := readReply(c.br, &buf); err != nil {
		t.Fatalf("reading a reply: %v after %d bytes", err, buf.Len())
	}
	return buf.Bytes()
}

// TestRespHostileMGetOfOneValueManyTimesIsBounded: one MGET naming a
// 512 KiB warm value 1,000 times asks for 512 MiB of copies. With a
// 32 MiB output limit the server closes the client, logs why, keeps its
// heap bounded, and serves the next client.
func TestRespHostileMGetOfOneValueManyTimesIsBounded(t *testing.T) {
	var logs lockedLog
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: 32 << 20, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := m.Store("v", largeValue(512<<10, 3), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	before := hostileHeap()
	c.send(repeatedKey("MGET", "v", 1000))
	if !closedWithoutReply(t, c) {
		t.Error("an MGET of 512 MiB of copies over a 32 MiB output limit got a reply")
	}
	if grew := hostileHeap() - before; grew > 96<<20 {
		t.Errorf("the heap grew by %d MiB for a reply cut at 32 MiB", grew>>20)
	}
	if !strings.Contains(logs.String(), "output limit") {
		t.Errorf("no warning names the output limit; the log:\n%s", logs.String())
	}
	if got := string(dial(t, addr).do("PING")); got != "+PONG\r\n" {
		t.Errorf("PING from another client: %q", got)
	}
}

// TestRespHostileMGetOfSharedValuesIsNotCut: values sent from where they
// lie do not count against the output limit. An MGET naming a 512 KiB hot
// value 64 times (32 MiB of reply) under an 8 MiB limit is answered whole,
// as is an MGET of small warm values that stays under it.
func TestRespHostileMGetOfSharedValuesIsNotCut(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: 8 << 20, Logger: slog.New(slog.DiscardHandler)})
	value := largeValue(512<<10, 4)
	if err := m.Store("hot", value, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("warm", []byte("small"), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	c.send(repeatedKey("MGET", "hot", 64))
	got := bigReply(t, c)
	one := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value)
	if want := append([]byte("*64\r\n"), bytes.Repeat(one, 64)...); !bytes.Equal(got, want) {
		t.Fatalf("MGET of a hot value 64 times: %d bytes, want %d", len(got), len(want))
	}
	c.send(repeatedKey("MGET", "warm", 1000))
	if got := c.reply(); !bytes.Equal(got, append([]byte("*1000\r\n"), bytes.Repeat([]byte("$5\r\nsmall\r\n"), 1000)...)) {
		t.Errorf("MGET of a small warm value 1,000 times: %.80q", got)
	}
}

// TestRespHostileExecOverTheOutputLimitRunsWhole: a transaction whose
// replies pass the output limit closes its client, and every command of
// it still ran: the write after the large reads is there.
func TestRespHostileExecOverTheOutputLimitRunsWhole(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: 8 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err := m.Store("v", largeValue(512<<10, 5), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	var tx []byte
	tx = append(tx, encode("MULTI")...)
	tx = append(tx, encode("SET", "before", "1")...)
	for range 64 {
		tx = append(tx, encode("GET", "v")...)
	}
	tx = append(tx, encode("SET", "after", "2")...)
	tx = append(tx, encode("EXEC")...)
	c.send(tx)
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	sent, err := io.Copy(io.Discard, c.br)
	if err != nil {
		t.Fatal(err)
	}
	if sent > 16<<10 { // the QUEUED replies, not the EXEC's
		t.Errorf("the client got %d bytes of a transaction's 32 MiB of replies over an 8 MiB limit", sent)
	}
	other := dial(t, addr)
	for key, want := range map[string]string{"before": "1", "after": "2"} {
		if got := string(other.do("GET", key)); got != fmt.Sprintf("$1\r\n%s\r\n", want) {
			t.Errorf("GET %s after the cut EXEC: %q, want %q", key, got, want)
		}
	}
}

// TestRespConfigClientOutputBufferLimit: CONFIG GET and SET of the limit
// in Redis's form; what tiermem lacks (soft limits, other classes) is
// refused by name, and the limit set applies to the next command.
func TestRespConfigClientOutputBufferLimit(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{Logger: slog.New(slog.DiscardHandler)})
	c := dial(t, addr)
	if got := string(c.do("CONFIG", "GET", "client-output-buffer-limit")); got != "*2\r\n$26\r\nclient-output-buffer-limit\r\n$21\r\nnormal 1073741824 0 0\r\n" {
		t.Errorf("CONFIG GET of the default: %q", got)
	}
	for _, bad := range []string{"pubsub 32mb 8mb 60", "normal 1mb 512kb 60", "normal lots 0 0", "normal 1mb 0", "normal 1000 0 0"} {
		if got := string(c.do("CONFIG", "SET", "client-output-buffer-limit", bad)); !strings.HasPrefix(got, "-ERR CONFIG SET failed") {
			t.Errorf("CONFIG SET client-output-buffer-limit %q: %q", bad, got)
		}
	}
	if got := string(c.do("CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0")); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	if got := string(c.do("CONFIG", "GET", "client-output-buffer-limit")); !strings.Contains(got, "normal 4194304 0 0") {
		t.Errorf("CONFIG GET after the SET: %q", got)
	}
	if err := m.Store("v", largeValue(512<<10, 6), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c.send(repeatedKey("MGET", "v", 16))
	if !closedWithoutReply(t, c) {
		t.Error("an 8 MiB MGET passed the 4 MiB limit CONFIG SET")
	}
	c = dial(t, addr)
	if got := string(c.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET of no limit: %q", got)
	}
	c.send(repeatedKey("MGET", "v", 16))
	if got := bigReply(t, c); len(got) < 16*512<<10 {
		t.Errorf("MGET with no limit: %d bytes", len(got))
	}
}

// slowRead reads one bulk reply of n bytes from nc, piece bytes every
// pause, and returns the error that ended it early, if any.
func slowRead(nc net.Conn, n, piece int, pause time.Duration) error {
	br := bufio.NewReaderSize(nc, piece)
	nc.SetReadDeadline(time.Now().Add(time.Minute))
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "$"+strconv.Itoa(n)+"\r\n" {
		return fmt.Errorf("reply header %q", line)
	}
	buf := make([]byte, piece)
	for left := n + 2; left > 0; {
		time.Sleep(pause)
		k, err := io.ReadFull(br, buf[:min(piece, left)])
		left -= k
		if err != nil {
			return fmt.Errorf("%w with %d bytes left", err, left)
		}
	}
	return nil
}

// TestRespSlowSteadyReaderIsServed: a client that reads a 12 MiB reply
// at about 4 MB/s takes three seconds, three times the 1 s WriteTimeout,
// and gets it whole from the hot tier (writev) and from warm's own mapping
// (a ValueReader); a client that stops reading a 32 MiB reply (more than
// loopback's socket buffers hold) is still cut.
func TestRespSlowSteadyReaderIsServed(t *testing.T) {
	opts := testOptions()
	opts.Hot.Size, opts.Warm.Size = 64<<20, 64<<20
	addr, _, m := startManager(t, t.TempDir(), opts, &server.Options{WriteTimeout: time.Second})
	value := make([]byte, 12<<20)
	rand.Read(value)
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		key := tier.String()
		if err := m.Store(key, value, tiermem.InTier(tier)); err != nil {
			t.Fatal(err)
		}
		t.Run(key, func(t *testing.T) {
			c := dial(t, addr)
			c.send(encode("GET", key))
			if err := slowRead(c.nc, len(value), 128<<10, 30*time.Millisecond); err != nil {
				t.Errorf("a client reading a %s value's reply at 4 MB/s: %v", key, err)
			}
		})
	}
	huge := make([]byte, 32<<20)
	if err := m.Store("huge", huge, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	c.send(encode("GET", "huge"))
	time.Sleep(4 * time.Second)
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.Copy(io.Discard, c.br)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatal(err)
	}
	if got >= int64(len(huge)) {
		t.Errorf("a client that read nothing for 4 s with a 1 s WriteTimeout got its whole 32 MiB reply")
	}
}

// TestRespHostileOneLargeCopiedValueIsServed: the limit bounds many values
// in one reply, not one: a GET of a 4 MiB compressible cold value (read
// into memory whole, decompressed) under a 1 MiB limit is answered, while
// an MGET naming it three times is cut.
func TestRespHostileOneLargeCopiedValueIsServed(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	value := bytes.Repeat([]byte("compressible "), 4<<20/13)
	if err := m.Store("v", value, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	c.send(encode("GET", "v"))
	if got := bigReply(t, c); !bytes.Equal(got, fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value)) {
		t.Fatalf("GET of one 4 MiB copied value under a 1 MiB limit: %d bytes", len(got))
	}
	c.send(repeatedKey("MGET", "v", 3))
	if !closedWithoutReply(t, c) {
		t.Error("an MGET of three copies of a 4 MiB value under a 1 MiB limit was answered")
	}
}

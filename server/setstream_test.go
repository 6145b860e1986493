package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/server"
)

// largeValue returns n random bytes, seeded by seed.
func largeValue(n int, seed byte) []byte {
	v := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(v)
	return v
}

// setFrame returns SET key value as a multibulk frame.
func setFrame(key string, value []byte) []byte {
	b := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, len(value))
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// bulk returns value as a bulk reply.
func bulk(value []byte) []byte { return fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value) }

// TestSetOfALargeValueInPieces sends a pipeline with a large plain SET in
// the middle, cut into pieces that arrive apart, at places that split the
// value, its CRLF and the commands around it: every reply comes in order,
// and the value read back is the one sent, in every tier it can go to.
func TestSetOfALargeValueInPieces(t *testing.T) {
	value := largeValue(3<<20+5, 1)
	pipeline := append(encode("PING"), setFrame("big", value)...)
	pipeline = append(pipeline, encode("GET", "big")...)
	pipeline = append(pipeline, encode("SET", "small", "v")...)
	pipeline = append(pipeline, encode("STRLEN", "big")...)
	head := len(encode("PING")) + len(setFrame("big", nil)) - 2 // where the value starts
	end := head + len(value)                                    // where its CRLF starts
	cuts := map[string][]int{
		"whole":                    nil,
		"after the length":         {head},
		"inside the value":         {head + 10, head + 1<<20, end - 1},
		"between CR and LF":        {end + 1},
		"before the CRLF":          {end},
		"after the CRLF":           {end + 2},
		"inside the next GET":      {end + 5},
		"byte by byte at the ends": {head - 1, head, head + 1, end - 1, end, end + 1, end + 2, end + 3},
	}
	want := "+PONG\r\n+OK\r\n" + string(bulk(value)) + "+OK\r\n" + fmt.Sprintf(":%d\r\n", len(value))
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		addr, _, m := startManager(t, t.TempDir(), optionsFor(tier), nil)
		for name, at := range cuts {
			c := dial(t, addr)
			from := 0
			for _, to := range append(at, len(pipeline)) {
				c.send(pipeline[from:to])
				from = to
				time.Sleep(2 * time.Millisecond) // the server reads each piece on its own
			}
			var got bytes.Buffer
			for range 5 {
				got.Write(c.reply())
			}
			if got.String() != want {
				t.Errorf("%v, cut %s: the replies differ from the pipeline's (%d bytes, want %d): %.60q", tier, name, got.Len(), len(want), got.Bytes())
			}
			if in, err := m.Tier("big"); err != nil || in != tier {
				t.Errorf("%v, cut %s: the value is in %v (%v)", tier, name, in, err)
			}
		}
	}
}

// TestSetOfALargeValueCutShort: a client that leaves in the middle of a
// large SET's value, or before the CRLF that ends it, stores nothing: the
// key keeps its value, and the server goes on serving.
func TestSetOfALargeValueCutShort(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	old := []byte("the old value")
	if err := m.Store("big", old); err != nil {
		t.Fatal(err)
	}
	frame := setFrame("big", largeValue(2<<20, 2))
	head := len(setFrame("big", nil)) - 2
	for _, cut := range []int{head, head + 1, head + 1<<20, len(frame) - 3, len(frame) - 2, len(frame) - 1} {
		c := dial(t, addr)
		c.send(frame[:cut])
		time.Sleep(5 * time.Millisecond)
		c.nc.Close()
		d := dial(t, addr)
		if got := d.do("GET", "big"); !bytes.Equal(got, bulk(old)) {
			t.Fatalf("a SET cut after %d of its %d bytes: GET replies %d bytes (%.40q), want the old value", cut, len(frame), len(got), got)
		}
	}
}

// TestSetOfALargeValueRefused: a large SET that no tier can hold gets an
// error reply naming why, the value's bytes are read past, and the
// connection serves the pipeline's next command.
func TestSetOfALargeValueRefused(t *testing.T) {
	o := testOptions()
	o.Hot.Size, o.Warm.Size, o.Cold.Size = 1<<20, 1<<20, 1<<20
	addr, _, m := startManager(t, t.TempDir(), o, nil)
	c := dial(t, addr)
	value := largeValue(3<<20, 3)
	c.send(append(setFrame("big", value), encode("PING")...))
	if got := string(c.reply()); !strings.HasPrefix(got, "-OOM") || !strings.Contains(got, "too large") {
		t.Errorf("a SET of %d bytes into 3 MiB of tiers replied %q, want an error saying it is too large", len(value), got)
	}
	if got := string(c.reply()); got != "+PONG\r\n" {
		t.Errorf("the PING after it: %q", got)
	}
	if _, err := m.Retrieve("big"); err == nil {
		t.Error("the refused value was stored")
	}
}

// TestSlowSetOfALargeValueHoldsUpNoOne: while a client is half way
// through a large SET, commands that run alone (MSET, EXEC) on other
// connections are served; the SET then completes.
func TestSlowSetOfALargeValueHoldsUpNoOne(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	value := largeValue(2<<20, 4)
	frame := setFrame("big", value)
	a := dial(t, addr)
	a.send(frame[:len(frame)/2])
	b := dial(t, addr)
	for _, cmd := range [][]string{{"MSET", "x", "1", "y", "2"}, {"MULTI"}, {"INCR", "x"}, {"EXEC"}, {"GET", "big"}} {
		b.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		b.do(cmd...)
	}
	a.send(frame[len(frame)/2:])
	if got := string(a.reply()); got != "+OK\r\n" {
		t.Fatalf("the slow SET replied %q", got)
	}
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("the slow SET's value: %d bytes, %v", len(got), err)
	}
}

// TestSetOfALargeValueInATransactionOrBeforeAuth: a large SET queued by
// MULTI, or sent by a client that has to AUTH first, takes the path of any
// command: queued and run by EXEC; refused before AUTH.
func TestSetOfALargeValueInATransactionOrBeforeAuth(t *testing.T) {
	addr, _, m := startTiermem(t, &server.Options{RequirePass: "secret"})
	value := largeValue(2<<20, 5)
	c := dial(t, addr)
	c.nc.Write(setFrame("big", value)) // the server closes the connection at the length
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, _ := c.br.ReadString('\n'); got != "-ERR Protocol error: unauthenticated bulk length\r\n" {
		t.Fatalf("a large SET before AUTH replied %q", got)
	}
	c = dial(t, addr)
	c.do("AUTH", "secret")
	c.do("MULTI")
	c.send(setFrame("big", value))
	if got := string(c.reply()); got != "+QUEUED\r\n" {
		t.Fatalf("a large SET in MULTI replied %q", got)
	}
	if got := string(c.do("EXEC")); got != "*1\r\n+OK\r\n" {
		t.Fatalf("EXEC replied %q", got)
	}
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("the value EXEC stored: %d bytes, %v", len(got), err)
	}
}

// TestShutdownDuringASetOfALargeValue: a graceful shutdown does not wait
// for a client that is half way through a large SET; the value it had not
// finished sending is not stored, and nothing is replied.
func TestShutdownDuringASetOfALargeValue(t *testing.T) {
	_, srv, m := startTiermem(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	c := dial(t, ln.Addr().String())
	c.do("PING")
	frame := setFrame("big", largeValue(2<<20, 6))
	c.send(frame[:len(frame)/2])
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown during a slow SET: %v", err)
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(c.br); len(b) != 0 {
		t.Errorf("the cut SET replied %q", b)
	}
	if _, err := m.Retrieve("big"); err == nil {
		t.Error("a value the client had not finished sending was stored")
	}
}

// TestLargeSetsWhileOthersReadAndTheServerCloses: clients SET large values
// under a few keys, others GET them, one in three SETs is cut short, and
// the server closes in the middle: every GET reply read whole is a value
// some SET sent whole, every SET acknowledged before the Close is the
// key's value or a later one, and nothing panics.
func TestLargeSetsWhileOthersReadAndTheServerCloses(t *testing.T) {
	addr, srv, m := startTiermem(t, nil)
	values := make([][]byte, 4)
	for i := range values {
		values[i] = largeValue(1<<20+i*4096, byte(10+i))
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					return // closed
				}
				nc.SetDeadline(time.Now().Add(time.Minute))
				frame := setFrame(fmt.Sprint("k", i%2), values[(w+i)%len(values)])
				if (w+i)%3 == 0 {
					frame = frame[:len(frame)-1-i%1000]
				}
				_, err = nc.Write(frame)
				if err == nil && (w+i)%3 != 0 {
					var got bytes.Buffer
					if err := readReply(bufio.NewReader(nc), &got); err == nil && got.String() != "+OK\r\n" && !strings.HasPrefix(got.String(), "-") {
						t.Errorf("a large SET replied %q", got.Bytes())
					}
				}
				nc.Close()
				if err != nil {
					return
				}
			}
		})
	}
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if err := getWholeOrHangUp(addr, fmt.Sprint("k", i%2), values, false); err != nil {
					if !isClosedErr(err) {
						errs <- err
					}
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, key := range []string{"k0", "k1"} {
		got, err := m.Retrieve(key)
		if err != nil {
			continue // no SET of it finished
		}
		found := false
		for _, v := range values {
			found = found || bytes.Equal(got, v)
		}
		if !found {
			t.Errorf("%s holds %d bytes that no SET sent", key, len(got))
		}
	}
}

// isClosedErr reports whether err comes from a connection the server
// closed or refused.
func isClosedErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "reset") || strings.Contains(s, "refused") || strings.Contains(s, "broken pipe")
}

// TestSetOfALargeValueOnAFullDisk: a large SET streamed into a cold tier on
// a full disk (a real 4 MiB tmpfs) gets an error reply; the value is read
// past, the next pipelined command is answered, the key keeps its old
// value, and once there is room the same SET succeeds.
func TestSetOfALargeValueOnAFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	o := optionsFor(tiermem.Cold)
	o.Cold.Size = 64 << 20 // the budget would hold it: the disk does not
	addr, _, m := startManager(t, mnt, o, nil)
	old := []byte("the old value")
	if err := m.Store("big", old, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	value := largeValue(6<<20, 8)
	c.send(append(setFrame("big", value), encode("PING")...))
	if got := string(c.reply()); !strings.HasPrefix(got, "-") {
		t.Fatalf("a 6 MiB SET onto a 4 MiB disk replied %q, want an error", got)
	}
	if got := string(c.reply()); got != "+PONG\r\n" {
		t.Fatalf("the PING after it: %q", got)
	}
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("after the refused SET the key holds %d bytes (%v), want the old value", len(got), err)
	}
	if n := m.Usage()[tiermem.Cold].Streaming; n != 0 {
		t.Errorf("the SET the full disk refused still holds %d bytes of cold's room", n)
	}
	tmpfs.Grow(t, mnt, "64m")
	c.send(setFrame("big", value))
	if got := string(c.reply()); got != "+OK\r\n" {
		t.Fatalf("the SET once there is room: %q", got)
	}
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("the value stored once there is room: %d bytes, %v", len(got), err)
	}
}

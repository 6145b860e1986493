package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// echoPipeline returns n ECHO commands of size bytes each, every argument
// different, and the replies they get.
func echoPipeline(n, size int) (req, want []byte) {
	for i := range n {
		arg := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(arg, strconv.Itoa(i))
		req = append(req, encode("ECHO", string(arg))...)
		want = fmt.Appendf(want, "$%d\r\n%s\r\n", size, arg)
	}
	return req, want
}

// writeThenRead writes req whole, then reads len(want) bytes, and checks
// them: what a client library's pipeline does.
func writeThenRead(t *testing.T, nc net.Conn, req, want []byte) {
	t.Helper()
	nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(req); err != nil {
		t.Fatalf("writing a %d MiB pipeline before reading any reply: %v", len(req)>>20, err)
	}
	got := make([]byte, len(want))
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(nc, got); err != nil {
		t.Fatalf("reading the pipeline's replies: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the pipeline's replies differ from what was sent")
	}
}

// TestRespHostilePipelineWrittenWholeBeforeReading: a client library's
// pipeline writes every command before it reads a reply. 4,000 ECHOs of
// 16 KiB are 64 MiB each way, far more than the sockets' buffers hold: the
// server must read on while its replies wait, over TCP and over TLS (where
// the connection's goroutine cannot try the socket and every reply goes
// through the sender).
func TestRespHostilePipelineWrittenWholeBeforeReading(t *testing.T) {
	req, want := echoPipeline(4000, 16<<10)
	t.Run("tcp", func(t *testing.T) {
		addr, _, _ := startTiermem(t, nil)
		writeThenRead(t, dial(t, addr).nc, req, want)
	})
	t.Run("tls", func(t *testing.T) {
		srvConf, cliConf := hostileTLSConfig(t)
		m, err := tiermem.Open(t.TempDir(), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		srv := server.New(m, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(tls.NewListener(ln, srvConf))
		t.Cleanup(func() { srv.Close(); m.Close() })
		nc, err := tls.Dial("tcp", ln.Addr().String(), cliConf)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		writeThenRead(t, nc, req, want)
	})
}

// omem returns the omem field of the CLIENT LIST line of the client
// named name.
func omem(t *testing.T, c *client, name string) int64 {
	t.Helper()
	list := c.do("CLIENT", "LIST")
	m := regexp.MustCompile(`name=` + name + ` .* omem=(\d+) `).FindSubmatch(list)
	if m == nil {
		t.Fatalf("no client named %s in CLIENT LIST:\n%s", name, list)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// TestRespHostilePipelineOverTheOutputLimitWaitsForItsClient: under a
// 2 MiB output limit, a client pipelines 2,000 GETs of a 64 KiB warm value
// (125 MiB of replies) and reads none for a while. The server queues about
// the limit for it (CLIENT LIST's omem says so), stops reading from it,
// serves the others meanwhile, and once the client reads, sends every
// reply, right.
func TestRespHostilePipelineOverTheOutputLimitWaitsForItsClient(t *testing.T) {
	const limit = 2 << 20
	addr, _, m := startTiermem(t, &server.Options{MaxOutput: limit})
	value := largeValue(64<<10, 7)
	if err := m.Store("v", value, tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if got := string(c.do("CLIENT", "SETNAME", "piper")); got != "+OK\r\n" {
		t.Fatalf("CLIENT SETNAME: %q", got)
	}
	const n = 2000
	var req []byte
	for range n {
		req = append(req, encode("GET", "v")...)
	}
	wrote := make(chan error, 1)
	go func() {
		c.nc.SetWriteDeadline(time.Now().Add(time.Minute))
		_, err := c.nc.Write(req)
		wrote <- err
	}()

	other := dial(t, addr)
	most := int64(0)
	for range 20 {
		time.Sleep(50 * time.Millisecond)
		most = max(most, omem(t, other, "piper"))
		if got := string(other.do("PING")); got != "+PONG\r\n" {
			t.Fatalf("another client's PING while one waits: %q", got)
		}
	}
	t.Logf("queued for a client that does not read, 2 MiB limit: at most %d KiB", most>>10)
	if most == 0 || most > limit+2*int64(len(value)) {
		t.Errorf("CLIENT LIST's omem for a pipeline waiting on its client peaked at %d bytes, want more than 0 and about the 2 MiB limit", most)
	}

	one := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(value), value)
	br := bufio.NewReaderSize(c.nc, 1<<20)
	buf := make([]byte, len(one))
	c.nc.SetReadDeadline(time.Now().Add(time.Minute))
	for i := range n {
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if !bytes.Equal(buf, one) {
			t.Fatalf("reply %d differs from the value", i)
		}
	}
	if err := <-wrote; err != nil {
		t.Fatalf("writing the pipeline: %v", err)
	}
	if got := omem(t, other, "piper"); got != 0 {
		t.Errorf("omem after every reply was read: %d", got)
	}
}

// TestRespHostileIdleTimeoutSparesAClientTakingItsReplies: with a 1 s idle
// timeout, a client that sent its whole pipeline and then reads its 16 MiB
// of replies over about three seconds is not idle (Redis counts a write to
// the client too): it gets every reply, and its connection stays open for
// its next command.
func TestRespHostileIdleTimeoutSparesAClientTakingItsReplies(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{IdleTimeout: time.Second})
	req, want := echoPipeline(256, 64<<10)
	c := dial(t, addr)
	c.send(req)
	got := make([]byte, 0, len(want))
	buf := make([]byte, 64<<10)
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	for len(got) < len(want) {
		time.Sleep(10 * time.Millisecond)
		k, err := c.br.Read(buf[:min(len(buf), len(want)-len(got))])
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("reading replies slowly under a 1 s idle timeout: %v after %d of %d bytes", err, len(got), len(want))
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the replies differ from what was sent")
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.nc.Write(encode("PING"))
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := c.br.ReadString('\n'); line != "+PONG\r\n" {
		t.Errorf("PING after the replies: %q, %v (the idle timeout closed a client that was taking its replies)", line, err)
	}
}

// TestRespHostileShutdownWritesQueuedReplies: Shutdown lets a connection
// finish the commands it read, their replies written: a pipeline whose
// replies wait in the queue for a client that reads only after Shutdown
// began gets them all, and Shutdown returns nil.
func TestRespHostileShutdownWritesQueuedReplies(t *testing.T) {
	addr, srv, _ := startTiermem(t, nil)
	req, want := echoPipeline(512, 64<<10)
	c := dial(t, addr)
	c.send(req)
	time.Sleep(200 * time.Millisecond) // the server reads the pipeline and queues its replies
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	time.Sleep(200 * time.Millisecond)
	got := make([]byte, len(want))
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("reading replies queued before Shutdown: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the replies differ from what was sent")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/redistest"
	"github.com/tiermem/tiermem/server"
)

// testOptions are small budgets and no background loop.
func testOptions() *tiermem.Options {
	return &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 16 << 20},
		Cold: tiermem.TierOptions{Size: 256 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1,
	}
}

// startTiermem serves a new Manager on a loopback port; both are closed
// when the test ends.
func startTiermem(t testing.TB, opts *server.Options) (string, *server.Server, *tiermem.Manager) {
	t.Helper()
	return startTiermemIn(t, t.TempDir(), opts)
}

// startTiermemIn is startTiermem with the Manager's directory.
func startTiermemIn(t testing.TB, dir string, opts *server.Options) (string, *server.Server, *tiermem.Manager) {
	t.Helper()
	return startManager(t, dir, testOptions(), opts)
}

// startManager is startTiermemIn with the Manager's options.
func startManager(t testing.TB, dir string, mopts *tiermem.Options, opts *server.Options) (string, *server.Server, *tiermem.Manager) {
	t.Helper()
	m, err := tiermem.Open(dir, mopts)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(m, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		m.Close()
	})
	return ln.Addr().String(), srv, m
}

// startRedis starts a redis-server for the test.
func startRedis(t testing.TB, extra ...string) string {
	t.Helper()
	r, err := redistest.StartServer(extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r.Addr
}

// client is a raw RESP connection that returns each reply's bytes as sent.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// encode returns a command as a multibulk frame.
func encode(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// do sends one command and returns its reply's bytes.
func (c *client) do(args ...string) []byte {
	c.t.Helper()
	c.send(encode(args...))
	return c.reply()
}

func (c *client) send(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) reply() []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf bytes.Buffer
	if err := readReply(c.br, &buf); err != nil {
		c.t.Fatalf("reading a reply: %v (so far %q)", err, buf.Bytes())
	}
	return buf.Bytes()
}

// readReply copies one RESP2 or RESP3 reply from r to w.
func readReply(r *bufio.Reader, w *bytes.Buffer) error {
	line, err := r.ReadBytes('\n')
	w.Write(line)
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		_, err := io.CopyN(w, r, int64(n)+2)
		return err
	case '*', '~', '>':
	case '%', '|':
		n *= 2
	default:
		return fmt.Errorf("unknown reply type %q", line)
	}
	for range max(n, 0) {
		if err := readReply(r, w); err != nil {
			return err
		}
	}
	return nil
}

package server_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

// rawExchange sends raw bytes on a new connection and returns what comes
// back until the server closes it or is quiet for a while.
func rawExchange(t testing.TB, addr string, raw []byte) []byte {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(raw); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		n, err := nc.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes()
		}
	}
}

// protoCases are raw frames, well formed or not, that both servers must
// answer alike, closing the connection where Redis does.
var protoCases = []string{
	"PING\r\n", "PING\n", "  PING  \r\n", "\r\n\r\nPING\r\n", "ECHO \"a b\"\r\n", "ECHO 'a b'\r\n",
	"ECHO \"\\x41\\x4a\\n\\t\\\\\"\r\n", "ECHO 'it\\'s'\r\n", "ECHO \"unbalanced\r\n", "ECHO 'x'y\r\n", "ECHO \"x\"y\r\n",
	"ECHO a\x00b\r\n", "SET k \"\\x00\\xff\"\r\nGET k\r\n", "*abc\r\n", "*-1\r\nPING\r\n", "*0\r\nPING\r\n",
	"*1\r\n$-1\r\n", "*1\r\nx3\r\nabc\r\n", "*2\r\n$3\r\nGET\r\n$99999999999\r\n", "*2\r\n$3\r\nGET\r\n$abc\r\n",
	"*3000000000\r\n", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", "*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n",
	"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING", "$4\r\nPING\r\n", ":1\r\n",
	"*" + strings.Repeat("1", 70000), "*1\r\n$" + strings.Repeat("1", 70000), strings.Repeat("a", 70000),
	"*1\r\n$-0\r\n", "*1\r\n$01\r\n", "*01\r\n$4\r\nPING\r\n", "*1\r\n$+4\r\nPING\r\n",
}

func TestProtocolErrorsSameAsRedis(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, nil)
	for _, raw := range protoCases {
		want := rawExchange(t, redisAddr, []byte(raw))
		got := rawExchange(t, tmAddr, []byte(raw))
		if !bytes.Equal(want, got) {
			t.Errorf("%.60q:\n redis:   %.300q\n tiermem: %.300q", raw, want, got)
		}
	}
}

// TestAuthSameAsRedis compares both servers with a password set.
func TestAuthSameAsRedis(t *testing.T) {
	redisAddr := startRedis(t, "--requirepass", "pw")
	tmAddr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw"})
	sequences := [][]step{
		{s("GET", "k"), s("PING"), s("NOSUCH"), s("GET"), s("SET", "k", "v"), s("AUTH", "wrong"), s("AUTH", "default", "wrong"),
			s("AUTH", "nobody", "pw"), s("HELLO", "3"), s("HELLO", "2", "AUTH", "default", "wrong"), s("QUIT", "x")},
		{s("AUTH", "pw"), s("SET", "k", "v"), s("GET", "k"), s("AUTH", "wrong"), s("GET", "k")},
		{s("AUTH", "default", "pw"), s("GET", "k")},
		{{args: []string{"HELLO", "2", "AUTH", "default", "pw"}, how: hello}, s("GET", "k")},
		{s("MULTI"), s("AUTH", "pw"), s("MULTI"), s("GET", "k"), s("EXEC")},
	}
	for i, seq := range sequences {
		want, got := dial(t, redisAddr), dial(t, tmAddr)
		for j, st := range seq {
			if w, g := run(want, st), run(got, st); !same(st.how, w, g) {
				t.Errorf("sequence %d step %d %q:\n redis:   %q\n tiermem: %q", i, j, st.args, w, g)
			}
		}
	}
	for _, raw := range []string{
		"*11\r\n", "*1\r\n$16385\r\n", "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$20000\r\n" + strings.Repeat("x", 20000) + "\r\n",
	} {
		if want, got := rawExchange(t, redisAddr, []byte(raw)), rawExchange(t, tmAddr, []byte(raw)); !bytes.Equal(want, got) {
			t.Errorf("%.60q:\n redis:   %.200q\n tiermem: %.200q", raw, want, got)
		}
	}
}

// TestLimits checks the configured bulk and multibulk limits.
func TestLimits(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{MaxBulkLen: 1000, MaxMultibulkLen: 10})
	for raw, want := range map[string]string{
		"*2\r\n$4\r\nECHO\r\n$1001\r\n": "-ERR Protocol error: invalid bulk length\r\n",
		"*11\r\n":                       "-ERR Protocol error: invalid multibulk length\r\n",
		"*2\r\n$4\r\nECHO\r\n$1000\r\n" + strings.Repeat("y", 1000) + "\r\n": "$1000\r\n" + strings.Repeat("y", 1000) + "\r\n",
		"SETRANGE k 999 ab\r\n": "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
	} {
		if got := rawExchange(t, addr, []byte(raw)); string(got) != want {
			t.Errorf("%.40q: %.100q, want %.100q", raw, got, want)
		}
	}
	c := dial(t, addr)
	if got := c.do("PING"); string(got) != "+PONG\r\n" {
		t.Errorf("the server stopped serving after the errors: %q", got)
	}
}

// TestCommandTable checks what redis-cli and client libraries read at
// startup: COMMAND COUNT matches COMMAND, COMMAND INFO and DOCS answer.
func TestCommandTable(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	count := c.do("COMMAND", "COUNT")
	all := c.do("COMMAND")
	if !bytes.HasPrefix(all, []byte("*"+strings.TrimPrefix(string(count[:len(count)-2]), ":")+"\r\n")) {
		t.Errorf("COMMAND COUNT %q does not match COMMAND's %.20q", count, all)
	}
	info := c.do("COMMAND", "INFO", "get", "nosuch")
	if want := "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n$-1\r\n"; string(info) != want {
		t.Errorf("COMMAND INFO get nosuch = %q, want %q", info, want)
	}
	if docs := c.do("COMMAND", "DOCS"); string(docs) != "*0\r\n" {
		t.Errorf("COMMAND DOCS = %q", docs)
	}
	if id := string(c.do("CLIENT", "ID")); !strings.HasPrefix(id, ":") || !strings.Contains(string(c.do("HELLO")), "id\r\n"+strings.TrimSuffix(id, "\r\n")) {
		t.Errorf("CLIENT ID = %q is not HELLO's id", id)
	}
	if got := c.do("TIME"); !bytes.HasPrefix(got, []byte("*2\r\n$10\r\n")) {
		t.Errorf("TIME = %q", got)
	}
}

// TestShutdownFinishesInFlight pipelines commands and shuts down: every
// command read is answered, then the connection closes and Serve returns.
func TestShutdownFinishesInFlight(t *testing.T) {
	addr, srv, m := startTiermem(t, nil)
	c := dial(t, addr)
	if got := c.do("SET", "k", "v"); string(got) != "+OK\r\n" {
		t.Fatal(string(got))
	}
	var batch []byte
	for range 100 {
		batch = append(batch, encode("INCR", "n")...)
	}
	c.send(batch)
	for i := range 100 {
		if r := c.reply(); r[0] != ':' {
			t.Fatalf("reply %d: %q", i, r)
		}
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after Shutdown the connection reads %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("the listener still accepts after Shutdown")
	}
	if v, err := m.Retrieve("n"); err != nil || string(v) != "100" {
		t.Errorf("n = %q, %v", v, err)
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// TestLargeValue stores and reads back an 8 MiB value, which comes in
// many reads.
func TestLargeValue(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	value := strings.Repeat("0123456789abcdef", 512<<10)
	if got := c.do("SET", "big", value); string(got) != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	got := c.do("GET", "big")
	if want := "$8388608\r\n" + value + "\r\n"; string(got) != want {
		t.Fatalf("GET returned %d bytes, want %d", len(got), len(want))
	}
	if got := c.do("STRLEN", "big"); string(got) != ":8388608\r\n" {
		t.Errorf("STRLEN = %q", got)
	}
}

// TestTimeouts: an idle client is closed after IdleTimeout; one that
// pipelines and never reads is closed after WriteTimeout.
func TestTimeouts(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{IdleTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	if got := c.do("PING"); string(got) != "+PONG\r\n" {
		t.Fatal(string(got))
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("an idle client reads %v, want EOF", err)
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	big := strings.Repeat("x", 1<<20)
	nc.Write(encode("SET", "big", big))
	start := time.Now()
	done := make(chan error, 1)
	go func() { // GETs whose replies are never read, until the server hangs up
		var err error
		for err == nil && time.Since(start) < 10*time.Second {
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, err = nc.Write(encode("GET", "big"))
		}
		done <- err
	}()
	if err := <-done; err == nil {
		t.Errorf("a client that never reads was not closed within 10s")
	}
}

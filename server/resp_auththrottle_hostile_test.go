package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

// dialFrom is dial from the local address ip: a loopback address other
// than 127.0.0.1 (Linux routes all of 127/8 to lo) is another client
// address to the server.
func dialFrom(t testing.TB, ip, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// wrongPassPause is the server's pause after a wrong password.
const wrongPassPause = 10 * time.Millisecond

// TestRespHostileWrongPasswordDelayBoundsGuessing: the pause after a
// wrong password slowed only the answer, and a right one was answered at
// once: a guesser that gives up on each guess after 2 ms (a new
// connection for the next) learned from the silence that it was wrong,
// and guessed at the network's pace. Trying N passwords must cost about N
// pauses.
func TestRespHostileWrongPasswordDelayBoundsGuessing(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.DiscardHandler)})
	const right = 30
	start := time.Now()
	for i := 0; ; i++ {
		guess := fmt.Sprintf("guess-%d", i)
		if i == right {
			guess = "pw"
		}
		c := dial(t, addr)
		c.send(encode("AUTH", guess))
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Millisecond))
		line, err := c.br.ReadString('\n')
		if err != nil && i == right { // a slow machine: the guesser would try this one again
			c = dial(t, addr)
			line = string(c.do("AUTH", guess))
		}
		c.nc.Close()
		if line == "+OK\r\n" {
			if i != right {
				t.Fatalf("guess %d taken", i)
			}
			break
		}
		if i == right {
			t.Fatalf("the right password: %q", line)
		}
	}
	if d := time.Since(start); d < right*wrongPassPause/2 {
		t.Errorf("%d wrong passwords then the right one tried in %v (%v each would be %v): guessing is not slowed", right, d, wrongPassPause, right*wrongPassPause)
	}
}

// TestRespHostileWrongPasswordSlowsItsAddressOnly: after a wrong
// password, the next AUTH from the same address waits, the right password
// included, while another address that never fails is answered at once
// as a guesser guesses on.
func TestRespHostileWrongPasswordSlowsItsAddressOnly(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.DiscardHandler)})
	guesser := dialFrom(t, "127.0.0.2", addr)
	var req []byte
	for range 50 {
		req = append(req, encode("AUTH", "wrong")...)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		guesser.send(req)
		for range 50 {
			guesser.reply()
		}
	})
	time.Sleep(50 * time.Millisecond)
	for range 5 {
		other := dial(t, addr)
		start := time.Now()
		if r := string(other.do("AUTH", "pw")); r != "+OK\r\n" {
			t.Fatalf("AUTH from another address: %q", r)
		}
		if d := time.Since(start); d > wrongPassPause/2 {
			t.Errorf("the right password from another address, while one guesses: answered in %v, want at once", d)
		}
	}
	wg.Wait()
	start := time.Now()
	if r := string(guesser.do("AUTH", "pw")); r != "+OK\r\n" {
		t.Fatalf("the right password from the guesser's address: %q", r)
	}
	if d := time.Since(start); d < wrongPassPause*3/4 {
		t.Errorf("the right password right after a wrong one from the same address: answered in %v, want after about %v", d, wrongPassPause)
	}
}

// TestRespHostileWrongPasswordLogIsRateLimited: every failed AUTH was
// logged, so a guesser filled the log too. At most one line a second is
// written, and the next says how many were not.
func TestRespHostileWrongPasswordLogIsRateLimited(t *testing.T) {
	var logs lockedLog
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const n = 20
	for i := range n {
		c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i), addr)
		if r := c.do("AUTH", "wrong"); !bytes.HasPrefix(r, []byte("-WRONGPASS")) {
			t.Fatalf("a wrong password: %q", r)
		}
	}
	if got := strings.Count(logs.String(), "AUTH failed"); got != 1 {
		t.Errorf("%d wrong passwords within a second: %d lines logged, want 1:\n%s", n, got, logs.String())
	}
	time.Sleep(1100 * time.Millisecond)
	dialFrom(t, "127.0.0.9", addr).do("AUTH", "wrong")
	var lines []string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, "AUTH failed") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[1], fmt.Sprintf("not_logged_since=%d", n-1)) {
		t.Errorf("one more wrong password a second later: want a second line counting the %d not logged, got:\n%s", n-1, logs.String())
	}
}

// TestRespHostileThrottledAuthInExecIsNotChecked: an EXEC runs alone and
// must not wait, so an AUTH in it from an address that must wait is not
// checked, and says so: queued AUTHs cannot bypass the throttle.
func TestRespHostileThrottledAuthInExecIsNotChecked(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.DiscardHandler)})
	c := dial(t, addr)
	c.do("AUTH", "pw")
	c.do("MULTI")
	c.do("AUTH", "wrong")
	c.do("AUTH", "pw")
	r := string(c.do("EXEC"))
	if !strings.HasPrefix(r, "*2\r\n-WRONGPASS") || !strings.Contains(r, "not checked") {
		t.Errorf("EXEC of a wrong AUTH then the right one: %q, want WRONGPASS then not checked", r)
	}
	time.Sleep(2 * wrongPassPause)
	c.do("MULTI")
	c.do("AUTH", "pw")
	if r := string(c.do("EXEC")); r != "*1\r\n+OK\r\n" {
		t.Errorf("EXEC of the right AUTH once the pause is over: %q", r)
	}
}

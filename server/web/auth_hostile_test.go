package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileWrongPasswordDelayBoundsGuessing: FailedAuthDelay is
// there "to slow down guessing" (issue 14: wrong passwords are "slowed
// down"). But only the 401 waits: a right password is answered at once,
// so a client that gives up on each guess after 50 ms learns
// that it was wrong from the silence, and tries the next one at the
// network's pace. Trying 40 candidates must cost about 40 delays.
func TestHostileWrongPasswordDelayBoundsGuessing(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{Password: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	const tries, right = 40, 30
	guesser := &http.Client{Timeout: 50 * time.Millisecond}
	start := time.Now()
	found := -1
	for i := range tries {
		guess := fmt.Sprintf("guess-%d", i)
		if i == right {
			guess = "s3cret"
		}
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/usage", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+guess)
		resp, err := guesser.Do(req)
		if err != nil && i == right { // a slow machine: the guesser would check this one again
			resp, err = http.DefaultClient.Do(req)
		}
		if err != nil {
			continue // no answer within 50 ms: a wrong one
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			found = i
			break
		}
	}
	elapsed := time.Since(start)
	if found != right {
		t.Fatalf("the guesser found guess %d, not %d", found, right)
	}
	if elapsed < right*web.FailedAuthDelay/2 {
		t.Errorf("%d wrong passwords then the right one tried in %v (FailedAuthDelay %v each would be %v): the delay does not slow guessing",
			right, elapsed, web.FailedAuthDelay, right*web.FailedAuthDelay)
	}
}

// fromAddr returns a client whose connections come from ip, a loopback
// address other than 127.0.0.1 (Linux routes all of 127/8 to lo): another
// client address to the server.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// authGet sends GET path with the bearer password through c and returns
// the status and how long the answer took.
func authGet(t *testing.T, c *http.Client, url, password string) (int, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+password)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// TestHostileWrongPasswordSlowsItsAddressOnly: FailedAuthDelay throttles
// the attempts of the address that gave a wrong password, the right
// password included (else an answer at once would tell a guesser its
// guess was right), while a client at another address that never fails
// is answered at once, however much the guesser guesses.
func TestHostileWrongPasswordSlowsItsAddressOnly(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{Password: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	guesser, other := fromAddr("127.0.0.2"), fromAddr("127.0.0.1")
	if code, _ := authGet(t, guesser, srv.URL+"/v1/usage", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", code)
	}
	// The guesser keeps guessing in the background, its slots taken.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/usage", nil)
			req.Header.Set("Authorization", "Bearer wrong")
			if resp, err := guesser.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
	for range 5 {
		if code, took := authGet(t, other, srv.URL+"/v1/usage", "s3cret"); code != http.StatusOK || took > web.FailedAuthDelay/2 {
			t.Errorf("the right password from another address: %d in %v, want 200 at once", code, took)
		}
	}
	cancel()
	wg.Wait()
	if code, took := authGet(t, guesser, srv.URL+"/v1/usage", "s3cret"); code != http.StatusOK || took < web.FailedAuthDelay*3/4 {
		t.Errorf("the right password from the address that just gave a wrong one: %d in %v, want 200 after about %v", code, took, web.FailedAuthDelay)
	}
	if code, took := authGet(t, guesser, srv.URL+"/v1/usage", "s3cret"); code != http.StatusOK || took > web.FailedAuthDelay/2 {
		t.Errorf("the right password again, its last failure %v old: %d in %v, want 200 at once", web.FailedAuthDelay, code, took)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use, for a logger.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHostileWrongPasswordLogIsRateLimited: each wrong password was
// logged, so a guesser (from many addresses, each slowed on its own) also
// filled the log. At most one line a second is written, and the next says
// how many were not.
func TestHostileWrongPasswordLogIsRateLimited(t *testing.T) {
	var logs lockedBuffer
	_, srv := newServer(t, nil, web.Config{Password: "s3cret", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const n = 20
	for i := range n {
		if code, _ := authGet(t, fromAddr(fmt.Sprintf("127.0.0.%d", 10+i)), srv.URL+"/v1/usage", "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", code)
		}
	}
	if got := strings.Count(logs.String(), "wrong password"); got != 1 {
		t.Errorf("%d wrong passwords from %d addresses within a second: %d lines logged, want 1:\n%s", n, n, got, logs.String())
	}
	time.Sleep(1100 * time.Millisecond)
	authGet(t, fromAddr("127.0.0.9"), srv.URL+"/v1/usage", "wrong")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], fmt.Sprintf("not_logged_since=%d", n-1)) {
		t.Errorf("one more wrong password a second later: want a second line counting the %d not logged, got:\n%s", n-1, logs.String())
	}
}

// TestHostileOverflowLetsRightPasswordIn: FailedAuthDelay says "An
// address that never gives a wrong password never waits" (past the 4096
// addresses kept: at most about a delay). A guesser with 4097 IPv6 /64s
// (one /52) gives one wrong password from each of 4096 of them, then sends a burst of guesses from them that it abandons at once
// (each keeps its slot taken, so each address stays kept), and a burst of
// abandoned guesses from one more address, which goes to the shared
// overflow state, with slots 10 s ahead if they chained there. Another
// client, from an address that never gave a wrong password, must not wait
// for them: its right password is checked within about a delay, well
// before its 1 s of patience runs out (not a 401 "not checked").
func TestHostileOverflowLetsRightPasswordIn(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{Password: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	send := func(ctx context.Context, remote, password string) int {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/usage", nil)
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+password)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	guess := func(addr string, abandoned int) {
		send(context.Background(), addr, "wrong")
		for range abandoned {
			send(gone, addr, "wrong")
		}
	}
	for i := range 4096 {
		// Slots up to 4 s ahead: each address is still kept (not idle)
		// when the last is filled.
		guess(fmt.Sprintf("[2001:db8:0:%x::1]:4000", i), 4+16*(4096-i)/4096)
	}
	guess("[2001:db8:1::1]:4000", 50) // past the table: 10 s of slots, were they chained
	ctx, stop := context.WithTimeout(context.Background(), time.Second)
	defer stop()
	start := time.Now()
	if code := send(ctx, "192.0.2.7:5000", "s3cret"); code != http.StatusOK {
		t.Errorf("the right password from an address that never gave a wrong one: %d after %v, want 200 at once",
			code, time.Since(start).Round(time.Millisecond))
	}
}

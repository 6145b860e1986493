package authlimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:5000":             "127.0.0.1",
		"[::ffff:10.0.0.1]:80":       "10.0.0.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1":   "2001:db8:1:2::/64",
		"[fe80::1%eth0]:22":          "fe80::/64",
		"10.1.2.3":                   "10.1.2.3",
		"@":                          "@",
		"not an address:12":          "not an address:12",
	} {
		if got := Key(remote); got != want {
			t.Errorf("Key(%q) = %q, want %q", remote, got, want)
		}
	}
}

// TestBounded: the addresses kept are bounded by Max, however many fail
// at once; those past it share one state, so they are still slowed (the
// next one waits for the failure of the one before).
func TestBounded(t *testing.T) {
	l := New(time.Hour)
	for i := range Max + 1 { // the last one past Max: the shared state's first failure
		at, err := l.Begin(context.Background(), fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), nil)
		if err != nil {
			t.Fatal(err)
		}
		at.End(true)
	}
	if kept := l.kept(); kept != Max {
		t.Fatalf("%d addresses kept, want %d", kept, Max)
	}
	if _, ok := l.TryBegin("192.168.0.1:1"); ok {
		t.Errorf("an address past Max, right after failures past Max: not slowed")
	}
}

// TestForgotten: an address is forgotten once its last failure is a delay
// old and no attempt of it is in flight, and one that never fails is not
// kept.
func TestForgotten(t *testing.T) {
	const delay = 50 * time.Millisecond
	l := New(delay)
	at, _ := l.Begin(context.Background(), "10.0.0.1:1", nil)
	at.End(false)
	if kept := l.kept(); kept != 0 {
		t.Errorf("a right password: %d addresses kept", kept)
	}
	at, _ = l.Begin(context.Background(), "10.0.0.1:1", nil)
	at.End(true)
	if kept := l.kept(); kept != 1 {
		t.Errorf("a wrong password: %d addresses kept, want 1", kept)
	}
	time.Sleep(delay + delay/2)
	at, _ = l.Begin(context.Background(), "10.0.0.1:2", nil)
	at.End(false)
	if kept := l.kept(); kept != 0 {
		t.Errorf("a right password %v after a wrong one: %d addresses kept, want none", delay, kept)
	}
}

func (l *Limiter) kept() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}

// TestAbandonedAttemptKeepsItsSlot: an attempt given up before its slot
// (its client gone) keeps the slot taken: the next one waits for it too.
func TestAbandonedAttemptKeepsItsSlot(t *testing.T) {
	const delay = 100 * time.Millisecond
	l := New(delay)
	at, _ := l.Begin(context.Background(), "10.0.0.1:1", nil)
	at.End(true)
	start := time.Now()
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		if _, err := l.Begin(ctx, "10.0.0.1:2", nil); err == nil {
			t.Fatal("an attempt right after a failure began at once")
		}
		cancel()
	}
	at, err := l.Begin(context.Background(), "10.0.0.1:3", nil)
	if err != nil {
		t.Fatal(err)
	}
	at.End(false)
	if d := time.Since(start); d < 4*delay*9/10 {
		t.Errorf("a failure, 3 attempts given up, then one more: it began after %v, want 4 × %v", d, delay)
	}
	// Its right password gave back the time after its slot: the next
	// attempt does not wait.
	start = time.Now()
	at, _ = l.Begin(context.Background(), "10.0.0.1:4", nil)
	at.End(false)
	if d := time.Since(start); d > delay/2 {
		t.Errorf("an attempt after a right password waited %v", d)
	}
}

// TestOverflowBoundedWait: past Max, a guesser that fails and then gives
// up on many attempts from the shared overflow state cannot make another
// address past Max wait more than about a delay; a guess there right
// after a failure still waits a delay.
func TestOverflowBoundedWait(t *testing.T) {
	const delay = 100 * time.Millisecond
	l := New(delay)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range Max { // attempts in flight: kept however long the test takes
		at, err := l.Begin(context.Background(), fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer at.End(false)
	}
	at, err := l.Begin(context.Background(), "192.168.0.1:1", nil) // past Max
	if err != nil {
		t.Fatal(err)
	}
	at.End(true)
	for range 50 {
		if _, err := l.Begin(gone, "192.168.0.1:1", nil); err == nil {
			t.Fatal("an attempt past Max right after a failure there began at once")
		}
	}
	// One guess in flight, holding no turn that others wait for.
	held, err := l.Begin(context.Background(), "192.168.0.1:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	at, err = l.Begin(context.Background(), "192.168.0.2:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	at.End(false)
	if d := time.Since(start); d > delay+delay/2 {
		t.Errorf("a right password past Max, after 50 guesses given up there: waited %v, want at most about %v", d, delay)
	}
	held.End(true)
	if kept := l.kept(); kept != Max {
		t.Fatalf("%d addresses kept, want %d", kept, Max)
	}
	start = time.Now()
	at, err = l.Begin(context.Background(), "192.168.0.1:3", nil)
	if err != nil {
		t.Fatal(err)
	}
	at.End(false)
	if d := time.Since(start); d < delay*9/10 {
		t.Errorf("a guess past Max right after a failure there: waited %v, want %v", d, delay)
	}
}

// Package authlimit slows down password guessing by client address, for
// the RESP server (package server) and the HTTP API (package server/web).
//
// A Limiter throttles attempts, not failures. After a wrong password from
// an address, every later attempt from it, right or wrong, takes a slot of
// its own, the Limiter's delay after the one before: the first a delay
// after the failure, the next a delay after that, and so on, until an
// attempt comes after the last slot and the last failure are a delay old.
// An attempt whose client gives up before its slot keeps the slot taken:
// so N guesses from an address cost about N delays whether its client
// waits for each answer or gives up on it early, and an answer is never
// the first sign of a failure (the next attempt could not be checked
// sooner anyway). The attempts of one address are checked one at a time,
// so guesses sent in parallel take slots in turn. An address that never
// gives a wrong password never waits (beyond the turn of an attempt of its
// own being checked at that moment: a comparison).
//
// An address is an IP address; an IPv6 one counts by its /64 prefix, what
// one client usually has to itself. The state kept is bounded: at most
// Max addresses are kept; an address with nothing left to keep (its last
// failure and its last slot a delay old, no attempt of it in flight) is
// forgotten when its own attempt ends, or when Max are kept and another
// comes; past Max with none to forget, the addresses not kept share one
// overflow state, which throttles less strictly so that no address can
// lock the others out through it: it keeps only the time of its last
// failure, with no slots and no turn, and an attempt on it waits, once,
// until that failure (as it stood when the attempt came) is a delay old.
// So an attempt from an address not kept waits at most a delay, whatever
// the others do, and guesses sent there one after another still cost a
// delay each (those sent in parallel wait together, as if from as many
// addresses).
package authlimit

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Max is how many addresses a Limiter keeps at most.
const Max = 4096

// Limiter throttles password attempts by client address. Its methods are
// safe for concurrent use.
type Limiter struct {
	delay    time.Duration
	mu       sync.Mutex
	addrs    map[string]*addr
	overflow addr      // the state of the addresses not kept, past Max: only failed and users
	pruned   time.Time // the last prune of addrs
}

// addr is the state of one address. Its times are guarded by the
// Limiter's mu.
type addr struct {
	turn   chan struct{} // holds a token while an attempt of it is checked
	failed time.Time     // its last failure; zero for none
	next   time.Time     // the slot after the last one taken
	users  int           // attempts in flight: waiting, or being checked
}

// New returns a Limiter whose attempts after a failure take slots delay
// apart.
func New(delay time.Duration) *Limiter {
	return &Limiter{delay: delay, addrs: make(map[string]*addr)}
}

// Attempt is one check of a password, from Begin (or TryBegin) to End.
type Attempt struct {
	l     *Limiter
	key   string
	a     *addr
	after time.Time // the end of the slot it took; zero for none
}

// Key returns the address a connection's remote address (host:port, or a
// bare host) counts as: its IP, an IPv6 one's /64 prefix. A remote
// address that holds no IP counts as itself.
func Key(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return remote
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// join counts an attempt from key in, creating its state, and returns it.
func (l *Limiter) join(key string, now time.Time) *addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[key]
	if a == nil {
		if len(l.addrs) >= Max && now.Sub(l.pruned) >= l.delay/8 {
			l.prune(now)
		}
		if len(l.addrs) >= Max {
			a = &l.overflow
		} else {
			a = &addr{turn: make(chan struct{}, 1)}
			l.addrs[key] = a
		}
	}
	a.users++
	return a
}

// prune forgets the addresses there is nothing left to keep of. l.mu is
// held.
func (l *Limiter) prune(now time.Time) {
	l.pruned = now
	for key, a := range l.addrs {
		if l.idle(a, now) {
			delete(l.addrs, key)
		}
	}
}

// idle reports whether a has no attempt in flight and nothing that would
// slow its next one. l.mu is held.
func (l *Limiter) idle(a *addr, now time.Time) bool {
	return a.users == 0 && !l.suspect(a, now)
}

// suspect reports whether an attempt of a now must take a slot: its last
// failure is less than a delay old, or a slot after now is taken. l.mu is
// held.
func (l *Limiter) suspect(a *addr, now time.Time) bool {
	return now.Before(a.failed.Add(l.delay)) || now.Before(a.next)
}

// reserve takes a's next slot for an attempt, when a is suspect now, and
// returns it with the time after it (a.next once it is taken); zero when
// the attempt need not wait.
func (l *Limiter) reserve(a *addr) (slot, after time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.suspect(a, now) {
		return time.Time{}, time.Time{}
	}
	slot = now
	if t := a.failed.Add(l.delay); slot.Before(t) {
		slot = t
	}
	if slot.Before(a.next) {
		slot = a.next
	}
	a.next = slot.Add(l.delay)
	return slot, a.next
}

// leave counts an attempt of a out, and forgets a once nothing of it is
// left to keep.
func (l *Limiter) leave(key string, a *addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a.users--
	if a != &l.overflow && l.idle(a, time.Now()) {
		delete(l.addrs, key)
	}
}

// overflowWait returns when an attempt on the overflow state may be
// checked: a delay after its last failure; zero when it need not wait.
func (l *Limiter) overflowWait() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.overflow.failed.Add(l.delay); time.Now().Before(t) {
		return t
	}
	return time.Time{}
}

// Begin waits until an attempt from remote's address (Key) may be
// checked: for its slot, when the address is suspect (a failure, or a
// slot taken, less than a delay ago), and for its turn; past Max, for the
// overflow state's last failure to be a delay old, and no longer than a
// delay. The password may then be checked; End must follow. If ctx ends
// first it returns ctx's error, with no attempt to end, or ErrStopped if
// stopped (when not nil, polled every few milliseconds) reports true
// first; the slot the attempt took stays taken.
func (l *Limiter) Begin(ctx context.Context, remote string, stopped func() bool) (Attempt, error) {
	key := Key(remote)
	a := l.join(key, time.Now())
	var tick <-chan time.Time
	if stopped != nil {
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		tick = t.C
	}
	wait := func(done <-chan time.Time, turn chan struct{}) error {
		for {
			select {
			case <-done:
				return nil
			case turn <- struct{}{}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-tick:
				if stopped() {
					return ErrStopped
				}
			}
		}
	}
	if a == &l.overflow {
		if until := l.overflowWait(); !until.IsZero() {
			t := time.NewTimer(time.Until(until))
			err := wait(t.C, nil)
			t.Stop()
			if err != nil {
				l.leave(key, a)
				return Attempt{}, err
			}
		}
		return Attempt{l: l, key: key, a: a}, nil
	}
	var after time.Time // the end of the slot taken, if any
	for {
		if slot, end := l.reserve(a); !slot.IsZero() {
			after = end
			if d := time.Until(slot); d > 0 {
				t := time.NewTimer(d)
				err := wait(t.C, nil)
				t.Stop()
				if err != nil {
					l.leave(key, a)
					return Attempt{}, err
				}
			}
		}
		if err := wait(nil, a.turn); err != nil {
			l.leave(key, a)
			return Attempt{}, err
		}
		// A failure, or a slot taken, while this attempt waited for its
		// turn makes it take a slot after all, once.
		if !after.IsZero() || !l.suspectNow(a) {
			return Attempt{l: l, key: key, a: a, after: after}, nil
		}
		<-a.turn
	}
}

// suspectNow is suspect, taking l.mu.
func (l *Limiter) suspectNow(a *addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.suspect(a, time.Now())
}

// pollEvery is how often Begin asks its stopped function.
const pollEvery = 5 * time.Millisecond

// ErrStopped is Begin's error when its stopped function reported true.
var ErrStopped = errors.New("authlimit: stopped while waiting to check a password")

// TryBegin is Begin that does not wait: ok is false, with no attempt to
// end and no slot taken, when remote's address is suspect or has an
// attempt being checked (past Max: when the overflow state's last failure
// is less than a delay old). For a check that must not block (one inside
// a transaction that runs alone).
func (l *Limiter) TryBegin(remote string) (at Attempt, ok bool) {
	key := Key(remote)
	a := l.join(key, time.Now())
	if a == &l.overflow {
		if !l.overflowWait().IsZero() {
			l.leave(key, a)
			return Attempt{}, false
		}
		return Attempt{l: l, key: key, a: a}, true
	}
	select {
	case a.turn <- struct{}{}:
	default:
		l.leave(key, a)
		return Attempt{}, false
	}
	if l.suspectNow(a) {
		<-a.turn
		l.leave(key, a)
		return Attempt{}, false
	}
	return Attempt{l: l, key: key, a: a}, true
}

// End ends the attempt, recording whether its password was wrong, and
// hands the address's turn on. A right password gives back the time after
// its slot, unless a later attempt took a slot meanwhile: the address's
// next attempt then waits only for a failure less than a delay old. It
// does nothing for the zero Attempt.
func (at Attempt) End(wrong bool) {
	if at.l == nil {
		return
	}
	at.l.mu.Lock() // before the turn is handed on: the next attempt sees it
	switch {
	case wrong:
		at.a.failed = time.Now()
	case !at.after.IsZero() && at.a.next.Equal(at.after):
		at.a.next = time.Time{}
	}
	at.l.mu.Unlock()
	if at.a != &at.l.overflow {
		<-at.a.turn
	}
	at.l.leave(at.key, at.a)
}

// LogLimit lets one log line through per interval, and counts those it
// holds back, so that a guesser cannot fill the log: one line a second
// says as much as a line a guess. The zero LogLimit lets one line through
// a second. Safe for concurrent use.
type LogLimit struct {
	Every time.Duration // 0: a second
	mu    sync.Mutex
	last  time.Time
	held  int64
}

// Allow reports whether a line may be logged now; when it may, held is
// how many lines were held back since the last one let through.
func (l *LogLimit) Allow() (ok bool, held int64) {
	every := l.Every
	if every <= 0 {
		every = time.Second
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		l.held++
		return false, 0
	}
	l.last, held, l.held = now, l.held, 0
	return true, held
}

package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// hostileServe serves a new Manager (small tiers, no glacier, no background
// loop) with opts on a loopback port; both close when the test ends.
func hostileServe(t *testing.T, opts *Options) (*Server, net.Conn, *bufio.Reader) {
	t.Helper()
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 16 << 20},
		Cold: tiermem.TierOptions{Size: 256 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		m.Close()
	})
	return s, nc, bufio.NewReader(nc)
}

// hostileFrame returns a command as a multibulk frame.
func hostileFrame(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// hostileReplies reads n replies of simple types (status, error, integer,
// bulk, and arrays of those) and returns them, one a line.
func hostileReplies(t *testing.T, nc net.Conn, br *bufio.Reader, n int) []string {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out []string
	var one func() string
	one = func() string {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a reply: %v", err)
		}
		switch line[0] {
		case '$':
			var size int
			fmt.Sscanf(line[1:], "%d", &size)
			if size < 0 {
				return "(nil)"
			}
			b := make([]byte, size+2)
			if _, err := io.ReadFull(br, b); err != nil {
				t.Fatalf("reading a bulk: %v", err)
			}
			return string(b[:size])
		case '*':
			var count int
			fmt.Sscanf(line[1:], "%d", &count)
			var parts []string
			for range count {
				parts = append(parts, one())
			}
			return "[" + strings.Join(parts, " ") + "]"
		}
		return strings.TrimRight(line, "\r\n")
	}
	for range n {
		out = append(out, one())
	}
	return out
}

// durationObserver records every command's time, and runs hook (when set)
// on the connection's goroutine for each command it is told of.
type durationObserver struct {
	mu   sync.Mutex
	seen []string
	took []time.Duration
	hook func(name string)
}

func (o *durationObserver) ObserveCommand(name string, d time.Duration) {
	o.mu.Lock()
	o.seen = append(o.seen, name)
	o.took = append(o.took, d)
	hook := o.hook
	o.mu.Unlock()
	if hook != nil {
		hook(name)
	}
}
func (o *durationObserver) ClientConnected()    {}
func (o *durationObserver) ClientDisconnected() {}

// TestHostileObserverTimeOfObserverNotCountedInNextCommand: a pipelined GET
// that takes microseconds is reported as taking microseconds, whatever the
// Observer itself does with the commands before it. The commands of a batch
// are timed by one chained clock (cmdclock.go); the time an Observer takes
// over one command's report (here 300 ms, as a slow metrics backend's) once
// counted with the next command.
func TestHostileObserverTimeOfObserverNotCountedInNextCommand(t *testing.T) {
	const slow = 300 * time.Millisecond
	obs := &durationObserver{hook: func(name string) {
		if name == "ping" {
			time.Sleep(slow)
		}
	}}
	_, nc, br := hostileServe(t, &Options{Observer: obs})
	pipelineGetTime(t, nc, br, obs, slow, "the Observer spent on the PING before it",
		[]string{"+OK", "+PONG", "v"}, []string{"SET", "k", "v"}, []string{"PING"}, []string{"GET", "k"})
}

// pipelineGetTime sends cmds as one pipeline, checks their replies, and
// fails if a GET among them is reported as taking slow or more, which is
// the time of what (no part of the GET's).
func pipelineGetTime(t *testing.T, nc net.Conn, br *bufio.Reader, obs *durationObserver, slow time.Duration, what string,
	replies []string, cmds ...[]string) {
	t.Helper()
	var pipe []byte
	for _, c := range cmds {
		pipe = append(pipe, hostileFrame(c...)...)
	}
	nc.Write(pipe)
	if got := hostileReplies(t, nc, br, len(cmds)); strings.Join(got, ",") != strings.Join(replies, ",") {
		t.Fatalf("replies %q, want %q", got, replies)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for i, name := range obs.seen {
		if name == "get" && obs.took[i] >= slow {
			t.Errorf("a pipelined GET reported as taking %v: it includes the %v %s", obs.took[i], slow, what)
		}
	}
}

// TestHostileObserverWaitForSharedLockNotCountedInNextCommand: after a
// command that runs alone (MSET) the connection gives up the server's
// shared lock, and the next command of its pipeline waits for it while
// another connection runs alone (an MSET, an EXEC, the instant of a
// snapshot). That wait is no part of the GET's time; with the chained
// clock it once was, the GET's time starting at the MSET's end.
func TestHostileObserverWaitForSharedLockNotCountedInNextCommand(t *testing.T) {
	const slow = 300 * time.Millisecond
	obs := &durationObserver{}
	s, nc, br := hostileServe(t, &Options{Observer: obs})
	var once sync.Once
	obs.hook = func(name string) {
		if name != "mset" {
			return
		}
		once.Do(func() {
			locked := make(chan struct{})
			go func() { // another connection running alone, as runBuffered's next hold finds it
				s.exclusive.Lock()
				close(locked)
				time.Sleep(slow)
				s.exclusive.Unlock()
			}()
			<-locked
		})
	}
	pipelineGetTime(t, nc, br, obs, slow, "its connection waited for the shared lock before it ran",
		[]string{"+OK", "v"}, []string{"MSET", "k", "v"}, []string{"GET", "k"})
}

// TestHostilePipelinePreparedRepliesUnchanged: a pipeline mixing every shape
// peekKeys looks at or stops at (inline commands, commands whose key is not
// their second argument, MULTI/EXEC, WATCH, AUTH, an empty key, an MGET of
// thousands of keys, a frame split across writes at every byte) gets the
// replies it would get with no look ahead, in order.
func TestHostilePipelinePreparedRepliesUnchanged(t *testing.T) {
	_, nc, br := hostileServe(t, &Options{})
	var pipe []byte
	var want []string
	add := func(reply string, args ...string) {
		pipe = append(pipe, hostileFrame(args...)...)
		want = append(want, reply)
	}
	add("+OK", "SET", "a", "1")
	add("-ERR*", "AUTH", "x")
	add("+OK", "WATCH", "a")
	add("+OK", "MULTI")
	add("+QUEUED", "INCR", "a")
	add("+QUEUED", "GET", "a")
	add("[:2 2]", "EXEC")
	pipe = append(pipe, "GET a\r\n"...) // inline
	want = append(want, "2")
	add("-ERR*", "SET", "", "empty")
	add("-ERR*", "GET", "")
	add(":1", "EXISTS", "zz", "a")
	add("+PONG", "PING")
	add("(nil)", "GET", "zz")
	var mget []string
	var mwant []string
	mget = append(mget, "MGET")
	for i := range 5000 {
		if i%7 == 0 {
			mget = append(mget, "a")
			mwant = append(mwant, "2")
		} else {
			mget = append(mget, fmt.Sprint("absent", i))
			mwant = append(mwant, "(nil)")
		}
	}
	add("["+strings.Join(mwant, " ")+"]", mget...)
	for i := range 40 {
		add("+OK", "SET", fmt.Sprint("p", i), fmt.Sprint(i))
		add(fmt.Sprint(i), "GET", fmt.Sprint("p", i))
	}
	// All at once, then cut at many places (byte by byte for the first
	// 400 bytes).
	for _, step := range []int{len(pipe), 1 << 12, 7, 1} {
		for off := 0; off < len(pipe); off += step {
			end := min(off+step, len(pipe))
			if step == 1 && off >= 400 {
				end = len(pipe)
			}
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(pipe[off:end]); err != nil {
				t.Fatal(err)
			}
			off = end - step
		}
		got := hostileReplies(t, nc, br, len(want))
		for i := range want {
			if got[i] != want[i] && !(strings.HasSuffix(want[i], "*") && strings.HasPrefix(got[i], strings.TrimSuffix(want[i], "*"))) {
				g, w := got[i], want[i]
				if len(g) > 80 {
					g, w = g[:80], w[:min(80, len(w))]
				}
				t.Fatalf("step %d: reply %d is %q, want %q", step, i, g, w)
			}
		}
		// Reset the state the pipeline changes, for the next round.
		nc.Write(hostileFrame("SET", "a", "1"))
		hostileReplies(t, nc, br, 1)
	}
}

// TestHostilePipelinesRaceFlushAndClose: clients pipelining GET, SET, MGET,
// DEL and RENAME in windows the look ahead prepares (its keys handed to
// the Manager before the shared lock is taken) while another client
// FLUSHALLs and MSETs, then the Manager closes under the running server,
// then the server: nothing may be reported under -race and nothing may
// panic (a panic closes only its connection: the server's log is checked
// for one).
func TestHostilePipelinesRaceFlushAndClose(t *testing.T) {
	var logged syncBuffer
	s, nc, br := hostileServe(t, &Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	addr := nc.RemoteAddr().String()
	var pipe []byte
	for i := range 64 {
		k := fmt.Sprint("k", i%20)
		switch i % 5 {
		case 0:
			pipe = append(pipe, hostileFrame("SET", k, k)...)
		case 1:
			pipe = append(pipe, hostileFrame("GET", k)...)
		case 2:
			pipe = append(pipe, hostileFrame("MGET", k, "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17")...)
		case 3:
			pipe = append(pipe, hostileFrame("DEL", k)...)
		case 4:
			pipe = append(pipe, hostileFrame("RENAME", k, fmt.Sprint("k", (i+1)%20))...)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			go io.Copy(io.Discard, c)
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if w == 0 {
					_, err = c.Write(append(hostileFrame("FLUSHALL"), hostileFrame("MSET", "k1", "a", "k2", "b")...))
				} else {
					_, err = c.Write(pipe)
				}
				if err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.m.Close()
	time.Sleep(100 * time.Millisecond)
	nc.Write(hostileFrame("GET", "k1"))
	hostileReplies(t, nc, br, 1)
	s.Close()
	close(stop)
	wg.Wait()
	if strings.Contains(logged.String(), "panicked") {
		t.Errorf("a command panicked: %s", logged.String())
	}
}

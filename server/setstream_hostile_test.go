package server_test

// Hostile tests of the streamed SET (setstream.go): against a real
// redis-server where a client can see the difference.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/procstatus"
	"github.com/tiermem/tiermem/server"
)

// eachServer runs fn against a real redis-server, then against tiermem,
// each started for the test.
func eachServer(t *testing.T, fn func(target, addr string)) {
	fn("redis", startRedis(t))
	addr, _, _ := startTiermem(t, nil)
	fn("tiermem", addr)
}

// replyWithin reads one reply, giving up after d: nil when none came.
func replyWithin(c *client, d time.Duration) []byte {
	c.nc.SetReadDeadline(time.Now().Add(d))
	var buf bytes.Buffer
	if err := readReply(c.br, &buf); err != nil {
		return nil
	}
	return buf.Bytes()
}

// TestReplyBeforeStreamedSetIsNotHeldBack: a command pipelined before a
// large SET whose value is still coming is answered at once, as Redis
// answers it (a multiplexing client such as Lettuce or rueidis waits for
// that reply with a timeout while another thread uploads).
func TestReplyBeforeStreamedSetIsNotHeldBack(t *testing.T) {
	eachServer(t, func(target, addr string) {
		c := dial(t, addr)
		frame := setFrame("big", largeValue(4<<20, 1))
		c.send(append(encode("PING"), frame[:len(frame)/2]...))
		got := replyWithin(c, 2*time.Second)
		c.send(frame[len(frame)/2:])
		if string(got) != "+PONG\r\n" {
			t.Errorf("%s: the PING sent before half a large SET replied %q within 2s", target, got)
		}
	})
}

// TestCutShortSetDoesNotTouchWatch: a client that leaves half way through a
// large SET changes nothing: a WATCH on the key does not fail, as in Redis,
// where the SET never ran.
func TestCutShortSetDoesNotTouchWatch(t *testing.T) {
	eachServer(t, func(target, addr string) {
		b := dial(t, addr)
		b.do("SET", "k", "old")
		b.do("WATCH", "k")
		a := dial(t, addr)
		frame := setFrame("k", largeValue(2<<20, 2))
		a.send(frame[:len(frame)/2])
		time.Sleep(50 * time.Millisecond)
		a.nc.Close()
		time.Sleep(50 * time.Millisecond)
		b.do("MULTI")
		b.do("SET", "k", "new")
		if got := string(b.do("EXEC")); got != "*1\r\n+OK\r\n" {
			t.Errorf("%s: EXEC after a cut-short SET of the watched key replied %q", target, got)
		}
		info := string(b.do("INFO", "persistence"))
		i := strings.Index(info, "rdb_changes_since_last_save:")
		t.Logf("%s: %s", target, strings.SplitN(info[i:], "\r", 2)[0])
	})
}

// TestSlowActiveSetIsNotCutByTheIdleTimeout: a slow but active client (a
// byte every 300 ms) is not cut by the idle timeout, in Redis or tiermem.
func TestSlowActiveSetIsNotCutByTheIdleTimeout(t *testing.T) {
	eachServer(t, func(target, addr string) {
		c := dial(t, addr)
		c.do("CONFIG", "SET", "timeout", "1")
		value := largeValue(1<<20, 3)
		frame := setFrame("slow", value)
		rest := 8
		c.send(frame[:len(frame)-rest])
		for i := len(frame) - rest; i < len(frame); i++ {
			time.Sleep(300 * time.Millisecond)
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.nc.Write(frame[i : i+1]); err != nil {
				t.Errorf("%s: write %d: %v", target, i, err)
				break
			}
		}
		if got := replyWithin(c, 5*time.Second); string(got) != "+OK\r\n" {
			t.Errorf("%s: a slow but active SET replied %q", target, got)
		}
		d := dial(t, addr)
		if got := d.do("STRLEN", "slow"); string(got) != fmt.Sprintf(":%d\r\n", len(value)) {
			t.Errorf("%s: STRLEN %q", target, got)
		}
		d.do("CONFIG", "SET", "timeout", "0")
	})
}

// TestStreamedSetEdges: sizes at the edge, mixed-case names, RESP3, a key
// with a TTL, and refusals whose value must be read past: the next pipelined
// command is parsed from the right byte.
func TestStreamedSetEdges(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	c := dial(t, addr)
	for _, n := range []int{1<<20 - 1, 1 << 20, 1<<20 + 1} {
		value := largeValue(n, byte(n))
		for _, name := range []string{"sEt", "set", "SET"} {
			frame := bytes.Replace(setFrame("e", value), []byte("SET"), []byte(name), 1)
			c.send(frame[:len(frame)-n/2])
			time.Sleep(5 * time.Millisecond)
			c.send(append(bytes.Clone(frame[len(frame)-n/2:]), encode("PING")...))
			if got := string(c.reply()); got != "+OK\r\n" {
				t.Fatalf("%d %s: %q", n, name, got)
			}
			if got := string(c.reply()); got != "+PONG\r\n" {
				t.Fatalf("%d %s: PING %q", n, name, got)
			}
			if got, err := m.Retrieve("e"); err != nil || !bytes.Equal(got, value) {
				t.Fatalf("%d %s: stored %d bytes %v", n, name, len(got), err)
			}
		}
	}
	// RESP3 and a TTL the plain SET must drop.
	c.do("HELLO", "3")
	c.do("SET", "t", "v", "EX", "100")
	value := largeValue(2<<20, 7)
	frame := setFrame("t", value)
	c.send(frame[:1000])
	time.Sleep(5 * time.Millisecond)
	c.send(frame[1000:])
	if got := string(c.reply()); got != "+OK\r\n" {
		t.Fatalf("RESP3: %q", got)
	}
	if got := string(c.do("TTL", "t")); got != ":-1\r\n" {
		t.Errorf("TTL after a streamed plain SET: %q", got)
	}
	// Refused: an empty key, a key too long for tiermem; the value holds
	// frames that must not be run.
	poison := bytes.Repeat(encode("SET", "poisoned", "1"), (2<<20)/len(encode("SET", "poisoned", "1")))
	for _, key := range []string{"", strings.Repeat("k", 70000)} {
		frame := setFrame(key, poison)
		c.send(frame[:len(frame)-len(poison)+100])
		time.Sleep(5 * time.Millisecond)
		c.send(append(bytes.Clone(frame[len(frame)-len(poison)+100:]), encode("PING")...))
		got := string(c.reply())
		if !strings.HasPrefix(got, "-") {
			t.Errorf("key of %d bytes: %q", len(key), got)
		}
		if got := string(c.reply()); got != "+PONG\r\n" {
			t.Fatalf("key of %d bytes: then PING %q", len(key), got)
		}
	}
	if got := string(c.do("EXISTS", "poisoned")); got != ":0\r\n" {
		t.Errorf("bytes of a refused value ran as commands: %q", got)
	}
}

// TestStreamedSetAndExec: a streamed SET of a watched key fails the
// watcher's EXEC; and a streamed SET never lands between two commands of an
// EXEC.
func TestStreamedSetAndExec(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	b := dial(t, addr)
	b.do("SET", "w", "x")
	b.do("WATCH", "w")
	a := dial(t, addr)
	frame := setFrame("w", largeValue(2<<20, 9))
	a.send(frame[:len(frame)/2])
	time.Sleep(20 * time.Millisecond)
	a.send(frame[len(frame)/2:])
	if got := string(a.reply()); got != "+OK\r\n" {
		t.Fatalf("%q", got)
	}
	b.do("MULTI")
	b.do("SET", "w", "y")
	if got := string(b.do("EXEC")); got != "*-1\r\n" {
		t.Errorf("EXEC after a streamed SET of the watched key: %q", got)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	big := largeValue(1<<20, 11)
	for w := range 2 {
		wg.Go(func() {
			c := dial(t, addr)
			f := setFrame("x", big)
			for i := 0; !stop.Load(); i++ {
				c.send(f[:len(f)-1-i%3000])
				c.send(f[len(f)-1-i%3000:])
				if got := string(c.reply()); got != "+OK\r\n" {
					t.Errorf("writer %d: %q", w, got)
					return
				}
			}
		})
	}
	e := dial(t, addr)
	deadline := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		v := fmt.Sprint("small", i)
		e.send(bytes.Join([][]byte{encode("MULTI"), encode("SET", "x", v), encode("MSET", "y", "1"), encode("STRLEN", "x"), encode("EXEC")}, nil))
		var got bytes.Buffer
		for range 5 {
			got.Write(e.reply())
		}
		want := fmt.Sprintf("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n:%d\r\n", len(v))
		if got.String() != want {
			t.Fatalf("EXEC %d: %q", i, got.String())
		}
		m := dial(t, addr)
		m.do("MSET", "p", "1", "q", "2")
		m.nc.Close()
	}
	stop.Store(true)
	wg.Wait()
}

// TestManagerClosedDuringAStreamedSet: the Manager closed while a large SET
// streams into each tier: the SET gets an error, nothing is stored, the
// connection goes on.
func TestManagerClosedDuringAStreamedSet(t *testing.T) {
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		addr, _, m := startManager(t, t.TempDir(), optionsFor(tier), nil)
		c := dial(t, addr)
		value := largeValue(3<<20, 1)
		frame := setFrame("big", value)
		c.send(frame[:len(frame)/2])
		time.Sleep(20 * time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		c.send(append(bytes.Clone(frame[len(frame)/2:]), encode("PING")...))
		got := string(c.reply())
		if !strings.HasPrefix(got, "-") {
			t.Errorf("%v: a SET into a closed Manager replied %q", tier, got)
		}
		if got := string(c.reply()); got != "+PONG\r\n" {
			t.Errorf("%v: then PING %q", tier, got)
		}
	}
}

// TestClientKillDuringAStreamedSet: CLIENT KILL of a client half way through
// a large SET: it is killed at once and its value is not stored.
func TestClientKillDuringAStreamedSet(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	a := dial(t, addr)
	id := strings.TrimSpace(strings.TrimPrefix(string(a.do("CLIENT", "ID")), ":"))
	frame := setFrame("big", largeValue(2<<20, 2))
	a.send(frame[:len(frame)-10])
	time.Sleep(20 * time.Millisecond)
	b := dial(t, addr)
	if got := string(b.do("CLIENT", "KILL", "ID", id)); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", got)
	}
	a.nc.Write(frame[len(frame)-10:])
	if got := replyWithin(a, 2*time.Second); got != nil {
		t.Errorf("the killed client got %q", got)
	}
	if _, err := m.Retrieve("big"); err == nil {
		t.Error("the killed client's value was stored")
	}
	for i := 0; strings.Contains(string(b.do("CLIENT", "LIST")), "id="+id+" "); i++ {
		if i == 100 {
			t.Fatal("the killed client is still listed after 1s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRequirepassDuringAStreamedSet: CONFIG SET requirepass while an
// authenticated (password-less) client streams: its SET completes, as in
// Redis.
func TestRequirepassDuringAStreamedSet(t *testing.T) {
	eachServer(t, func(target, addr string) {
		a := dial(t, addr)
		a.do("PING")
		value := largeValue(2<<20, 3)
		frame := setFrame("big", value)
		a.send(frame[:len(frame)/2])
		time.Sleep(20 * time.Millisecond)
		b := dial(t, addr)
		b.do("CONFIG", "SET", "requirepass", "pw")
		a.send(frame[len(frame)/2:])
		got := string(a.reply())
		next := string(a.do("STRLEN", "big"))
		t.Logf("%s: SET %q, then STRLEN %q", target, got, next)
		if got != "+OK\r\n" || next != fmt.Sprintf(":%d\r\n", len(value)) {
			t.Errorf("%s: SET %q, STRLEN %q", target, got, next)
		}
		a.do("CONFIG", "SET", "requirepass", "")
	})
}

// TestAnnouncedSetValueCostsNothing: a client that announces a large SET
// value and sends nothing of it costs nothing (reader.space's promise: "a
// client that announces 512 MiB and sends nothing costs nothing"): here,
// several such clients, with a hot tier that could hold each value.
func TestAnnouncedSetValueCostsNothing(t *testing.T) {
	o := testOptions()
	o.Hot.Size = 4 << 30
	addr, _, _ := startManager(t, t.TempDir(), o, nil)
	const clients, size = 4, 256 << 20
	rss := func() int64 {
		b, err := procstatus.Bytes("VmRSS")
		if err != nil {
			t.Fatal(err)
		}
		return b[0]
	}
	for round := range 2 {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rss0 := rss()
		var cs []*client
		for range clients {
			c := dial(t, addr)
			c.send(fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\nabc", size))
			cs = append(cs, c)
		}
		time.Sleep(200 * time.Millisecond)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		rss1 := rss()
		t.Logf("round %d: heap in use +%d MiB, RSS +%d MiB, for %d clients that sent %d-byte headers",
			round, (int64(after.HeapInuse)-int64(before.HeapInuse))>>20, (rss1-rss0)>>20, clients, 40)
		if d := int64(after.HeapInuse) - int64(before.HeapInuse); d > 64<<20 {
			t.Errorf("round %d: %d clients that announced %d MiB and sent 3 bytes grew the heap by %d MiB", round, clients, size>>20, d>>20)
		}
		for _, c := range cs {
			c.nc.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type setObserver struct {
	mu   sync.Mutex
	sets []time.Duration
}

func (o *setObserver) ObserveCommand(name string, d time.Duration) {
	if name == "set" {
		o.mu.Lock()
		o.sets = append(o.sets, d)
		o.mu.Unlock()
	}
}
func (o *setObserver) ClientConnected()    {}
func (o *setObserver) ClientDisconnected() {}

// TestObserverOfAStreamedSet: the Observer sees no SET the client never
// finished, and a streamed SET's time leaves out the client's upload, as
// Redis's command stats do.
func TestObserverOfAStreamedSet(t *testing.T) {
	obs := &setObserver{}
	addr, _, _ := startTiermem(t, &server.Options{Observer: obs})
	c := dial(t, addr)
	frame := setFrame("big", largeValue(2<<20, 1))
	c.send(frame[:len(frame)/2])
	time.Sleep(500 * time.Millisecond)
	c.send(frame[len(frame)/2:])
	c.reply()
	d := dial(t, addr)
	d.send(frame[:len(frame)/2])
	time.Sleep(50 * time.Millisecond)
	d.nc.Close()
	time.Sleep(50 * time.Millisecond)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	t.Logf("observed SETs: %v", obs.sets)
	if len(obs.sets) != 1 {
		t.Errorf("observed %d SETs, one ran", len(obs.sets))
	}
	if len(obs.sets) > 0 && obs.sets[0] > 400*time.Millisecond {
		t.Errorf("a streamed SET observed as taking %v: the client's upload", obs.sets[0])
	}
}

// TestPipelinedLargeSets: back-to-back large SETs (one refused as too large
// for the key, one stored) in one pipeline, sent in random pieces while
// replies are read: every reply in order, the values as sent.
func TestPipelinedLargeSets(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	v1, v2 := largeValue(2<<20+3, 1), largeValue(1<<20, 2)
	var p []byte
	p = append(p, encode("PING")...)
	p = append(p, setFrame("a", v1)...)
	p = append(p, setFrame(string(make([]byte, 70000)), v2)...) // refused
	p = append(p, setFrame("b", v2)...)
	p = append(p, encode("STRLEN", "a")...)
	p = append(p, encode("QUIT")...)
	for seed := range 5 {
		c := dial(t, addr)
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		go func() {
			for from := 0; from < len(p); {
				to := min(len(p), from+1+r.IntN(300000))
				c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.nc.Write(p[from:to]); err != nil {
					return
				}
				from = to
				if r.IntN(4) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
		var got bytes.Buffer
		for range 6 {
			got.Write(c.reply())
		}
		s := got.String()
		wantHead, wantTail := "+PONG\r\n+OK\r\n-", fmt.Sprintf("+OK\r\n:%d\r\n+OK\r\n", len(v1))
		if len(s) < len(wantHead)+len(wantTail) || s[:len(wantHead)] != wantHead || s[len(s)-len(wantTail):] != wantTail {
			t.Fatalf("seed %d: %q", seed, s)
		}
		for k, v := range map[string][]byte{"a": v1, "b": v2} {
			if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("seed %d: %s: %d bytes %v", seed, k, len(got), err)
			}
		}
		m.Delete("a")
		m.Delete("b")
	}
}

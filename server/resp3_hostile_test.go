package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostileRenameWaitingForAnUploadDoesNotFreezeEveryone: one client's
// command waiting for room must not stop every other client, and RENAME,
// RENAMENX and COPY still answer as Redis's do. Client A uploads a large
// value slowly (its room in hot is held while it streams); client B
// RENAMEs (RENAMENX, COPY) a 1.5 MiB hot key, which needs room in hot too
// and waits for the upload, up to 5 s; client C sends an MSET, which runs
// alone. An unrelated client D's PING is answered at once, B gets +OK
// (1) and the key under its new name, C's MSET runs. Before the fix B's
// connection held the server's shared lock while it waited (as TIER.MOVE
// once did: TestRespHostileSlowUploadAndTierMoveDoNotFreezeTheServer), C's
// MSET queued for the exclusive side, Go's RWMutex then blocked every new
// reader, and D's PING, like every client's command, waited the 5 s.
func TestHostileRenameWaitingForAnUploadDoesNotFreezeEveryone(t *testing.T) {
	for _, cmd := range [][]string{{"RENAME", "x", "y"}, {"RENAMENX", "x", "y"}, {"COPY", "x", "y"}} {
		t.Run(cmd[0], func(t *testing.T) {
			t.Parallel()                       // each waits 5 s
			addr, _, _ := startTiermem(t, nil) // hot 8 MiB
			a := dial(t, addr)
			frame := setFrame("upload", largeValue(6<<20, 1))
			a.send(frame[:len(frame)/2]) // and then nothing, for now
			time.Sleep(200 * time.Millisecond)
			b := dial(t, addr)
			value := string(largeValue(1500<<10, 2))
			b.do("SET", "x", value)
			b.send(encode(cmd...))
			time.Sleep(100 * time.Millisecond)
			c := dial(t, addr)
			c.send(encode("MSET", "p", "1"))
			time.Sleep(100 * time.Millisecond)

			wantPromptPing(t, addr, "another's "+cmd[0]+" waited for an upload")
			want := map[string]string{"RENAME": "+OK\r\n", "RENAMENX": ":1\r\n", "COPY": ":1\r\n"}[cmd[0]]
			if r := string(b.reply()); r != want {
				t.Errorf("%s = %.80q, want %q", cmd[0], r, want)
			}
			if r := string(c.reply()); r != "+OK\r\n" {
				t.Errorf("MSET = %.80q", r)
			}
			if r := b.do("GET", "y"); !bytes.HasSuffix(r, []byte("\r\n"+value+"\r\n")) {
				t.Errorf("GET y after %s = %.80q, want the value of x", cmd[0], r)
			}
			a.send(frame[len(frame)/2:])
			if r := string(a.reply()); r != "+OK\r\n" {
				t.Errorf("the upload's SET = %.80q", r)
			}
		})
	}
}

// TestHostileRenameIsAtomicForExec: an EXEC runs alone, atomic with
// respect to the other clients' commands, RENAME's included (as in Redis,
// where every command is). RENAME runs out of the server's shared lock
// (it may wait for room: TestHostileRenameWaitingForAnUploadDoesNotFreezeEveryone),
// so EXEC waits for the RENAMEs in flight before it runs: an EXEC of
// EXISTS a and EXISTS b, while another client renames a to b and back,
// finds exactly one of them, never both (the new name written, the old
// not yet removed) nor none (one rename seen before, the next after).
// Letting RENAME go on beside an EXEC would break this.
func TestHostileRenameIsAtomicForExec(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	r := dial(t, addr)
	r.do("SET", "a", "v")
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			from, to := "a", "b"
			if i%2 == 1 {
				from, to = to, from
			}
			if got, err := rawDo(nc, br, "RENAME", from, to); err != nil || got != "+OK\r\n" {
				done <- fmt.Errorf("RENAME %s %s = %q, %v", from, to, got, err)
				return
			}
		}
	}()
	e := dial(t, addr)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		e.do("MULTI")
		e.do("EXISTS", "a")
		e.do("EXISTS", "b")
		if got := string(e.do("EXEC")); got != "*2\r\n:1\r\n:0\r\n" && got != "*2\r\n:0\r\n:1\r\n" {
			t.Errorf("EXEC of EXISTS a, EXISTS b while a client renames a to b and back = %q, want one of them", got)
			break
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestHostileExecWithTierMoveDoesNotFreezeEveryone: a TIER.MOVE or
// TIER.COPY may wait (up to 5 s) for room a slow upload holds, and an EXEC
// runs alone, holding the server's exclusive lock: one queued there would
// make every other client wait with it. They are refused inside MULTI, as
// Redis refuses SAVE there, and the EXEC aborts; a PING of another client
// is answered at once. Before, the move was queued, and the EXEC of it
// froze every client (a PING included) for 5 s per move queued: the fix
// for TIER.MOVE outside MULTI (letting go of the shared lock) could not
// reach it.
func TestHostileExecWithTierMoveDoesNotFreezeEveryone(t *testing.T) {
	addr, _, _ := startTiermem(t, nil) // hot 8 MiB
	b := dial(t, addr)
	b.do("SET", "x", strings.Repeat("v", 3<<20))
	a := dial(t, addr)
	frame := setFrame("upload", largeValue(6<<20, 1))
	a.send(frame[:len(frame)/2]) // and then nothing, for now
	time.Sleep(200 * time.Millisecond)

	const refused = "-ERR Command not allowed inside a transaction\r\n"
	b.do("MULTI")
	for _, move := range []string{"TIER.MOVE", "tier.copy"} {
		if r := string(b.do(move, "x", "hot")); r != refused {
			t.Errorf("%s in MULTI = %q, want %q", move, r, refused)
		}
	}
	b.send(encode("EXEC"))
	time.Sleep(100 * time.Millisecond)

	wantPromptPing(t, addr, "another's EXEC of TIER.MOVE waited for an upload")
	if r := string(b.reply()); !strings.HasPrefix(r, "-EXECABORT") {
		t.Errorf("EXEC after a refused TIER.MOVE = %q, want EXECABORT", r)
	}
	a.send(frame[len(frame)/2:])
	a.reply()
}

// rawDo sends one command on nc and reads its reply, for goroutines
// other than the test's (no t.Fatal).
func rawDo(nc net.Conn, br *bufio.Reader, args ...string) (string, error) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(encode(args...)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err := readReply(br, &buf)
	return buf.String(), err
}

// TestHostileScanDuringChurnReturnsEveryStableKey: SCAN's promise (as
// Redis's, and Manager.Scan's): a key present for the whole iteration is
// returned at least once, while other clients add and delete keys, move
// the stable keys between tiers one at a time (TIER.MOVE, TIER.COPY,
// TIER.MIGRATE) and rewrite them (APPEND, SETRANGE, SET of a larger value
// that demotes others, EXPIRE/PERSIST). The Manager's TestScanWhileKeysMove
// moves keys but never rewrites them; this checks the promise through
// SCAN's cursor over RESP. It has held since it was written.
func TestHostileScanDuringChurnReturnsEveryStableKey(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	const stable = 400
	for i := range stable {
		c.do("SET", fmt.Sprintf("stable:%d", i), strings.Repeat("s", 100+i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	worker := func(fn func(i int, do func(args ...string) string)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			var failed error
			do := func(args ...string) string {
				r, err := rawDo(nc, br, args...)
				if err != nil && failed == nil {
					failed = err
				}
				return r
			}
			for i := 0; failed == nil; i++ {
				select {
				case <-stop:
					return
				default:
				}
				fn(i, do)
			}
			errs <- failed
		}()
	}
	tiers := []string{"warm", "cold", "hot"}
	for w := range 3 {
		worker(func(i int, do func(args ...string) string) { // moves
			do("TIER.MOVE", fmt.Sprintf("stable:%d", (i*7+w*101)%stable), tiers[(i+w)%3])
		})
	}
	worker(func(i int, do func(args ...string) string) { // copies, migrations
		if i%2 == 0 {
			do("TIER.COPY", fmt.Sprintf("stable:%d", (i*11)%stable), tiers[i%3])
		} else {
			do("TIER.MIGRATE")
		}
	})
	worker(func(i int, do func(args ...string) string) { // rewrites
		k := fmt.Sprintf("stable:%d", (i*13)%stable)
		switch i % 5 {
		case 0:
			do("APPEND", k, "a")
		case 1:
			do("SETRANGE", k, "3", "xyz")
		case 2:
			do("SET", k, strings.Repeat("L", 70000))
		case 3:
			do("EXPIRE", k, "1000")
		case 4:
			do("PERSIST", k)
		}
	})
	worker(func(i int, do func(args ...string) string) { // churn
		do("SET", fmt.Sprintf("churn:%d", i), "x")
		if i >= 50 {
			do("DEL", fmt.Sprintf("churn:%d", i-50))
		}
	})
	for round := range 3 {
		seen := map[string]bool{}
		cursor := "0"
		for calls := 0; ; calls++ {
			if calls > 100000 {
				t.Fatal("SCAN did not end")
			}
			next, keys := parseScanReply(t, c.do("SCAN", cursor, "COUNT", "7", "MATCH", "stable:*"))
			for _, k := range keys {
				seen[k] = true
			}
			if cursor = next; cursor == "0" {
				break
			}
		}
		var missing []string
		for i := range stable {
			if k := fmt.Sprintf("stable:%d", i); !seen[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("round %d: SCAN missed %d of %d keys present throughout: %v", round, len(missing), stable, missing[:min(len(missing), 10)])
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestHostileCommandInfoResp3Types: after HELLO 3, a client that decodes
// COMMAND INFO by type finds each of its ten fields of the RESP3 type
// Redis 7.0 gives it: the flags, ACL categories, tips and key
// specifications are sets ("~"), and so are the subcommands of a command
// that has none ("~0"; a container's are an array, "*"). The types are
// compared with redis-server's for a few commands both serve. Before,
// tiermem sent the key specifications and the subcommands as empty arrays
// ("*0") where redis-server 7.0.15 sends sets ("~0" for PING, "~1" for
// GET's key specification).
func TestHostileCommandInfoResp3Types(t *testing.T) {
	want, got := dial(t, startRedis(t)), dial(t, mustTiermem(t))
	want.do("HELLO", "3")
	got.do("HELLO", "3")
	for _, name := range []string{"get", "set", "ping", "mset", "config", "exec", "object", "client", "command"} {
		w, _ := parseRV(want.do("COMMAND", "INFO", name))
		g, _ := parseRV(got.do("COMMAND", "INFO", name))
		if len(w.elems) != 1 || len(g.elems) != 1 || len(w.elems[0].elems) != 10 || len(g.elems[0].elems) != 10 {
			t.Fatalf("COMMAND INFO %s: redis %q, tiermem %q", name, w.raw, g.raw)
		}
		for i := range 10 {
			if wt, gt := w.elems[0].elems[i].typ, g.elems[0].elems[i].typ; wt != gt {
				t.Errorf("COMMAND INFO %s: field %d is %q in redis-server, %q in tiermem", name, i+1, wt, gt)
			}
		}
	}
}

// intReply reads an integer reply (":n\r\n"), -1 for any other.
func intReply(r []byte) int64 {
	s := string(r)
	if !strings.HasPrefix(s, ":") || !strings.HasSuffix(s, "\r\n") {
		return -1
	}
	n, err := strconv.ParseInt(s[1:len(s)-2], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// TestHostileObjectIsNotAnAccess: OBJECT ENCODING and OBJECT REFCOUNT look
// at a key without using it, as in Redis (LOOKUP_NOTOUCH): its idle time,
// its read count (FREQ) and its tier stay as they were, so monitoring
// tools that run OBJECT ENCODING over every key do not make a cold
// keyspace look hot. Before, the look was a read (OpenValueDeferred):
// IDLETIME dropped to 0, FREQ grew by one a call, and a cold key looked
// at 20 times was promoted. The same checks run against redis-server.
func TestHostileObjectIsNotAnAccess(t *testing.T) {
	tmAddr, _, _ := startTiermem(t, nil)
	for _, srv := range []struct{ name, addr string }{{"redis", startRedis(t)}, {"tiermem", tmAddr}} {
		c := dial(t, srv.addr)
		c.do("SET", "k", "12345")
		time.Sleep(1100 * time.Millisecond)
		c.do("OBJECT", "ENCODING", "k")
		c.do("OBJECT", "REFCOUNT", "k")
		if idle := intReply(c.do("OBJECT", "IDLETIME", "k")); idle < 1 {
			t.Errorf("%s: OBJECT IDLETIME after 1.1 s and OBJECT ENCODING, REFCOUNT = %d, want >= 1 (OBJECT does not touch the key)", srv.name, idle)
		}
		c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") // Redis answers FREQ only then; tiermem refuses, and always answers
		c.do("SET", "f", "12345")
		before := intReply(c.do("OBJECT", "FREQ", "f"))
		for range 3 {
			c.do("OBJECT", "ENCODING", "f")
			c.do("OBJECT", "REFCOUNT", "f")
		}
		if after := intReply(c.do("OBJECT", "FREQ", "f")); before < 0 || after != before {
			t.Errorf("%s: OBJECT FREQ %d before, %d after 3 OBJECT ENCODING and 3 OBJECT REFCOUNT; want them equal", srv.name, before, after)
		}
	}
	// And so a cold key that only a monitoring tool looks at is promoted.
	c := dial(t, tmAddr)
	c.do("SET", "cold", strings.Repeat("c", 3000))
	if r := string(c.do("TIER.MOVE", "cold", "cold")); r != "+OK\r\n" {
		t.Fatalf("TIER.MOVE: %q", r)
	}
	for range 20 {
		c.do("OBJECT", "ENCODING", "cold")
	}
	c.do("TIER.MIGRATE")
	if r := string(c.do("TIER.GET", "cold")); r != "$4\r\ncold\r\n" {
		t.Errorf("a cold key looked at with OBJECT ENCODING 20 times, then TIER.MIGRATE: TIER.GET = %q, want it left cold", r)
	}
}

// TestHostileTouchTouches: TOUCH "alters the last access time of a key"
// (Redis's doc), which is how a client keeps a key from being evicted, in
// tiermem from being demoted: IDLETIME starts again and FREQ grows, as
// after GETs. Before, TOUCH was served as EXISTS, which only looks a key
// up: IDLETIME went on growing and FREQ stayed 0. The same checks hold on
// redis-server.
func TestHostileTouchTouches(t *testing.T) {
	tmAddr, _, _ := startTiermem(t, nil)
	for _, srv := range []struct{ name, addr string }{{"redis", startRedis(t)}, {"tiermem", tmAddr}} {
		c := dial(t, srv.addr)
		c.do("SET", "k", "v")
		time.Sleep(2100 * time.Millisecond)
		if r := string(c.do("TOUCH", "k")); r != ":1\r\n" {
			t.Fatalf("%s: TOUCH = %q", srv.name, r)
		}
		if idle := intReply(c.do("OBJECT", "IDLETIME", "k")); idle != 0 {
			t.Errorf("%s: OBJECT IDLETIME right after TOUCH = %d, want 0", srv.name, idle)
		}
		c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
		c.do("SET", "f", "v")
		before := intReply(c.do("OBJECT", "FREQ", "f"))
		for range 3 {
			c.do("TOUCH", "f")
		}
		if after := intReply(c.do("OBJECT", "FREQ", "f")); before < 0 || after <= before {
			t.Errorf("%s: OBJECT FREQ %d before, %d after 3 TOUCHes; want it to grow, as after GETs", srv.name, before, after)
		}
	}
}

// TestHostileGetexWithOptionsIsARead: GETEX key EX seconds reads the value
// and slides its expiry, the read of a session store on every request: it
// counts as a read (OBJECT FREQ, and the promotion TIER.MIGRATE makes)
// with or without options, as GET does and as Redis's GETEX touches the
// key (lookupKeyRead). Before, GETEX with EX, PX, EXAT, PXAT or PERSIST
// recorded no read: a cold session key read 20 times that way stayed cold
// with FREQ 0, where 20 GETs promote it.
func TestHostileGetexWithOptionsIsARead(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	value := strings.Repeat("session-", 400)
	for _, read := range [][]string{{"GET"}, {"GETEX"}, {"GETEX", "EX", "1000"}, {"GETEX", "PX", "1000000"}, {"GETEX", "PERSIST"}} {
		key := "s:" + strings.Join(read, "-")
		c.do("SET", key, value)
		if r := string(c.do("TIER.MOVE", key, "cold")); r != "+OK\r\n" {
			t.Fatalf("TIER.MOVE: %q", r)
		}
		args := append([]string{read[0], key}, read[1:]...)
		for range 20 {
			if r := c.do(args...); !strings.HasSuffix(string(r), value+"\r\n") {
				t.Fatalf("%q: %.40q", args, r)
			}
		}
		freq := intReply(c.do("OBJECT", "FREQ", key))
		c.do("TIER.MIGRATE")
		tier := string(c.do("TIER.GET", key))
		if read[0] == "GET" && (freq < 1 || strings.Contains(tier, "cold")) {
			t.Fatalf("after 20 GETs of a cold key: FREQ %d, TIER.GET %q: the premise (reads promote) does not hold", freq, tier)
		}
		if freq < 1 || strings.Contains(tier, "cold") {
			t.Errorf("after 20 %q of a cold key: OBJECT FREQ %d and TIER.GET %q, where 20 GETs promote it", args, freq, tier)
		}
	}
}

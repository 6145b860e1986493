package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// TestWatchMakesIncrementsAtomic runs the optimistic-lock loop a client
// library's transaction helper runs (WATCH, GET, MULTI, SET, EXEC, again
// on a null reply) on several connections, beside plain INCRs: no
// increment is lost, and some EXECs did abort.
func TestWatchMakesIncrementsAtomic(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	const watchers, each, incrs = 4, 40, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	aborts := 0
	for range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr)
			for done := 0; done < each; {
				c.do("WATCH", "counter")
				n := 0
				if r := string(c.do("GET", "counter")); r != "$-1\r\n" {
					n, _ = strconv.Atoi(strings.Split(r, "\r\n")[1])
				}
				c.do("MULTI")
				c.do("SET", "counter", strconv.Itoa(n+1))
				switch r := string(c.do("EXEC")); r {
				case "*1\r\n+OK\r\n":
					done++
				case "*-1\r\n":
					mu.Lock()
					aborts++
					mu.Unlock()
				default:
					t.Errorf("EXEC: %q", r)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := dial(t, addr)
		for range incrs {
			c.do("INCR", "counter")
		}
	}()
	wg.Wait()
	v, err := m.Retrieve("counter")
	if err != nil || string(v) != strconv.Itoa(watchers*each+incrs) {
		t.Fatalf("counter %q, %v; want %d", v, err, watchers*each+incrs)
	}
	t.Logf("%d EXECs aborted", aborts)
}

// TestWatchSeesOtherClients: a write by another connection, of any kind
// (RENAME onto the key, DEL, FLUSHALL), aborts EXEC; a read does not.
func TestWatchSeesOtherClients(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	for _, write := range [][]string{{"SET", "k", "x"}, {"DEL", "k"}, {"FLUSHALL"}, {"RENAME", "src", "k"}, {"MSET", "z", "1", "k", "2"}, {"COPY", "src", "k", "REPLACE"}} {
		a.do("SET", "k", "v")
		a.do("SET", "src", "s")
		a.do("WATCH", "k")
		b.do("GET", "k")
		b.do(write...)
		a.do("MULTI")
		a.do("GET", "k")
		if r := string(a.do("EXEC")); r != "*-1\r\n" {
			t.Errorf("after %q by another client, EXEC = %q, want a null array", write, r)
		}
	}
	a.do("WATCH", "k")
	b.do("GET", "k")
	b.do("SET", "other", "1")
	a.do("MULTI")
	if r := string(a.do("EXEC")); r != "*0\r\n" {
		t.Errorf("after reads and other keys' writes, EXEC = %q", r)
	}
}

// TestClientListAndKill: CLIENT LIST shows every connection with its
// name; CLIENT KILL closes the one it names and counts it, and it leaves
// the list at once.
func TestClientListAndKill(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	b.do("CLIENT", "SETNAME", "victim")
	idB := strings.TrimSuffix(strings.TrimPrefix(string(b.do("CLIENT", "ID")), ":"), "\r\n")
	list := string(a.do("CLIENT", "LIST"))
	if n := len(regexp.MustCompile(`(?m)^id=`).FindAllString(list, -1)); n != 2 || !strings.Contains(list, "id="+idB+" ") || !strings.Contains(list, " name=victim ") {
		t.Fatalf("CLIENT LIST = %q", list)
	}
	if r := string(a.do("CLIENT", "LIST", "ID", idB)); strings.Count(r, "id=") != 1 || !strings.Contains(r, "cmd=client|id") {
		t.Fatalf("CLIENT LIST ID %s = %q", idB, r)
	}
	if r := string(a.do("CLIENT", "KILL", "ID", idB)); r != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID = %q", r)
	}
	// At once, as in Redis: the killed client is gone from the list and
	// the count, however soon after the kill they are asked for.
	if r := string(a.do("CLIENT", "LIST")); strings.Count(r, "id=") != 1 || strings.Contains(r, "id="+idB+" ") {
		t.Errorf("CLIENT LIST right after the kill = %q", r)
	}
	if r := string(a.do("INFO", "clients")); !strings.Contains(r, "connected_clients:1\r\n") {
		t.Errorf("INFO clients right after the kill = %q", r)
	}
	b.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the killed client reads %v, want EOF", err)
	}
	if r := string(a.do("CLIENT", "KILL", "ID", idB)); r != ":0\r\n" {
		t.Fatalf("CLIENT KILL of a gone client = %q", r)
	}
	// SKIPME no: a client may close itself, after the reply.
	if r := string(a.do("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no")); r != ":1\r\n" {
		t.Fatalf("CLIENT KILL of itself = %q", r)
	}
	if _, err := a.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("a client that killed itself reads %v, want EOF", err)
	}
}

// TestConfig: tiermem's settings read back; requirepass, maxclients, the
// budgets, the policies and the durability change at runtime.
func TestConfig(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{SnapshotPath: "/data/dump.tmsnap"})
	c := dial(t, addr)
	for _, st := range []struct{ args, want string }{
		{"CONFIG GET tiermem-hot-budget", "*2\r\n$18\r\ntiermem-hot-budget\r\n$7\r\n8388608\r\n"},
		{"CONFIG GET tiermem-glacier-budget", "*2\r\n$22\r\ntiermem-glacier-budget\r\n$1\r\n0\r\n"},
		{"CONFIG GET tiermem-durability", "*2\r\n$18\r\ntiermem-durability\r\n$4\r\nnone\r\n"},
		{"CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$8\r\n25165824\r\n"},
		{"CONFIG GET databases", "*2\r\n$9\r\ndatabases\r\n$1\r\n1\r\n"},
		{"CONFIG GET appendfsync", "*2\r\n$11\r\nappendfsync\r\n$2\r\nno\r\n"},
		{"CONFIG GET dir", "*2\r\n$3\r\ndir\r\n$5\r\n/data\r\n"},
		{"CONFIG GET dbfilename", "*2\r\n$10\r\ndbfilename\r\n$11\r\ndump.tmsnap\r\n"},
		{"CONFIG SET tiermem-hot-policy lru", "+OK\r\n"},
		{"CONFIG GET tiermem-hot-policy", "*2\r\n$18\r\ntiermem-hot-policy\r\n$3\r\nlru\r\n"},
		{"CONFIG SET tiermem-warm-policy s3fifo", "+OK\r\n"},
		{"CONFIG SET tiermem-cold-policy lfu", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-cold-policy') - tiermem: invalid options: the cold tier is the last, which never chooses victims: its policy stays auto\r\n"},
		{"CONFIG GET tiermem-warm-policy", "*2\r\n$19\r\ntiermem-warm-policy\r\n$6\r\ns3fifo\r\n"},
		{"CONFIG SET tiermem-hot-policy clock", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-hot-policy') - tiermem: invalid options: the hot tier from lru to clock: CLOCK keeps reference words in a store of its own kind, so the change needs the Manager opened again with Hot.Policy clock\r\n"},
		{"CONFIG SET tiermem-cold-policy sometimes", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-cold-policy') - argument must be one of the following: auto, adaptive, lru, lfu, fifo, clock, s3fifo\r\n"},
		{"CONFIG SET tiermem-hot-policy auto tiermem-warm-policy auto tiermem-cold-policy auto", "+OK\r\n"},
		{"CONFIG SET tiermem-hot-budget 4MiB", "+OK\r\n"},
		{"CONFIG GET tiermem-hot-budget", "*2\r\n$18\r\ntiermem-hot-budget\r\n$7\r\n4194304\r\n"},
		{"CONFIG SET tiermem-hot-budget 5m", "+OK\r\n"}, // Redis's units: m is 10^6, mb 2^20
		{"CONFIG GET tiermem-hot-budget", "*2\r\n$18\r\ntiermem-hot-budget\r\n$7\r\n5000000\r\n"},
		{"CONFIG SET tiermem-hot-budget 8mb", "+OK\r\n"},
		{"CONFIG GET tiermem-hot-budget", "*2\r\n$18\r\ntiermem-hot-budget\r\n$7\r\n8388608\r\n"},
		{"CONFIG SET tiermem-hot-budget lots", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-hot-budget') - want a byte count such as 64MiB, 1gb or 4096, not \"lots\"\r\n"},
		{"CONFIG SET tiermem-hot-budget 0", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-hot-budget') - tiermem: invalid options: a budget of 0 bytes for the hot tier: it needs at least 1\r\n"},
		{"CONFIG SET maxclients 7 tiermem-warm-policy lru tiermem-hot-budget 0", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-hot-budget') - tiermem: invalid options: a budget of 0 bytes for the hot tier: it needs at least 1\r\n"},
		{"CONFIG SET maxclients 7 tiermem-warm-policy lru tiermem-hot-policy clock", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-hot-policy') - tiermem: invalid options: the hot tier from auto to clock: CLOCK keeps reference words in a store of its own kind, so the change needs the Manager opened again with Hot.Policy clock\r\n"},
		{"CONFIG GET maxclients", "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"},
		{"CONFIG GET tiermem-warm-policy", "*2\r\n$19\r\ntiermem-warm-policy\r\n$4\r\nauto\r\n"},
		{"CONFIG SET appendonly yes", "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - tiermem writes no AOF: tiermem-durability makes writes durable\r\n"},
		{"SET before-durable v", "+OK\r\n"},
		{"CONFIG SET tiermem-durability always", "+OK\r\n"},
		{"CONFIG GET appendfsync", "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"},
		{"CONFIG SET appendfsync everysec", "+OK\r\n"},
		{"CONFIG GET tiermem-durability", "*2\r\n$18\r\ntiermem-durability\r\n$12\r\nevery-second\r\n"},
		{"CONFIG SET appendfsync no", "+OK\r\n"},
		{"CONFIG GET tiermem-durability", "*2\r\n$18\r\ntiermem-durability\r\n$4\r\nnone\r\n"},
		{"CONFIG SET tiermem-durability sometimes", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-durability') - argument must be one of the following: none, every-second, always\r\n"},
		{"CONFIG SET appendfsync sometimes", "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no\r\n"},
		{"CONFIG SET appendfsync always tiermem-durability none", "-ERR CONFIG SET failed (possibly related to argument 'tiermem-durability') - duplicate parameter\r\n"},
		{"GET before-durable", "$1\r\nv\r\n"},
		{"CONFIG SET maxclients 2 requirepass secret", "+OK\r\n"},
		{"CONFIG GET maxclients", "*2\r\n$10\r\nmaxclients\r\n$1\r\n2\r\n"},
	} {
		if got := string(c.do(strings.Fields(st.args)...)); got != st.want {
			t.Errorf("%s = %q, want %q", st.args, got, st.want)
		}
	}
	if got := string(c.do("CONFIG", "GET", "tiermem-*")); strings.Count(got, "tiermem-") != 8 || !strings.Contains(got, "tiermem-hot-policy\r\n$4\r\nauto\r\n") {
		t.Errorf("CONFIG GET tiermem-* = %q", got)
	}
	d := dial(t, addr) // the second client: maxclients 2 lets it in, with a password to give
	if r := string(d.do("GET", "k")); r != "-NOAUTH Authentication required.\r\n" {
		t.Errorf("a new client after CONFIG SET requirepass: %q", r)
	}
	if r := string(d.do("AUTH", "secret")); r != "+OK\r\n" {
		t.Errorf("AUTH with the new password: %q", r)
	}
	e := dial(t, addr) // the third
	if r := string(e.reply()); r != "-ERR max number of clients reached\r\n" {
		t.Errorf("past maxclients: %q", r)
	}
	if r := string(c.do("GET", "k")); r != "$-1\r\n" { // authenticated before the password was set
		t.Errorf("an older client after CONFIG SET requirepass: %q", r)
	}
	c.do("CONFIG", "SET", "requirepass", "")
	c.do("CONFIG", "SET", "maxclients", "10")
}

// TestRenameKeepsArraysAndTiers: RENAME and COPY over RESP keep an
// array's kind and the tier the key is in.
func TestRenameKeepsArraysAndTiers(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	c := dial(t, addr)
	a := tiermem.NewArray([]int32{1, 2, 3}, 3)
	if err := m.StoreArray("arr", a, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	if r := string(c.do("RENAME", "arr", "arr2")); r != "+OK\r\n" {
		t.Fatalf("RENAME = %q", r)
	}
	if r := string(c.do("COPY", "arr2", "arr3")); r != ":1\r\n" {
		t.Fatalf("COPY = %q", r)
	}
	for _, k := range []string{"arr2", "arr3"} {
		got, err := m.RetrieveArray(k)
		if err != nil || got.String() != "int32[3]" {
			t.Errorf("%s: %v, %v", k, got, err)
		}
		if tr, _ := m.Tier(k); tr != tiermem.Cold {
			t.Errorf("%s in %v, want cold", k, tr)
		}
	}
	if r := string(c.do("TIER.GET", "arr")); r != "$-1\r\n" {
		t.Errorf("the renamed key: %q", r)
	}
}

// TestObjectFreqAndIdletime: FREQ counts reads; IDLETIME gives a hot
// key's seconds since its last use, an error for a key whose tier keeps no
// such time, null for none.
func TestObjectFreqAndIdletime(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	c.do("SET", "k", "v")
	c.do("TIER.MOVE", "k", "cold")
	for range 3 {
		c.do("GET", "k")
	}
	r := string(c.do("OBJECT", "FREQ", "k"))
	if n, err := strconv.Atoi(strings.TrimSpace(r[1:])); r[0] != ':' || err != nil || n < 3 {
		t.Errorf("OBJECT FREQ after 3 reads = %q", r)
	}
	if r := string(c.do("OBJECT", "IDLETIME", "k")); !strings.HasPrefix(r, "-ERR tiermem keeps no idle time for this key") {
		t.Errorf("OBJECT IDLETIME of a cold key = %q", r)
	}
	c.do("SET", "h", "v") // hot: its policy keeps each key's last use
	if r := string(c.do("OBJECT", "IDLETIME", "h")); r != ":0\r\n" {
		t.Errorf("OBJECT IDLETIME of a hot key just set = %q", r)
	}
	if r := string(c.do("OBJECT", "HELP")); !strings.HasPrefix(r, "*11\r\n+OBJECT <subcommand>") {
		t.Errorf("OBJECT HELP = %q", r)
	}
}

// startSaving serves a Manager whose snapshots go to a temporary file,
// and returns the file's path too.
func startSaving(t *testing.T, onShutdown func()) (string, string, *server.Server, *tiermem.Manager) {
	path := filepath.Join(t.TempDir(), "dump.tmsnap")
	addr, srv, m := startTiermem(t, &server.Options{SnapshotPath: path, OnShutdown: onShutdown})
	return addr, path, srv, m
}

// TestBGSaveWhileWritesRun: a BGSAVE beside clients writing ends with a
// snapshot that holds every key acknowledged before it started; INFO and
// LASTSAVE say so.
func TestBGSaveWhileWritesRun(t *testing.T) {
	addr, path, _, _ := startSaving(t, nil)
	c := dial(t, addr)
	for i := range 500 {
		c.do("SET", fmt.Sprintf("before:%d", i), strings.Repeat("v", i))
	}
	before := string(c.do("LASTSAVE"))
	time.Sleep(1100 * time.Millisecond) // LASTSAVE counts seconds
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := dial(t, addr)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if r := string(w.do("SET", fmt.Sprintf("during:%d:%d", g, i%300), "x")); r != "+OK\r\n" {
					t.Errorf("SET during BGSAVE: %q", r)
					return
				}
				w.do("DEL", fmt.Sprintf("before:%d", (i*7+g)%500)) // changes the keys the snapshot copies
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if r := string(c.do("BGSAVE")); r != "+Background saving started\r\n" {
		t.Fatalf("BGSAVE = %q", r)
	}
	if r := string(c.do("BGSAVE")); r != "+Background saving started\r\n" && r != "-ERR Background save already in progress\r\n" {
		t.Fatalf("a second BGSAVE = %q", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Contains(string(c.do("INFO", "persistence")), "rdb_bgsave_in_progress:1") {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE still running after 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	info := string(c.do("INFO", "persistence"))
	if !strings.Contains(info, "rdb_last_bgsave_status:ok") || !regexp.MustCompile(`rdb_saves:[12]\r\n`).MatchString(info) {
		t.Fatalf("INFO persistence = %q", info)
	}
	if after := string(c.do("LASTSAVE")); after == before {
		t.Errorf("LASTSAVE %q did not move", after)
	}
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	if n := f.Info().Keys; n < 300 {
		t.Errorf("the snapshot holds %d keys; every before: key but those deleted during it should be there", n)
	}
	if r := string(c.do("SAVE")); r != "+OK\r\n" {
		t.Errorf("SAVE = %q", r)
	}
}

// TestSaveWithoutPath: with no SnapshotPath, SAVE and BGSAVE say so.
func TestSaveWithoutPath(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	for _, cmd := range []string{"SAVE", "BGSAVE"} {
		if r := string(c.do(cmd)); r != "-ERR snapshots are off: the server has no SnapshotPath\r\n" {
			t.Errorf("%s = %q", cmd, r)
		}
	}
}

// TestShutdown: SHUTDOWN SAVE writes the snapshot, calls OnShutdown once
// and closes the connection without a reply; a failed save stops it
// unless FORCE; without OnShutdown it is refused.
func TestShutdown(t *testing.T) {
	called := make(chan struct{}, 2)
	addr, path, _, _ := startSaving(t, func() { called <- struct{}{} })
	c := dial(t, addr)
	c.do("SET", "k", "v")
	c.send(encode("SHUTDOWN", "SAVE"))
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(c.br); len(b) != 0 || err != nil {
		t.Fatalf("SHUTDOWN replied %q, %v; want the connection closed", b, err)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("OnShutdown not called")
	}
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Lookup("k"); err != nil {
		t.Errorf("the snapshot SHUTDOWN SAVE wrote: %v", err)
	}
	f.Close()
	d := dial(t, addr) // the owner has not stopped the server: a second SHUTDOWN does not call it again
	d.send(encode("SHUTDOWN", "NOSAVE"))
	d.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(d.br); len(b) != 0 {
		t.Fatalf("a second SHUTDOWN replied %q", b)
	}
	select {
	case <-called:
		t.Fatal("OnShutdown called twice")
	case <-time.After(50 * time.Millisecond):
	}

	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "dump.tmsnap")
	addr2, _, _ := startTiermem(t, &server.Options{SnapshotPath: bad, OnShutdown: func() { called <- struct{}{} }})
	e := dial(t, addr2)
	if r := string(e.do("SHUTDOWN", "SAVE")); r != "-ERR Errors trying to SHUTDOWN. Check logs.\r\n" {
		t.Fatalf("SHUTDOWN SAVE to a missing directory = %q", r)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a snapshot appeared")
	}
	e.send(encode("SHUTDOWN", "SAVE", "FORCE"))
	e.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(e.br); len(b) != 0 {
		t.Fatalf("SHUTDOWN SAVE FORCE replied %q", b)
	}
	<-called

	addr3, _, _ := startTiermem(t, nil)
	if r := string(dial(t, addr3).do("SHUTDOWN")); r != "-ERR Errors trying to SHUTDOWN. Check logs.\r\n" {
		t.Fatalf("SHUTDOWN with no OnShutdown = %q", r)
	}
}

// TestGoRedisWatch runs go-redis's optimistic transaction helper (Watch,
// TxPipelined, retry on TxFailedErr) from several goroutines, and its
// Rename, Copy, ConfigGet, ClientList and ObjectEncoding.
func TestGoRedisWatch(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 8})
	defer rdb.Close()
	incr := func(key string) error {
		for {
			err := rdb.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, key).Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, key, n+1, 0)
					return nil
				})
				return err
			}, key)
			if !errors.Is(err, redis.TxFailedErr) {
				return err
			}
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if err := incr("counter"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := rdb.Get(ctx, "counter").Int(); err != nil || n != 100 {
		t.Fatalf("counter = %d, %v; want 100", n, err)
	}
	if err := rdb.Rename(ctx, "counter", "c2").Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := rdb.Copy(ctx, "c2", "c3", 0, false).Result(); err != nil || ok != 1 {
		t.Fatalf("Copy = %d, %v", ok, err)
	}
	if enc, err := rdb.ObjectEncoding(ctx, "c3").Result(); err != nil || enc != "int" {
		t.Fatalf("ObjectEncoding = %q, %v", enc, err)
	}
	if cfg, err := rdb.ConfigGet(ctx, "maxclients").Result(); err != nil || cfg["maxclients"] != "10000" {
		t.Fatalf("ConfigGet = %v, %v", cfg, err)
	}
	if list, err := rdb.ClientList(ctx).Result(); err != nil || !strings.Contains(list, "cmd=client|list") {
		t.Fatalf("ClientList = %q, %v", list, err)
	}
}

package server_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
	"github.com/tiermem/tiermem/tier/object"
)

// snapRevSlowGlacier is a glacier store whose reads of the key "slow" take a
// while once armed: a BGSAVE that copies it (glacier values are copied
// by value) then runs for that long, as a large one does.
type snapRevSlowGlacier struct {
	*object.Store
	armed atomic.Bool
	delay time.Duration
}

func (s *snapRevSlowGlacier) ViewMeta(key string, fn func(value, meta []byte) error) error {
	if key == "slow" && s.armed.Load() {
		time.Sleep(s.delay)
	}
	return s.Store.ViewMeta(key, fn)
}

// TestSnapshotHostileBGSaveDoesNotFreezeTheServer: BGSAVE writes the snapshot
// "by a goroutine of its own" and SAVE "serves the other clients while it
// runs" (persistence.go, package doc). While one runs, a CONFIG SET
// tiermem-durability (README: "CONFIG SET changes ... the durability ...
// at run time") may well wait for it, but it must not stop the other
// clients: here one client's CONFIG SET, waiting for the BGSAVE while it
// holds the server's shared lock, and another's MSET, waiting for the
// exclusive side behind it, hold every other client's PING until the
// BGSAVE ends.
func TestSnapshotHostileBGSaveDoesNotFreezeTheServer(t *testing.T) {
	const delay = 4 * time.Second
	bucket, err := object.OpenDir(filepath.Join(t.TempDir(), "glacier"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := object.Open(bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &snapRevSlowGlacier{Store: st, delay: delay}
	mopts := testOptions()
	mopts.Glacier = tiermem.GlacierOptions{Store: slow}
	path := filepath.Join(t.TempDir(), "dump.tmsnap")
	addr, _, m := startManager(t, t.TempDir(), mopts, &server.Options{SnapshotPath: path})
	if err := m.Store("slow", []byte("archived"), tiermem.InTier(tiermem.Glacier)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	c.do("SET", "a", "0")
	slow.armed.Store(true)
	if r := string(c.do("BGSAVE")); r != "+Background saving started\r\n" {
		t.Fatalf("BGSAVE = %q", r)
	}
	time.Sleep(300 * time.Millisecond) // the BGSAVE reaches the slow key
	cfg := dial(t, addr)
	cfgDone := make(chan string, 1)
	go func() { cfgDone <- string(cfg.do("CONFIG", "SET", "tiermem-durability", "always")) }()
	time.Sleep(300 * time.Millisecond)
	ms := dial(t, addr)
	msDone := make(chan string, 1)
	go func() { msDone <- string(ms.do("MSET", "a", "1", "b", "1")) }()
	time.Sleep(300 * time.Millisecond)

	p := dial(t, addr)
	start := time.Now()
	r := string(p.do("PING"))
	took := time.Since(start)
	if r != "+PONG\r\n" {
		t.Errorf("PING = %q", r)
	}
	if got := <-cfgDone; got != "+OK\r\n" {
		t.Errorf("CONFIG SET = %q", got)
	}
	if got := <-msDone; got != "+OK\r\n" {
		t.Errorf("MSET = %q", got)
	}
	if took > delay/2 {
		t.Errorf("a PING from an unrelated client took %v during a BGSAVE (the BGSAVE's copy took %v): the whole server stood still", took.Round(time.Millisecond), delay)
	}
}

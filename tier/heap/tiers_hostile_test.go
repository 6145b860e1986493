package heap

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestHostileRoomFitsAtMaxEntry: every entry Put, SetMeta and Prepare take
// (key, value and meta up to maxEntry bytes, every padding) has a room that
// fits a slot's uint32 with metaRoom and the rounding alloc adds (whole
// pages, at this size): at the old
// limit (MaxUint32 - 8) the room wrapped, and a Put just under it panicked
// (slice bounds out of range). Checked on the arithmetic: a real entry of
// 4 GiB is more memory than a test may take.
func TestHostileRoomFitsAtMaxEntry(t *testing.T) {
	for _, keyLen := range []int{1, 2, 7, 8, 9, 1 << 16} {
		for _, metaLen := range []int{0, 1, 9, 255} {
			valueLen := maxEntry - keyLen - metaLen
			if !fitsEntry(keyLen, valueLen, metaLen) {
				t.Fatalf("key %d, meta %d: %d bytes of value, maxEntry in all, refused", keyLen, metaLen, valueLen)
			}
			n := entryBytes(keyLen, valueLen, metaLen)
			if room := int64(roomFor(n)); room > math.MaxUint32 {
				t.Errorf("key %d, meta %d: an entry of maxEntry bytes needs a room of %d, past a slot's uint32", keyLen, metaLen, room)
			}
		}
	}
	if fitsEntry(1, maxEntry, 0) {
		t.Error("an entry past maxEntry fits")
	}
}

// TestHostileClockReplacedKeyIsNotIdle: under CLOCK, Idle reports the keys
// "not read since the previous call to Idle (or since it was stored)": a key
// replaced by Put, by a prepared value, or given new meta after an Idle was
// stored since, and the next Idle does not report it (nor may the next
// Victim take it first), as in the warm store.
func TestHostileClockReplacedKeyIsNotIdle(t *testing.T) {
	s := New()
	defer s.Close()
	for _, k := range []string{"put", "prepared", "setmeta"} {
		if _, err := s.Put(k, []byte("first"), nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Idle(func(string, []byte) bool { return true }) // stored since: none idle; the words are cleared
	if _, err := s.Put("put", []byte("second"), nil); err != nil {
		t.Fatal(err)
	}
	p, err := s.Prepare("prepared", 6, 0)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Value(), "second")
	if _, err := p.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMeta("setmeta", []byte("m"), 1<<20); err != nil {
		t.Fatal(err)
	}
	var idle []string
	s.Idle(func(key string, _ []byte) bool { idle = append(idle, key); return true })
	if len(idle) > 0 {
		t.Errorf("Idle reported %q, stored after the previous Idle", idle)
	}
}

// TestHostileUsedCountsTheMemoryOfRewrittenEntries: Used counts the memory
// entries hold: a value replaced by one three quarters its size gets an
// allocation of its own size (a rewrite in place kept the old allocation
// while Used dropped to the new size: a tier full to its budget whose values
// were rewritten a little smaller held a third more memory than it counted).
func TestHostileUsedCountsTheMemoryOfRewrittenEntries(t *testing.T) {
	s := New()
	defer s.Close()
	const keys, big, small = 2000, 4000, 3001
	live := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	value := make([]byte, big)
	base := live()
	for i := range keys {
		if _, err := s.Put(fmt.Sprint("key", i), value, nil); err != nil {
			t.Fatal(err)
		}
	}
	before := live() - base
	for i := range keys {
		if _, err := s.Put(fmt.Sprint("key", i), value[:small], nil); err != nil {
			t.Fatal(err)
		}
	}
	after := live() - base
	if after*100 > s.Used()*115 {
		t.Errorf("the entries take %d bytes of heap (%d before the rewrites), Used says %d", after, before, s.Used())
	}
}

// TestHostileVictimKeyDoesNotPinTheEntry: the key Victim returns is the
// caller's to keep (the Manager demotes it, and may file it with the cold
// tier's victims): a copy, not a string over the entry's allocation, which
// kept the whole entry, a 1 MiB value under a 1-byte key here, alive after
// the entry was deleted.
func TestHostileVictimKeyDoesNotPinTheEntry(t *testing.T) {
	s := New()
	defer s.Close()
	if _, err := s.Put("k", make([]byte, 1<<20), nil); err != nil {
		t.Fatal(err)
	}
	key, ok := s.Victim(nil)
	if !ok {
		t.Fatal("no victim in a store of one key")
	}
	if _, err := s.Delete(key); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		runtime.GC()
		if s.Held() == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // cleanups run after the collection
	}
	if h := s.Held(); h != 0 {
		t.Errorf("the victim's key %q keeps %d bytes of its deleted entry alive", key, h)
	}
	runtime.KeepAlive(key)
}

// TestHostileClockIdleAfterASweepReportsNoReadKey: Idle reports only the
// keys not read since the previous Idle, whatever Victim's sweeps did in
// between: a sweep clears the hand's reference bit, not Idle's mark (one
// bit served both, and a key read since the last Idle and then passed over
// by a sweep was reported idle, for the Manager to demote).
func TestHostileClockIdleAfterASweepReportsNoReadKey(t *testing.T) {
	s := New()
	defer s.Close()
	for _, k := range []string{"read", "unread"} {
		if _, err := s.Put(k, []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	idle := func() []string {
		var keys []string
		s.Idle(func(key string, _ []byte) bool { keys = append(keys, key); return true })
		slices.Sort(keys)
		return keys
	}
	idle() // both were stored since: none idle, marks cleared
	if got := idle(); !slices.Equal(got, []string{"read", "unread"}) {
		t.Fatalf("Idle = %q, want both", got)
	}
	if _, err := s.Get("read", nil); err != nil {
		t.Fatal(err)
	}
	s.Victim(func(string, []byte) bool { return true }) // a sweep over every key, taking none
	if got := idle(); !slices.Equal(got, []string{"unread"}) {
		t.Errorf("Idle after a read of %q and a sweep = %q, want only the unread key", "read", got)
	}
}

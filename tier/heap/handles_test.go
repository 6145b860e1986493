package heap

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestDeletedEntryIsCollected: once deleted, an entry's data (key, value,
// meta) is garbage, though its policy handle waits in the shard's pool for
// the next new key: the handle must not keep its old key, a string over
// that data.
func TestDeletedEntryIsCollected(t *testing.T) {
	s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Put("k", make([]byte, 1<<20), nil)
	collected := watchData(t, s, "k")
	s.Touch("k") // a read waiting in the buffer holds the handle, not the data
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if !waitCollected(collected) {
		t.Fatal("a deleted entry's data is still reachable")
	}
}

// watchData returns a channel closed once key's entry data is collected.
func watchData(t *testing.T, s *Store, key string) <-chan struct{} {
	t.Helper()
	sh, h := s.shard(key)
	e, ok := sh.values.get(key, h)
	if !ok {
		t.Fatalf("%q is not in its shard", key)
	}
	collected := make(chan struct{})
	runtime.SetFinalizer(e.data, func(*byte) { close(collected) })
	return collected
}

// waitCollected runs the collector until collected is closed, and reports
// whether it was, within 20 collections.
func waitCollected(collected <-chan struct{}) bool {
	for range 20 {
		runtime.GC()
		select {
		case <-collected:
			return true
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}

// TestNewKeysReuseHandles: in a store whose keys come and go, a new key
// takes the handle of a deleted one, so that storing it allocates its data
// alone.
func TestNewKeysReuseHandles(t *testing.T) {
	s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("key", i)
		s.Put(keys[i], []byte("v"), nil)
	}
	const n = 3200
	for _, k := range keys { // each shard's list of free handles, made once
		s.Delete(k)
		s.Put(k, []byte("v"), nil)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		k := keys[i%len(keys)]
		s.Delete(k)
		s.Put(k, []byte("v"), nil)
	}
	runtime.ReadMemStats(&after)
	// A handle for each new key would be n more.
	if allocs := after.Mallocs - before.Mallocs; allocs > n+n/32 {
		t.Fatalf("%d Deletes and Puts of a new key allocated %d times, want at most %d (the data, and a few)", n, allocs, n+n/32)
	}
}

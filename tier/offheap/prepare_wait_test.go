package offheap

import (
	"testing"
	"time"
)

// TestPrepareLookupsNeverWaits: PrepareLookups is a hint, so it returns
// while a key's shard is held for writing instead of waiting for it, and
// reads the other keys.
func TestPrepareLookupsNeverWaits(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"held", "free"} {
		if _, err := s.Put(k, []byte("value"), nil); err != nil {
			t.Fatal(err)
		}
	}
	sh := s.shardOf(Hash("held"))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.PrepareLookups([][]byte{[]byte("held"), []byte("free")})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("PrepareLookups waited for a shard held for writing")
	}
}

package heap

import (
	"testing"
	"time"
)

// TestPrepareLookupsNeverWaits: PrepareLookups is a hint, so it returns
// while a key's shard is held for writing (a Put of a new key holds it for
// its insert) instead of waiting for it, and reads the other keys.
func TestPrepareLookupsNeverWaits(t *testing.T) {
	s := New()
	for _, k := range []string{"held", "free"} {
		if _, err := s.Put(k, []byte("value"), nil); err != nil {
			t.Fatal(err)
		}
	}
	sh, _ := s.shard("held")
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

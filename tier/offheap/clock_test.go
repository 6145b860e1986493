package offheap_test

import (
	"fmt"
	"testing"
)

func TestClockGivesReadKeysASecondChance(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	for i := range 10 {
		if _, err := s.Put(fmt.Sprint("k", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh key counts as referenced: the first victims come once the hand
	// has cleared every bit. Keys read after that are spared.
	first, ok := s.Victim(nil)
	if !ok {
		t.Fatal("no victim among 10 keys")
	}
	s.Delete(first)
	for i := range 10 {
		if k := fmt.Sprint("k", i); k != first && i%2 == 0 {
			s.Get(k, nil)
		}
	}
	for range 4 {
		v, ok := s.Victim(nil)
		if !ok {
			t.Fatal("no victim")
		}
		var n int
		fmt.Sscan(v[1:], &n)
		if n%2 == 0 {
			t.Errorf("victim %s was read since the hand passed", v)
		}
		s.Delete(v)
	}
}

func TestClockSkipsExemptKeys(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	s.Put("pinned", []byte("v"), []byte("P"))
	s.Put("plain", []byte("v"), nil)
	skip := func(_ string, meta []byte) bool { return string(meta) == "P" }
	if v, ok := s.Victim(skip); !ok || v != "plain" {
		t.Fatalf("Victim = %q, %v; want plain", v, ok)
	}
	s.Delete("plain")
	if v, ok := s.Victim(skip); ok {
		t.Errorf("Victim = %q with only an exempt key left", v)
	}
}

func TestIdleFindsUnreadKeys(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	s.Put("read", []byte("v"), nil)
	s.Put("unread", []byte("v"), nil)
	s.Idle(func(string, []byte) bool { return true }) // clears the bits of the fresh keys
	s.Get("read", nil)
	var idle []string
	s.Idle(func(key string, _ []byte) bool { idle = append(idle, key); return true })
	if fmt.Sprint(idle) != "[unread]" {
		t.Errorf("Idle = %v, want [unread]", idle)
	}
}

// TestClockFindsAVictimWhileEverythingIsRead reads every key in a loop while
// the hand sweeps: readers set the bits again as fast as the hand clears
// them, and Victim must still name a key (it once reported none, which the
// Manager took for a tier full of pinned values).
func TestClockFindsAVictimWhileEverythingIsRead(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	for i := range 20 {
		if _, err := s.Put(fmt.Sprint("k", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := range 20 {
				s.Get(fmt.Sprint("k", i), nil)
			}
		}
	}()
	for range 2000 {
		if _, ok := s.Victim(nil); !ok {
			t.Fatal("Victim found none among 20 unpinned keys being read")
		}
	}
	close(stop)
	<-done
	for i := range 20 { // every bit set: the first turn clears them, the second takes one
		s.Get(fmt.Sprint("k", i), nil)
	}
	if _, ok := s.Victim(func(string, []byte) bool { return true }); ok {
		t.Error("Victim named a key that skip exempts")
	}
}

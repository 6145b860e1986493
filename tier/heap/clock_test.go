package heap

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"unsafe"
)

// TestEntryLayoutAndRewrites stores entries of every key, value and meta
// length up to 100 bytes over one another: each must read back whole, a
// rewrite that rounds to the same size must reuse the entry's data, the key
// a caller got before (from Scan, as the Manager keeps victims' keys) must
// never change, and the entry's word must say it was referenced.
func TestEntryLayoutAndRewrites(t *testing.T) {
	s := New()
	defer s.Close()
	step := 1
	if testing.Short() {
		step = 3
	}
	for kl := 1; kl <= 100; kl += step {
		key := string(bytes.Repeat([]byte{'k'}, kl-1)) + fmt.Sprint(kl%10)
		var kept string // a key string handed out earlier
		for vl := 0; vl <= 100; vl += step {
			value := bytes.Repeat([]byte{0xa5}, vl)
			for ml := 0; ml <= 100; ml += step {
				meta := bytes.Repeat([]byte{0x5a}, ml)
				sh, h := s.shard(key)
				before, had := sh.values.get(key, h)
				data, room := before.data, int(before.room)
				if had {
					before.word().Store(-7)
				}
				if _, err := s.Put(key, value, meta); err != nil {
					t.Fatal(err)
				}
				e, _ := sh.values.get(key, h)
				need := kl + vl + ml
				if had && roomFor(need) == room && e.data != data {
					t.Fatalf("key %d, value %d, meta %d: not written in place (room %d)", kl, vl, ml, room)
				}
				if had && e.word().Load() != referencedWord { // a store is a reference under CLOCK, moved or not
					t.Fatalf("key %d, value %d, meta %d: the word is %d after a Put", kl, vl, ml, e.word().Load())
				}
				if uintptr(unsafe.Pointer(e.word()))%8 != 0 {
					t.Fatalf("key %d, value %d, meta %d: the word at %p", kl, vl, ml, e.word())
				}
				if err := s.ViewMeta(key, func(v, m []byte) error {
					if !bytes.Equal(v, value) || !bytes.Equal(m, meta) || cap(v) != len(v) {
						return fmt.Errorf("value %x (cap %d) meta %x", v, cap(v), m)
					}
					return nil
				}); err != nil {
					t.Fatalf("key %d, value %d, meta %d: %v", kl, vl, ml, err)
				}
				if kept != "" && kept != key {
					t.Fatalf("a key handed out earlier became %q", kept)
				}
				s.Scan(func(k string, _ []byte, _ int64) error {
					if k == key {
						kept = k
					}
					return nil
				})
			}
		}
	}
}

// TestClockWhileWriting sweeps (Victim and Idle) while writers put,
// replace and delete keys and readers view them; a held View's value must
// never change under the reader, and victims must be keys the store holds
// or held a moment ago.
func TestClockWhileWriting(t *testing.T) {
	whileWriting(t, New())
}

// whileWriting is TestClockWhileWriting's body for any store; readers also
// Touch what they view.
func whileWriting(t *testing.T, s *Store) {
	defer s.Close()
	const keys = 64
	val := func(k, ver int) []byte { return bytes.Repeat([]byte{byte(k), byte(ver)}, 1+k%37) }
	for k := range keys {
		s.Put(fmt.Sprint("k", k), val(k, 0), []byte{byte(k)})
	}
	rounds := 1500
	var wg, writers sync.WaitGroup
	errs := make(chan error, 16)
	stop := make(chan struct{})
	for g := range 2 { // writers
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range rounds {
				k := (i*5 + g) % keys
				key := fmt.Sprint("k", k)
				if i%7 == 0 {
					s.Delete(key)
				}
				s.Put(key, val(k, i), []byte{byte(k)})
			}
		}()
	}
	for range 2 { // readers holding views
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := i % keys
				s.ViewMeta(fmt.Sprint("k", k), func(v, m []byte) error {
					before := bytes.Clone(v)
					for range 50 {
						if !bytes.Equal(v, before) {
							errs <- fmt.Errorf("k%d: the value changed during a View", k)
							return nil
						}
					}
					if len(m) != 1 || m[0] != byte(k) || len(v) != 2*(1+k%37) || v[0] != byte(k) {
						errs <- fmt.Errorf("k%d: value %x meta %x", k, v, m)
					}
					return nil
				})
				s.Touch(fmt.Sprint("k", k))
			}
		}()
	}
	wg.Add(1)
	go func() { // the hand
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if v, ok := s.Victim(nil); ok {
				var k int
				if _, err := fmt.Sscanf(v, "k%d", &k); err != nil || k >= keys {
					errs <- fmt.Errorf("Victim named %q", v)
				}
			}
			s.Idle(func(key string, meta []byte) bool {
				if len(meta) != 1 || key != fmt.Sprint("k", meta[0]) {
					errs <- fmt.Errorf("Idle: key %q with meta %x", key, meta)
				}
				return true
			})
		}
	}()
	writers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClockSparesWhatWasReadUntilTheHandComesBack: after the hand has
// given every key its second chance, half the keys are read again; every
// key not read must be taken before any key that was, since CLOCK takes a
// read key only once the hand, having cleared its word, comes back round
// to it. (The hand used to stay in a shard after a victim and sweep it
// again in a new random order, where the words it had just cleared made
// the read keys victims at once; the conformance check ClockSecondChance
// caught it in about one run in ten.)
func TestClockSparesWhatWasReadUntilTheHandComesBack(t *testing.T) {
	s := New()
	defer s.Close()
	const n = 1000
	for i := range n {
		s.Put(fmt.Sprint("k", i), []byte("v"), nil)
	}
	first, ok := s.Victim(nil) // a full turn: every word cleared
	if !ok {
		t.Fatal("no victim")
	}
	s.Delete(first)
	unread := 0
	for i := range n {
		key := fmt.Sprint("k", i)
		if key == first {
			continue
		}
		if i%2 == 0 {
			s.View(key, func([]byte) error { return nil })
		} else {
			unread++
		}
	}
	for v := range unread {
		key, ok := s.Victim(nil)
		if !ok {
			t.Fatal("no victim")
		}
		var i int
		fmt.Sscanf(key, "k%d", &i)
		if i%2 == 0 {
			t.Fatalf("victim %d of %d unread keys is %s, read since the hand cleared its word", v+1, unread, key)
		}
		s.Delete(key)
	}
}

// TestPolicyWhileWriting is TestClockWhileWriting on a store with a policy.
func TestPolicyWhileWriting(t *testing.T) {
	s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	whileWriting(t, s)
}

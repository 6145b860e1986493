package offheap

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// TestHostileValueLenOfADamagedValueIsErrCorrupt: a compressed value that no
// longer decodes is ErrCorrupt for Get and ScanValues; ValueLen, which
// reads the length from the same damaged bytes, must say ErrCorrupt too,
// naming the key, not hand back the codec's bare error.
func TestHostileValueLenOfADamagedValueIsErrCorrupt(t *testing.T) {
	s, err := New(&Options{Capacity: 16 << 20, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put("k", bytes.Repeat([]byte("compressible "), 200), nil); err != nil {
		t.Fatal(err)
	}
	damage(t, s, "k")
	if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Get of the damaged value = %v, want ErrCorrupt", err)
	}
	if n, err := s.ValueLen("k"); !errors.Is(err, tier.ErrCorrupt) {
		t.Errorf("ValueLen of the damaged value = %d, %v; want an error wrapping ErrCorrupt", n, err)
	}
}

// TestHostileOptionsWithinTheirDocumentedRanges: a store of a few MiB with
// the default MaxSmall, or one of 64 MiB (what the Manager makes for a small
// warm budget) with the largest MaxSmall allowed, opens and holds a value:
// the slab's span follows MaxSmall as well as the capacity (New failed with
// the slab's bare "invalid size or alignment").
func TestHostileOptionsWithinTheirDocumentedRanges(t *testing.T) {
	for _, o := range []Options{
		{Capacity: 4 << 20},                     // default MaxSmall, 64 KiB
		{Capacity: 1 << 20},                     // default MaxSmall
		{Capacity: 64 << 20, MaxSmall: 1 << 20}, // the largest MaxSmall documented
	} {
		s, err := New(&o)
		if err != nil {
			t.Errorf("New(Capacity %d, MaxSmall %d): %v", o.Capacity, o.MaxSmall, err)
			continue
		}
		if _, err := s.Put("k", make([]byte, 30<<10), nil); err != nil {
			t.Errorf("Capacity %d, MaxSmall %d: Put of 30 KiB: %v", o.Capacity, o.MaxSmall, err)
		}
		s.Close()
	}
}

// TestHostileIndexShrinksAfterDeletes: the process's resident memory
// follows what is stored, deletes included: a store that held many keys and
// lost them (a warm tier drained by demotion) gives its index back, which
// Used no longer charges once the keys are gone (it stayed at its peak:
// 3.8 MiB for 100 keys after 200,000 came and went).
func TestHostileIndexShrinksAfterDeletes(t *testing.T) {
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	atNew := s.Stats().IndexBytes
	const peak = 200_000
	for i := range peak {
		if _, err := s.Put(fmt.Sprint("k", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	high := s.Stats().IndexBytes
	for i := range peak {
		if _, err := s.Delete(fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20_000 { // used again, with about 100 keys live
		if _, err := s.Put(fmt.Sprint("j", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		if i >= 100 {
			if _, err := s.Delete(fmt.Sprint("j", i-100)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if now := s.Stats().IndexBytes; now > 2*atNew {
		t.Errorf("index: %d bytes at New, %d at the peak of %d keys, %d with 100 keys left", atNew, high, peak, now)
	}
	for i := 19_900; i < 20_000; i++ {
		if v, err := s.Get(fmt.Sprint("j", i), nil); err != nil || string(v) != "v" {
			t.Fatalf("j%d after the index shrank: %q, %v", i, v, err)
		}
	}
}

// TestHostileIdleAfterASweepReportsNoReadKey: Idle reports only the keys
// not read since the previous Idle, whatever Victim's sweeps did in
// between: a sweep clears the hand's reference bit, not Idle's (one bit
// served both, and a key read since the last Idle and then passed over by a
// sweep was reported idle, for the Manager to demote to disk).
func TestHostileIdleAfterASweepReportsNoReadKey(t *testing.T) {
	s, err := New(&Options{Capacity: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
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
	idle() // both were stored since: none idle, bits cleared
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

package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem"
)

// TestKeysOverReusedMemory passes every key as a string over one buffer
// that is overwritten after each call, as a server that reads keys off the
// network would: the Manager must copy whatever key it keeps (the hot
// store's map, the cold index, the victims, the TTL queue, the promotion
// queue), or keys go missing or change.
func TestKeysOverReusedMemory(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: time.Hour, PromoteHits: 2})
	buf := make([]byte, 0, 32)
	key := func(i int) string {
		buf = fmt.Appendf(buf[:0], "key-%04d", i)
		return unsafe.String(unsafe.SliceData(buf), len(buf))
	}
	scribble := func() { copy(buf[:cap(buf)], bytes.Repeat([]byte{'#'}, cap(buf))) }
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i := range 60 {
		must(t, m.Store(key(i), []byte(fmt.Sprint("value ", i)), tiermem.InTier(tiers[i%3]), tiermem.WithTTL(time.Hour)))
		scribble()
	}
	for range 3 { // reads that earn promotion and touch the victims
		for i := range 60 {
			_, err := m.Retrieve(key(i))
			must(t, err)
			scribble()
			must(t, m.View(key(i), func([]byte) error { return nil }))
			scribble()
		}
	}
	clock.Advance(time.Minute)
	must(t, m.Migrate())
	for i := range 60 {
		k := fmt.Sprintf("key-%04d", i) // a string of its own
		if got, err := m.Retrieve(k); err != nil || string(got) != fmt.Sprint("value ", i) {
			t.Fatalf("%s after reads over reused memory: %q, %v", k, got, err)
		}
	}
	u := m.Usage()
	if n := u[tiermem.Hot].Items + u[tiermem.Warm].Items + u[tiermem.Cold].Items; n != 60 {
		t.Errorf("the tiers hold %d keys, want 60", n)
	}
}

// TestByteKeysAllocateNothingOnAHit reads present keys from every tier
// through the byte-key variants, with the key buffer rewritten between
// calls: no allocation per hit, and the values stay under their own keys.
func TestByteKeysAllocateNothingOnAHit(t *testing.T) {
	m := open(t, nil)
	key := make([]byte, 0, 16)
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i, tr := range tiers {
		key = fmt.Appendf(key[:0], "key-%d", i)
		must(t, m.StoreBytes(key, []byte(fmt.Sprint("value ", i)), tiermem.InTier(tr)))
	}
	dst := make([]byte, 0, 64)
	for i, tr := range tiers {
		key = fmt.Appendf(key[:0], "key-%d", i)
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if dst, err = m.RetrieveAppendBytes(dst[:0], key); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !raceEnabled { // the race detector makes sync.Pool drop what it is given
			t.Errorf("RetrieveAppendBytes from the %s tier: %.1f allocations per hit, want 0", tr, allocs)
		}
		if want := fmt.Sprint("value ", i); string(dst) != want {
			t.Errorf("key-%d: %q, want %q", i, dst, want)
		}
		views := testing.AllocsPerRun(100, func() { must(t, m.ViewBytes(key, func([]byte) error { return nil })) })
		if tr != tiermem.Cold && views != 0 && !raceEnabled { // a cold View reads into a pooled buffer
			t.Errorf("ViewBytes from the %s tier: %.1f allocations per hit, want 0", tr, views)
		}
	}
	must(t, m.DeleteBytes(key))
	if _, err := m.RetrieveAppendBytes(nil, key); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after DeleteBytes: %v, want ErrNotFound", err)
	}
}

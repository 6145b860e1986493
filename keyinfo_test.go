package tiermem_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func TestScanInfo(t *testing.T) {
	m := open(t, nil)
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}
	for i, tr := range tiers {
		must(t, m.Store(fmt.Sprint("k", i), noise(1000*(i+1)), tiermem.InTier(tr)))
	}
	must(t, m.Store("ttl", []byte("x"), tiermem.InTier(tiermem.Cold), tiermem.WithTTL(time.Hour)))
	must(t, m.Store("pinned", []byte("x"), tiermem.InTier(tiermem.Warm), tiermem.Pinned()))
	must(t, m.Copy("k0", tiermem.Cold)) // in two tiers: listed in both
	before, err := m.ReadCount("k2")
	must(t, err)

	got := map[string][]tiermem.KeyInfo{}
	must(t, m.ScanInfo(func(k tiermem.KeyInfo) bool {
		k.Key = strings.Clone(k.Key)
		got[k.Key] = append(got[k.Key], k)
		return true
	}))
	if len(got) != 6 {
		t.Fatalf("%d keys listed, want 6: %v", len(got), got)
	}
	for i, tr := range tiers {
		infos := got[fmt.Sprint("k", i)]
		if infos[0].Tier != tr || infos[0].Size < int64(1000*(i+1)) || infos[0].Pinned || !infos[0].Expires.IsZero() {
			t.Errorf("k%d: %+v, want tier %v and a size of at least %d", i, infos[0], tr, 1000*(i+1))
		}
	}
	if ks := got["k0"]; len(ks) != 2 || ks[1].Tier != tiermem.Cold {
		t.Errorf("k0, copied to cold: %+v", ks)
	}
	want, err := m.ExpireTime("ttl")
	must(t, err)
	if ks := got["ttl"]; !ks[0].Expires.Equal(want) {
		t.Errorf("ttl expires %v, want %v", ks[0].Expires, want)
	}
	if ks := got["pinned"]; !ks[0].Pinned || ks[0].Tier != tiermem.Warm {
		t.Errorf("pinned: %+v", ks[0])
	}
	// Nothing was read: no read counted, the cold key is still in cold.
	after, err := m.ReadCount("k2")
	must(t, err)
	if after != before || tierOf(t, m, "k2") != tiermem.Cold {
		t.Errorf("k2 after ScanInfo: read count %d (was %d), tier %v", after, before, tierOf(t, m, "k2"))
	}
	// fn returning false stops it.
	n := 0
	must(t, m.ScanInfo(func(tiermem.KeyInfo) bool { n++; return n < 2 }))
	if n != 2 {
		t.Errorf("stopped after %d calls, want 2", n)
	}
}

// noise returns n bytes that do not compress.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestScanInfoExpired(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	must(t, m.Store("short", []byte("x"), tiermem.WithTTL(time.Second)))
	must(t, m.Store("long", []byte("x"), tiermem.WithTTL(time.Hour)))
	clock.Advance(time.Minute)
	var keys []string
	must(t, m.ScanInfo(func(k tiermem.KeyInfo) bool { keys = append(keys, strings.Clone(k.Key)); return true }))
	if len(keys) != 1 || keys[0] != "long" {
		t.Errorf("listed %q, want only long", keys)
	}
}

// TestScanInfoConcurrent lists while stores, moves, deletes and a Close
// run: no race, every error is ErrClosed, and a key that stays put is
// always listed.
func TestScanInfoConcurrent(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("steady", []byte("x"), tiermem.InTier(tiermem.Warm)))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprint("w", w, "-", i%50)
				if m.Store(key, make([]byte, 100*(i%7)), tiermem.InTier(tiermem.Tier(i%3))) != nil {
					return
				}
				m.Move(key, tiermem.Tier((i+1)%3))
				if i%5 == 0 {
					m.Delete(key)
				}
			}
		})
	}
	for range 50 {
		steady := false
		err := m.ScanInfo(func(k tiermem.KeyInfo) bool {
			steady = steady || k.Key == "steady"
			return true
		})
		must(t, err)
		if !steady {
			t.Fatal("the steady key was not listed")
		}
	}
	done := make(chan error)
	go func() {
		for {
			if err := m.ScanInfo(func(tiermem.KeyInfo) bool { return true }); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	must(t, m.Close())
	if err := <-done; !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("ScanInfo during Close: %v", err)
	}
	close(stop)
	wg.Wait()
}

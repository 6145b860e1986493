package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/object"
)

// TestTakeValueWhoseGlacierDeleteIsNotDurable: with a durable log, a key
// held only in glacier, and a bucket that refuses writes (reads work),
// TakeValue cannot make glacier's record of the delete durable: it says so,
// and hands over the value all the same, as the key reads as deleted; the
// value is never lost between the two.
func TestTakeValueWhoseGlacierDeleteIsNotDurable(t *testing.T) {
	bucket := &putDown{Bucket: object.NewMem()}
	m := open(t, hostileOptions(hostileStore(t, bucket), tiermem.Always))
	t.Cleanup(func() { bucket.down.Store(false) })
	want := []byte("the only copy")
	must(t, m.Store("k", want, tiermem.InTier(tiermem.Glacier)))
	bucket.down.Store(true)
	v, err := m.TakeValue("k")
	if err == nil || v == nil {
		t.Fatalf("TakeValue while glacier refuses writes = %v, %v; want the reader and an error", v, err)
	}
	got, rerr := readValue(v)
	v.Close()
	if rerr != nil || !bytes.Equal(got, want) {
		t.Errorf("the reader handed over with %v: %q, %v; want %q", err, got, rerr, want)
	}
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve after the take = %v, want ErrNotFound", err)
	}
}

// TestTakeValueCountsAsOpenValue: TakeValue counts in analytics as
// OpenValue does: an absent key and an expired key are misses, a present
// one a hit.
func TestTakeValueCountsAsOpenValue(t *testing.T) {
	for _, take := range []bool{false, true} {
		m, clock := openAnalytics(t)
		must(t, m.EnableAnalytics(time.Hour))
		must(t, m.Store("short", []byte("v"), tiermem.WithTTL(time.Second)))
		must(t, m.Store("here", []byte("v")))
		clock.Advance(time.Minute)
		for _, key := range []string{"absent", "short", "here"} {
			var v *tiermem.ValueReader
			var err error
			if take {
				v, err = m.TakeValue(key)
			} else {
				v, err = m.OpenValue(key)
			}
			if err == nil {
				v.Close()
			} else if !errors.Is(err, tiermem.ErrNotFound) {
				t.Fatal(err)
			}
		}
		m.DisableAnalytics()
		s := m.Analytics()[0]
		name := map[bool]string{false: "OpenValue", true: "TakeValue"}[take]
		if s.Hits != 1 || s.Misses != 2 {
			t.Errorf("%s of an absent, an expired and a present key: %d hits, %d misses; want 1 and 2", name, s.Hits, s.Misses)
		}
	}
}

// TestTakenWarmMappingIsNotReused: a large warm value taken while
// writers keep storing values of the same size into warm (whose freed
// mappings are kept as spares for the next large record): the taken
// reader never shows another value's bytes, before or after the writes.
func TestTakenWarmMappingIsNotReused(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 32 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20},
		Glacier: tiermem.GlacierOptions{Disabled: true}})
	const size = 256 << 10
	done := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if err := m.Store(fmt.Sprint("k", i%3), bytes.Repeat([]byte{byte(i)}, size), tiermem.InTier(tiermem.Warm)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var held []*tiermem.ValueReader
	var firsts []byte
	for i := 0; i < 300; i++ {
		v, err := m.TakeValue(fmt.Sprint("k", i%3))
		if errors.Is(err, tiermem.ErrNotFound) {
			continue
		}
		must(t, err)
		got, err := readValue(v)
		must(t, err)
		if !bytes.Equal(got, bytes.Repeat(got[:1], len(got))) {
			t.Fatalf("a torn value taken")
		}
		held = append(held, v)
		firsts = append(firsts, got[0])
		if len(held) > 8 { // check and close the oldest, many stores later
			old := held[0]
			again, err := readValue(old)
			must(t, err)
			if !bytes.Equal(again, bytes.Repeat(firsts[:1], len(again))) {
				t.Fatalf("a taken reader's bytes changed after the key was stored again")
			}
			old.Close()
			held, firsts = held[1:], firsts[1:]
		}
	}
	close(done)
	<-writerDone
	for _, v := range held {
		v.Close()
	}
}

// TestTakeValueOfACorruptValueIsNoHit: a raw cold value found corrupt
// is no hit, for TakeValue as for OpenValue: the read is counted after
// the verifying pass.
func TestTakeValueOfACorruptValueIsNoHit(t *testing.T) {
	dir := t.TempDir()
	m := openUnclosed(t, dir, 1<<20)
	defer m.Close()
	want := seededNoise(3<<20, 9)
	for _, k := range []string{"open", "take"} {
		must(t, m.StoreFrom(k, bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Cold)))
		v, err := m.OpenValue(k) // writes the value out of the cold log's buffer
		must(t, err)
		v.Close()
	}
	if flipped := flipInSegments(t, dir, want, 1<<20, 0x10); flipped != 2 {
		t.Fatalf("flipped %d values, want 2", flipped)
	}
	for _, take := range []bool{false, true} {
		must(t, m.EnableAnalytics(time.Hour))
		var err error
		if take {
			_, err = m.TakeValue("take")
		} else {
			_, err = m.OpenValue("open")
		}
		if !errors.Is(err, tiermem.ErrCorrupt) {
			t.Fatalf("take %v: %v, want ErrCorrupt", take, err)
		}
		m.DisableAnalytics()
		s := m.Analytics()
		if last := s[len(s)-1]; last.Hits != 0 {
			t.Errorf("take %v: a read that returned ErrCorrupt counted as %d hits", take, last.Hits)
		}
	}
}

// TestTakeValueWhileKeysMove: values stored once each under a few keys,
// taken by several goroutines while others Move the keys between tiers
// and run migration passes over small budgets: no value is taken twice
// (a move that copied the value before a take and committed it after
// would bring it back), none is torn.
func TestTakeValueWhileKeysMove(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 10},
		Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: 64 << 20},
		Glacier: tiermem.GlacierOptions{Disabled: true}})
	const keys = 6
	var taken sync.Map
	stop := make(chan struct{})
	var bg, wg sync.WaitGroup
	bg.Go(func() {
		tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.Move(fmt.Sprint("k", i%keys), tiers[i%3])
			if i%16 == 0 {
				m.Migrate()
			}
		}
	})
	wg.Go(func() {
		for i := range 1500 {
			id := fmt.Sprintf("v%d;", i)
			n := 1 + i%3*40000
			if err := m.Store(fmt.Sprint("k", i%keys), bytes.Repeat([]byte(id), n/len(id)+1)); err != nil {
				t.Errorf("Store: %v", err)
				return
			}
		}
	})
	for range 3 {
		wg.Go(func() { takeEach(t, m, keys, 3000, &taken) })
	}
	wg.Wait()
	close(stop)
	bg.Wait()
}

// TestTakeValueRacingClose: TakeValues of cold keys racing Close: each
// hands over its value or is ErrClosed; after a reopen, a key taken is
// gone and a key refused is still there with its value; the readers of
// the taken values read them after Close.
func TestTakeValueRacingClose(t *testing.T) {
	dir := t.TempDir()
	opts := func() *tiermem.Options {
		return &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
			Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20},
			Glacier: tiermem.GlacierOptions{Disabled: true}, Durability: tiermem.Always}
	}
	m, err := tiermem.Open(dir, opts())
	must(t, err)
	const keys = 200
	for i := range keys {
		n := 100
		if i%10 == 0 {
			n = 2 << 20
		}
		must(t, m.StoreFrom(fmt.Sprint("k", i), bytes.NewReader(seededNoise(n, byte(i))), int64(n), tiermem.InTier(tiermem.Cold)))
	}
	results := make([]*tiermem.ValueReader, keys)
	errs := make([]error, keys)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < keys; i += 4 {
				results[i], errs[i] = m.TakeValue(fmt.Sprint("k", i))
			}
		})
	}
	wg.Go(func() { m.Close() })
	wg.Wait()
	m, err = tiermem.Open(dir, opts())
	must(t, err)
	defer m.Close()
	took := 0
	for i := range keys {
		n := 100
		if i%10 == 0 {
			n = 2 << 20
		}
		k := fmt.Sprint("k", i)
		got, rerr := m.Retrieve(k)
		switch {
		case errs[i] == nil:
			took++
			b, err := readValue(results[i])
			results[i].Close()
			if err != nil || !bytes.Equal(b, seededNoise(n, byte(i))) {
				t.Errorf("%s: the taken value read after Close: %d bytes, %v", k, len(b), err)
			}
			if !errors.Is(rerr, tiermem.ErrNotFound) {
				t.Errorf("%s: taken before Close, yet after a reopen Retrieve = %d bytes, %v", k, len(got), rerr)
			}
		case errors.Is(errs[i], tiermem.ErrClosed):
			if rerr != nil || !bytes.Equal(got, seededNoise(n, byte(i))) {
				t.Errorf("%s: TakeValue refused (ErrClosed), yet after a reopen Retrieve = %d bytes, %v", k, len(got), rerr)
			}
		default:
			t.Errorf("%s: TakeValue racing Close: %v", k, errs[i])
		}
	}
	t.Logf("%d of %d taken before Close", took, keys)
}

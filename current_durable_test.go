package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestConditionEveryPathDurableAnalytics: with Durability Always
// and analytics on, a failing condition stops every write path (Store,
// StoreFrom of a known and of an unknown length, StoreArray, DeleteIf)
// into every tier, also for a key with a TTL and a pinned one: the value
// read back, and after a reopen, is the acknowledged one; no room stays
// held, no staging file is left.
func TestConditionEveryPathDurableAnalytics(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 128 << 20}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.EnableAnalytics(time.Hour))
	refuse := errors.New("refused")
	no := tiermem.OnlyIf(func(c *tiermem.Current) error {
		if !c.Found() {
			return fmt.Errorf("the condition saw no value: %w", refuse)
		}
		return refuse
	})
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}
	sizes := []int{100, 100 << 10}
	want := map[string][]byte{}
	i := 0
	for _, tr := range tiers {
		for _, n := range sizes {
			for _, extra := range [][]tiermem.StoreOption{nil, {tiermem.WithTTL(time.Hour)}, {tiermem.Pinned()}} {
				i++
				key := fmt.Sprint(tr, "-", n, "-", len(extra), "-", i)
				old := seededNoise(n, byte(i))
				must(t, m.Store(key, old, append([]tiermem.StoreOption{tiermem.InTier(tr)}, extra...)...))
				want[key] = old
			}
		}
	}
	must(t, m.StoreArray("arr", tiermem.Float64Array(make([]float64, 8), 2, 4)))
	for key, old := range want {
		next := seededNoise(len(old), 200)
		for _, named := range [][]tiermem.StoreOption{nil, {tiermem.InTier(tiermem.Hot)}, {tiermem.InTier(tiermem.Cold)}, {tiermem.InTier(tiermem.Glacier)}} {
			opts := append([]tiermem.StoreOption{no}, named...)
			for name, err := range map[string]error{
				"Store":         m.Store(key, next, opts...),
				"StoreFrom":     m.StoreFrom(key, bytes.NewReader(next), int64(len(next)), opts...),
				"StoreFrom(-1)": m.StoreFrom(key, bytes.NewReader(next), -1, opts...),
				"StoreArray":    m.StoreArray(key, tiermem.Uint8Array(next, len(next)), opts...),
			} {
				if !errors.Is(err, refuse) || err.Error() != refuse.Error() {
					t.Errorf("%s %s %v: %v, want the condition's error", name, key, named, err)
				}
			}
		}
		if err := m.DeleteIf(key, func(*tiermem.Current) error { return refuse }); !errors.Is(err, refuse) {
			t.Errorf("DeleteIf %s: %v", key, err)
		}
	}
	if err := m.StoreArray("arr", tiermem.Float64Array(make([]float64, 8), 4, 2), no); !errors.Is(err, refuse) {
		t.Errorf("StoreArray over an array: %v", err)
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v after refused writes: %+v, room still held", level, u)
		}
	}
	noStagingFiles(t, dir)
	check := func(m *tiermem.Manager, when string) {
		for key, old := range want {
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, old) {
				t.Errorf("%s: %s = %d bytes, %v; want its %d acknowledged bytes", when, key, len(got), err, len(old))
			}
		}
		if a, err := m.RetrieveArray("arr"); err != nil || len(a.Shape) != 2 || a.Shape[0] != 2 {
			t.Errorf("%s: arr = %v, %v", when, a, err)
		}
	}
	check(m, "after refused writes")
	must(t, m.Close())
	m2, err := tiermem.Open(dir, &o)
	must(t, err)
	defer m2.Close()
	check(m2, "after a reopen")
}

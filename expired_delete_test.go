package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestDeleteOfAnExpiredKey: a key whose TTL ran out is not there for
// Delete (ErrNotFound, as Redis's DEL counts it 0), in any tier, and is
// removed all the same; Expiring leaves it out as Len does.
func TestDeleteOfAnExpiredKey(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	for _, level := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		key := fmt.Sprint("k-", level)
		must(t, m.Store(key, []byte("v"), tiermem.InTier(level), tiermem.WithTTL(time.Second)))
		must(t, m.Store(key+"-later", []byte("v"), tiermem.InTier(level), tiermem.WithTTL(time.Hour)))
	}
	if n := m.Expiring(); n != 8 {
		t.Errorf("Expiring = %d, want 8", n)
	}
	clock.Advance(2 * time.Second)
	if n, _ := m.Len(); m.Expiring() != 4 || n != 4 {
		t.Errorf("after 4 TTLs ran out: Expiring = %d, Len = %d; want 4 and 4", m.Expiring(), n)
	}
	for _, level := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		key := fmt.Sprint("k-", level)
		if err := m.Delete(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("%v: Delete of an expired key = %v, want ErrNotFound", level, err)
		}
		if tiermem.HeldIn(m, level, key) {
			t.Errorf("%v: the expired key is still held after Delete", level)
		}
		must(t, m.Delete(key+"-later"))
	}
	if n := m.Expiring(); n != 0 {
		t.Errorf("Expiring = %d after the deletes, want 0", n)
	}
}

// TestUpdateOutgrowsItsTier: an Update that grows a value past its tier's
// whole budget (Redis's APPEND or SETRANGE) places it as a Store would,
// keeping its TTL; a pinned key stays and its update fails.
func TestUpdateOutgrowsItsTier(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	grow := func(old []byte, _ bool) ([]byte, bool, error) {
		return append(old, bytes.Repeat([]byte{'x'}, 1<<20)...), true, nil
	}
	for _, level := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		key := fmt.Sprint("k-", level)
		must(t, m.Store(key, []byte("small"), tiermem.InTier(level), tiermem.WithTTL(time.Hour)))
		must(t, m.Update(key, grow))
		if v, err := m.Retrieve(key); err != nil || len(v) != 5+1<<20 || string(v[:5]) != "small" {
			t.Errorf("%v: after growing: %d bytes, %v", level, len(v), err)
		}
		if tr := tierOf(t, m, key); tr != tiermem.Cold {
			t.Errorf("%v: grown past warm's budget, it is in %v; want cold", level, tr)
		}
		if at, err := m.ExpireTime(key); err != nil || at.IsZero() {
			t.Errorf("%v: the TTL was lost: %v, %v", level, at, err)
		}
		pinned := key + "-pinned"
		must(t, m.Store(pinned, []byte("small"), tiermem.InTier(level), tiermem.Pinned()))
		if err := m.Update(pinned, grow); !errors.Is(err, tiermem.ErrTooLarge) {
			t.Errorf("%v: a pinned key grown past its tier: %v, want ErrTooLarge", level, err)
		}
		if v, err := m.Retrieve(pinned); err != nil || string(v) != "small" || tierOf(t, m, pinned) != level {
			t.Errorf("%v: the pinned key after a refused update: %q, %v", level, v, err)
		}
	}
}

package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func TestExpireAndPersist(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold)))
	if at, err := m.ExpireTime("k"); err != nil || !at.IsZero() {
		t.Errorf("no TTL: %v, %v", at, err)
	}
	must(t, m.Expire("k", 10*time.Second))
	if at, err := m.ExpireTime("k"); err != nil || !at.Equal(clock.Now().Add(10*time.Second)) {
		t.Errorf("after Expire: %v, %v", at, err)
	}
	if tierOf(t, m, "k") != tiermem.Cold {
		t.Errorf("Expire moved the key to %v", tierOf(t, m, "k"))
	}
	had, err := m.Persist("k")
	if err != nil || !had {
		t.Errorf("Persist = %v, %v", had, err)
	}
	if had, err = m.Persist("k"); err != nil || had {
		t.Errorf("second Persist = %v, %v", had, err)
	}
	must(t, m.ExpireAt("k", clock.Now().Add(time.Second)))
	clock.Advance(time.Second)
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after its expiry: %v", err)
	}
	if err := m.Expire("k", time.Second); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Expire of an expired key: %v", err)
	}
	if _, err := m.Persist("nope"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Persist of an absent key: %v", err)
	}
	if _, err := m.ExpireTime("nope"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("ExpireTime of an absent key: %v", err)
	}
	if err := m.ExpireAt("nope", time.Time{}); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("ExpireAt(zero): %v", err)
	}
}

func TestExpireInThePastDeletes(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("v")))
	must(t, m.Expire("k", -time.Second))
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after a negative Expire: %v", err)
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("Len = %d", n)
	}
}

func TestExpireKeepsArrays(t *testing.T) {
	m := open(t, nil)
	must(t, m.StoreArray("a", tiermem.Float64Array([]float64{1, 2, 3}, 3)))
	must(t, m.Expire("a", time.Hour))
	a, err := m.RetrieveArray("a")
	must(t, err)
	if v, err := a.Float64s(); err != nil || len(v) != 3 || v[2] != 3 {
		t.Errorf("array after Expire: %v", v)
	}
}

func TestPinKeepsAKeyInItsTier(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	must(t, m.Store("pinned", make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	must(t, m.Pin("pinned"))
	for i := range 100 { // four times the hot budget
		must(t, m.Store(string(rune('a'+i%26))+string(rune('a'+i/26)), make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	}
	if tierOf(t, m, "pinned") != tiermem.Hot {
		t.Fatalf("a pinned key was demoted to %v", tierOf(t, m, "pinned"))
	}
	must(t, m.Unpin("pinned"))
	if p, err := m.IsPinned("pinned"); err != nil || p {
		t.Errorf("IsPinned after Unpin = %v, %v", p, err)
	}
	for i := range 100 {
		must(t, m.Store(string(rune('A'+i%26))+string(rune('A'+i/26)), make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	}
	if tierOf(t, m, "pinned") == tiermem.Hot {
		t.Errorf("an unpinned key stayed hot through 4 budgets of Stores")
	}
	if err := m.Pin("nope"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Pin of an absent key: %v", err)
	}
}

// TestWithTTLPast2262 stores with a TTL that ends after the last time a
// nanosecond clock holds: the value is kept, with its expiry at that
// time, by Store and StoreFrom into every tier (it used to overflow into
// the past, and the acknowledged value, and the one it replaced, read as
// expired).
func TestWithTTLPast2262(t *testing.T) {
	m := open(t, nil)
	const ttl = time.Duration(math.MaxInt64) // about 292 years
	for _, level := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		for _, from := range []bool{false, true} {
			key := fmt.Sprintf("%v-%v", level, from)
			value := bytes.Repeat([]byte{'v'}, 200<<10)
			must(t, m.Store(key, []byte("old")))
			if from {
				must(t, m.StoreFrom(key, bytes.NewReader(value), int64(len(value)), tiermem.WithTTL(ttl), tiermem.InTier(level)))
			} else {
				must(t, m.Store(key, value, tiermem.WithTTL(ttl), tiermem.InTier(level)))
			}
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, value) {
				t.Fatalf("%s: Retrieve after a Store with a TTL of %v: %d bytes, %v", key, ttl, len(got), err)
			}
			if at, err := m.ExpireTime(key); err != nil || at.Year() < 2262 {
				t.Errorf("%s: ExpireTime = %v, %v; want 2262's", key, at, err)
			}
		}
	}
}

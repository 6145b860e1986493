package tiermem_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// incr adds one to key's decimal value through Update.
func incr(m *tiermem.Manager, key string) error {
	return m.Update(key, func(old []byte, found bool) ([]byte, bool, error) {
		n := 0
		if found {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, false, err
			}
		}
		return strconv.AppendInt(nil, int64(n+1), 10), true, nil
	})
}

func TestUpdateIsAtomic(t *testing.T) {
	m := open(t, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if err := incr(m, "counter"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Moves and plain reads of the key race the increments.
	for i := range 200 {
		m.Move("counter", tiermem.Tier(i%3))
	}
	wg.Wait()
	v, err := m.Retrieve("counter")
	must(t, err)
	if string(v) != "4000" {
		t.Fatalf("counter = %s, want 4000", v)
	}
}

func TestUpdateKeepsTTLPinAndTier(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	must(t, m.Store("k", []byte("a"), tiermem.InTier(tiermem.Warm), tiermem.WithTTL(time.Minute), tiermem.Pinned()))
	must(t, m.Update("k", func(old []byte, found bool) ([]byte, bool, error) {
		if !found || string(old) != "a" {
			t.Errorf("Update saw %q, %v", old, found)
		}
		return append(old, 'b'), true, nil
	}))
	v, err := m.Retrieve("k")
	must(t, err)
	at, err := m.ExpireTime("k")
	must(t, err)
	pinned, err := m.IsPinned("k")
	must(t, err)
	if string(v) != "ab" || !at.Equal(clock.Now().Add(time.Minute)) || !pinned || tierOf(t, m, "k") != tiermem.Warm {
		t.Errorf("after Update: %q, expires %v, pinned %v, %v", v, at, pinned, tierOf(t, m, "k"))
	}
}

func TestUpdateDeletesCreatesAndFails(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("gone", []byte("v"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Update("gone", func([]byte, bool) ([]byte, bool, error) { return nil, false, nil }))
	if _, err := m.Retrieve("gone"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Update keep=false left the key: %v", err)
	}
	must(t, m.Update("absent", func([]byte, bool) ([]byte, bool, error) { return nil, false, nil }))
	if _, err := m.Retrieve("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Update keep=false created the key: %v", err)
	}
	must(t, m.Update("new", func(old []byte, found bool) ([]byte, bool, error) {
		if found || old != nil {
			t.Errorf("a new key: %q, %v", old, found)
		}
		return []byte{}, true, nil // an empty value is a value
	}))
	if v, err := m.Retrieve("new"); err != nil || len(v) != 0 {
		t.Errorf("empty value: %q, %v", v, err)
	}
	boom := errors.New("boom")
	must(t, m.Store("kept", []byte("v")))
	if err := m.Update("kept", func([]byte, bool) ([]byte, bool, error) { return []byte("x"), true, boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: %v", err)
	}
	if v, _ := m.Retrieve("kept"); string(v) != "v" {
		t.Errorf("a failed Update changed the value to %q", v)
	}
	must(t, m.StoreArray("arr", tiermem.Float64Array([]float64{1, 2}, 2)))
	appendX := func(old []byte, _ bool) ([]byte, bool, error) { return append(old, 'x'), true, nil }
	if err := m.Update("arr", appendX); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("Update changing an array's bytes: %v", err)
	}
	must(t, m.UpdateEntry("arr", func(e *tiermem.Entry) (bool, error) { // its TTL may change
		e.Expires = time.Now().Add(time.Hour)
		return true, nil
	}))
	if a, err := m.RetrieveArray("arr"); err != nil || a.Len() != 2 {
		t.Errorf("the array after a TTL change: %v, %v", a, err)
	}
	must(t, m.Update("arr", func([]byte, bool) ([]byte, bool, error) { return nil, false, nil })) // and it may go
	if _, err := m.Retrieve("arr"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("an array deleted by Update: %v", err)
	}
	if err := incr(m, ""); !errors.Is(err, tiermem.ErrInvalidKey) {
		t.Errorf("Update of an empty key: %v", err)
	}
}

// TestUpdateMakesRoom grows values in a full hot tier: each Update must
// demote others to make room, and never lose an increment.
func TestUpdateMakesRoom(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	for i := range 20 {
		must(t, m.Store(fmt.Sprint("k", i), make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				err := m.Update(fmt.Sprint("k", (i+w)%20), func(old []byte, _ bool) ([]byte, bool, error) {
					return append(old, make([]byte, 1<<10)...), true, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for i := range 20 {
		v, err := m.Retrieve(fmt.Sprint("k", i))
		must(t, err)
		total += len(v)
	}
	if want := 20*(10<<10) + 160*(1<<10); total != want {
		t.Errorf("values hold %d bytes, want %d", total, want)
	}
	if u := m.Usage(); u[tiermem.Hot].Used > u[tiermem.Hot].Capacity {
		t.Errorf("hot uses %d of %d", u[tiermem.Hot].Used, u[tiermem.Hot].Capacity)
	}
}

func TestUpdateWithDurableLog(t *testing.T) {
	dir := t.TempDir()
	o := &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}}
	m, err := tiermem.Open(dir, o)
	must(t, err)
	for range 10 {
		must(t, incr(m, "c"))
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	if v, err := m.Retrieve("c"); err != nil || string(v) != "10" {
		t.Errorf("after reopen: %q, %v", v, err)
	}
}

func TestUpdateEntrySetsTTLAndPin(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	at := clock.Now().Add(time.Hour)
	must(t, m.UpdateEntry("k", func(e *tiermem.Entry) (bool, error) {
		e.Value, e.Expires, e.Pinned = []byte("v"), at, true
		return true, nil
	}))
	got, err := m.ExpireTime("k")
	must(t, err)
	pinned, _ := m.IsPinned("k")
	if !got.Equal(at) || !pinned {
		t.Errorf("expires %v, pinned %v", got, pinned)
	}
	must(t, m.UpdateEntry("k", func(e *tiermem.Entry) (bool, error) {
		e.Expires = clock.Now() // now: deleted
		return true, nil
	}))
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("an expiry of now kept the key: %v", err)
	}
}

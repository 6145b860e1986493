package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// open returns a Manager in a temporary directory with small budgets and no
// background loop (tests call Migrate), closed when the test ends.
func open(t *testing.T, opts *tiermem.Options) *tiermem.Manager {
	t.Helper()
	o := tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	}
	if opts != nil {
		o = *opts
	}
	m, err := tiermem.Open(t.TempDir(), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A Close that fails leaves the Manager open (and its warm tier's
		// memory unfreed): say so rather than leak it quietly.
		if err := m.Close(); err != nil && !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tierOf(t *testing.T, m *tiermem.Manager, key string) tiermem.Tier {
	t.Helper()
	tr, err := m.Tier(key)
	must(t, err)
	return tr
}

func TestStoreRetrieveInEachTier(t *testing.T) {
	m := open(t, nil)
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := "k-" + tr.String()
		value := bytes.Repeat([]byte(tr.String()), 1000)
		must(t, m.Store(key, value, tiermem.InTier(tr)))
		got, err := m.Retrieve(key)
		must(t, err)
		if !bytes.Equal(got, value) {
			t.Errorf("%s: Retrieve returned other bytes", tr)
		}
		if got := tierOf(t, m, key); got != tr {
			t.Errorf("%s: Tier = %v", tr, got)
		}
		must(t, m.View(key, func(v []byte) error {
			if !bytes.Equal(v, value) {
				t.Errorf("%s: View saw other bytes", tr)
			}
			return nil
		}))
	}
	u := m.Usage()
	if u[tiermem.Hot].Items != 1 || u[tiermem.Warm].Items != 1 || u[tiermem.Cold].Items != 1 {
		t.Errorf("usage %+v", u)
	}
}

func TestStoreReplacesInEveryTier(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("k", []byte("new"), tiermem.InTier(tiermem.Hot)))
	got, err := m.Retrieve("k")
	must(t, err)
	if string(got) != "new" || tierOf(t, m, "k") != tiermem.Hot {
		t.Fatalf("got %q in %v", got, tierOf(t, m, "k"))
	}
	if u := m.Usage(); u[tiermem.Cold].Items != 0 {
		t.Errorf("the old value stays in cold: %+v", u[tiermem.Cold])
	}
	must(t, m.Delete("k"))
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve after Delete = %v", err)
	}
	if err := m.Delete("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("second Delete = %v", err)
	}
}

func TestInlineDemotionKeepsBudgets(t *testing.T) {
	m := open(t, nil)
	value := make([]byte, 100<<10)
	for i := range 30 { // 3 MB into a 1 MiB hot tier
		must(t, m.Store(fmt.Sprint("k", i), value, tiermem.InTier(tiermem.Hot)))
		u := m.Usage()
		for _, tu := range u[:3] {
			if tu.Used > tu.Capacity {
				t.Fatalf("after %d stores a tier is over budget: %+v", i+1, tu)
			}
		}
	}
	u := m.Usage()
	if u[tiermem.Hot].Items+u[tiermem.Warm].Items+u[tiermem.Cold].Items != 30 {
		t.Errorf("keys lost: %+v", u)
	}
	if u[tiermem.Warm].Items == 0 || m.Stats().Tiers[tiermem.Hot].Evictions == 0 {
		t.Errorf("nothing was demoted: %+v %+v", u, m.Stats())
	}
	for i := range 30 {
		if _, err := m.Retrieve(fmt.Sprint("k", i)); err != nil {
			t.Errorf("k%d: %v", i, err)
		}
	}
}

func TestReopenFindsEveryKey(t *testing.T) {
	dir := t.TempDir()
	opts := &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1}
	m, err := tiermem.Open(dir, opts)
	must(t, err)
	for i, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		must(t, m.Store(fmt.Sprint("k", i), []byte(fmt.Sprint("v", i)), tiermem.InTier(tr)))
	}
	must(t, m.StoreArray("arr", tiermem.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 2, 3)))
	must(t, m.Store("ttl", []byte("x"), tiermem.WithTTL(time.Hour)))
	must(t, m.Close())
	m, err = tiermem.Open(dir, opts)
	must(t, err)
	defer m.Close()
	for i := range 3 {
		got, err := m.Retrieve(fmt.Sprint("k", i))
		if err != nil || string(got) != fmt.Sprint("v", i) {
			t.Errorf("k%d after reopen: %q, %v", i, got, err)
		}
	}
	a, err := m.RetrieveArray("arr")
	must(t, err)
	if f, _ := a.Float64s(); a.String() != "float64[2 3]" || f[5] != 6 {
		t.Errorf("array after reopen: %v %v", a, f)
	}
	if _, err := m.Retrieve("ttl"); err != nil {
		t.Errorf("a TTL value did not survive: %v", err)
	}
}

package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// budgetValue is the value budget tests store under key i.
func budgetValue(i int) []byte {
	return bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 512)
}

// TestSetBudgetShrinksAndGrows shrinks the hot tier under what it holds: it
// must then hold at most the new budget, with every value still readable
// from warm; raised again, it takes values it refused.
func TestSetBudgetShrinksAndGrows(t *testing.T) {
	m := open(t, nil)
	for i := range 200 {
		if err := m.Store(fmt.Sprint("k", i), budgetValue(i), tiermem.InTier(tiermem.Hot)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SetBudget(tiermem.Hot, 32<<10); err != nil {
		t.Fatal(err)
	}
	u := m.Usage()[tiermem.Hot]
	if u.Capacity != 32<<10 || u.Used > u.Capacity {
		t.Fatalf("hot after SetBudget(32 KiB): used %d, capacity %d", u.Used, u.Capacity)
	}
	if m.Usage()[tiermem.Warm].Items == 0 {
		t.Fatal("nothing was demoted to warm")
	}
	for i := range 200 {
		got, err := m.Retrieve(fmt.Sprint("k", i))
		if err != nil || !bytes.Equal(got, budgetValue(i)) {
			t.Fatalf("k%d after the shrink: %d bytes, %v", i, len(got), err)
		}
	}
	big := make([]byte, 64<<10)
	if err := m.Store("big", big, tiermem.InTier(tiermem.Hot)); !errors.Is(err, tiermem.ErrTooLarge) {
		t.Fatalf("64 KiB into a 32 KiB hot tier: %v, want ErrTooLarge", err)
	}
	if err := m.SetBudget(tiermem.Hot, 4<<20); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("big", big, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatalf("64 KiB into a 4 MiB hot tier: %v", err)
	}
	if tr, _ := m.Tier("big"); tr != tiermem.Hot {
		t.Fatalf("big is in %v, want hot", tr)
	}
}

// TestSetBudgetRefuses checks the budgets SetBudget refuses, and that a
// refused one changes nothing.
func TestSetBudgetRefuses(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Disabled: true},
	})
	incompressible := make([]byte, 8<<10)
	rand.NewChaCha8([32]byte{1}).Read(incompressible)
	if err := m.Store("cold", incompressible, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	before := m.Usage()
	for _, c := range []struct {
		tier  tiermem.Tier
		bytes int64
		want  error
	}{
		{tiermem.Hot, 0, tiermem.ErrOptions},
		{tiermem.Warm, -1, tiermem.ErrOptions},
		{tiermem.Hot, math.MaxInt64, tiermem.ErrOptions},
		{tiermem.Warm, 33 << 20, tiermem.ErrOptions}, // over the 32 MiB reserved at Open (64 MiB of space)
		{tiermem.Glacier, 1 << 20, tiermem.ErrUnknownTier},
		{tiermem.Tier(9), 1 << 20, tiermem.ErrUnknownTier},
		{tiermem.Cold, 1 << 10, tiermem.ErrNoSpace}, // the last tier holds 8 KiB
	} {
		if err := m.SetBudget(c.tier, c.bytes); !errors.Is(err, c.want) {
			t.Errorf("SetBudget(%v, %d) = %v, want %v", c.tier, c.bytes, err, c.want)
		}
	}
	if after := m.Usage(); after != before {
		t.Errorf("refused budgets changed the usage:\n%+v\n%+v", before, after)
	}
	if err := m.SetBudget(tiermem.Warm, 32<<20); err != nil {
		t.Errorf("warm within its reservation: %v", err)
	}
	if err := m.SetBudget(tiermem.Warm, 4<<20); err != nil {
		t.Errorf("warm back to its size at Open: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.SetBudget(tiermem.Hot, 1<<20); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestSetBudgetUnderPinnedValues shrinks a hot tier full of pinned values:
// the budget is set, nothing pinned moves, and the error says why the tier
// is still over it.
func TestSetBudgetUnderPinnedValues(t *testing.T) {
	m := open(t, nil)
	for i := range 20 {
		if err := m.Store(fmt.Sprint("p", i), budgetValue(i), tiermem.InTier(tiermem.Hot), tiermem.Pinned()); err != nil {
			t.Fatal(err)
		}
	}
	err := m.SetBudget(tiermem.Hot, 4<<10)
	if !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("SetBudget under pinned values: %v, want ErrNoSpace", err)
	}
	if c := m.Usage()[tiermem.Hot].Capacity; c != 4<<10 {
		t.Errorf("capacity %d, want the new budget %d", c, 4<<10)
	}
	for i := range 20 {
		if tr, _ := m.Tier(fmt.Sprint("p", i)); tr != tiermem.Hot {
			t.Fatalf("pinned p%d moved to %v", i, tr)
		}
	}
	if err := m.Store("new", []byte("x"), tiermem.InTier(tiermem.Hot)); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Errorf("a Store into the over-budget hot tier: %v, want ErrNoSpace", err)
	}
}

// TestSetBudgetMovesTheMemoryLimit checks that the GC limit Open set for
// the hot budget follows SetBudget, and that Close still lifts it.
func TestSetBudgetMovesTheMemoryLimit(t *testing.T) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Skip("a memory limit is in force already (GOMEMLIMIT): Open leaves it alone")
	}
	m := open(t, nil) // hot: 1 MiB
	before := debug.SetMemoryLimit(-1)
	if before == math.MaxInt64 {
		t.Fatal("Open set no memory limit")
	}
	if err := m.SetBudget(tiermem.Hot, 65<<20); err != nil {
		t.Fatal(err)
	}
	// The limit is the budget plus a quarter, plus parts that do not move.
	if got, want := debug.SetMemoryLimit(-1)-before, int64(64<<20+16<<20); got != want {
		t.Errorf("the limit moved by %d, want %d", got, want)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		debug.SetMemoryLimit(math.MaxInt64)
		t.Errorf("Close left a limit of %d", l)
	}
}

// TestSetBudgetUnderConcurrencyAndClose flips the hot and warm budgets
// between small (8 KiB: a few values) and large while 4 goroutines store,
// read and delete, and
// closes the Manager in the middle: no operation may crash or fail but
// with ErrClosed, and every Store acknowledged is found after reopening.
func TestSetBudgetUnderConcurrencyAndClose(t *testing.T) {
	dir := t.TempDir()
	o := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Disabled: true},
	}
	m, err := tiermem.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var acked sync.Map // key → value index of the last acknowledged Store; -1 when deleted
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprintf("g%d-%d", g, i%64)
				switch i % 5 {
				case 3:
					if _, err := m.Retrieve(key); err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrClosed) {
						t.Errorf("Retrieve(%s): %v", key, err)
					}
				case 4:
					switch err := m.Delete(key); {
					case err == nil, errors.Is(err, tiermem.ErrNotFound):
						acked.Store(key, -1)
					case !errors.Is(err, tiermem.ErrClosed):
						t.Errorf("Delete(%s): %v", key, err)
					}
				default:
					switch err := m.Store(key, budgetValue(i), tiermem.InTier(tiermem.Hot)); {
					case err == nil:
						acked.Store(key, i)
					case !errors.Is(err, tiermem.ErrClosed):
						t.Errorf("Store(%s): %v", key, err)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		sizes := []int64{16 << 10, 256 << 10, 8 << 10, 1 << 20}
		for i := 0; !stop.Load(); i++ {
			tr := []tiermem.Tier{tiermem.Hot, tiermem.Warm}[i%2]
			err := m.SetBudget(tr, sizes[i%len(sizes)])
			if err != nil && !errors.Is(err, tiermem.ErrNoSpace) && !errors.Is(err, tiermem.ErrClosed) {
				t.Errorf("SetBudget(%v, %d): %v", tr, sizes[i%len(sizes)], err)
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	m, err = tiermem.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	acked.Range(func(k, v any) bool {
		got, err := m.Retrieve(k.(string))
		if i := v.(int); i < 0 {
			if !errors.Is(err, tiermem.ErrNotFound) {
				t.Errorf("%s was deleted, reads %d bytes, %v", k, len(got), err)
			}
		} else if err != nil || !bytes.Equal(got, budgetValue(i)) {
			t.Errorf("%s: acknowledged value %d, read %d bytes, %v", k, i, len(got), err)
		}
		return true
	})
}

// TestSetBudgetOneValueHot flips the hot budget down to 2 KiB, room for
// one 1 KiB value, while 4 goroutines store into hot: no Store may fail.
// About one run in five failed with ErrNoSpace ("every entry in it is
// pinned", nothing pinned) while tier/heap's Delete told its policy before
// it uncounted the entry's bytes: a Store then found a tier that held
// nothing but those bytes, and no victim.
func TestSetBudgetOneValueHot(t *testing.T) {
	for round := range 10 {
		m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
			Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
			Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
			Glacier: tiermem.GlacierOptions{Disabled: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		flipped := make(chan struct{})
		go func() {
			defer close(flipped)
			sizes := []int64{8 << 10, 256 << 10, 2 << 10, 1 << 20}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m.SetBudget([]tiermem.Tier{tiermem.Hot, tiermem.Warm}[i%2], sizes[i%len(sizes)])
			}
		}()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 400 {
					key := fmt.Sprintf("g%d-%d", g, i%64)
					if err := m.Store(key, budgetValue(i), tiermem.InTier(tiermem.Hot)); err != nil {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		<-flipped
		m.Close()
	}
}

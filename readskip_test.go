package tiermem_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestReadsWhileTheOnlyKeyMoves moves a Manager's only key between the
// tiers (so that the tiers it leaves are empty, which reads skip) while a
// writer stores newer versions and readers read it: a read never misses
// it, and no reader sees a version older than one it saw before.
func TestReadsWhileTheOnlyKeyMoves(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("only", []byte("0"), tiermem.InTier(tiermem.Cold)))
	rounds := 300
	if testing.Short() {
		rounds = 100
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Go(func() { // the mover
		tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Warm}
		for i := 0; !stop.Load(); i++ {
			if err := m.Move("only", tiers[i%len(tiers)]); err != nil && !errors.Is(err, tiermem.ErrNotFound) {
				errs <- fmt.Errorf("Move: %v", err)
				return
			}
		}
	})
	for r := range 2 {
		wg.Go(func() {
			last := int64(-1)
			for !stop.Load() {
				got, err := m.Retrieve("only")
				if err != nil {
					errs <- fmt.Errorf("reader %d: %v (last saw version %d)", r, err, last)
					return
				}
				v, err := strconv.ParseInt(string(got), 10, 64)
				if err != nil || v < last {
					errs <- fmt.Errorf("reader %d: read %q after version %d", r, got, last)
					return
				}
				last = v
			}
		})
	}
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Cold, tiermem.Warm}
	for i := 1; i <= rounds; i++ {
		if err := m.Store("only", []byte(strconv.Itoa(i)), tiermem.InTier(tiers[i%3])); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		default:
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if u := m.Usage(); u[tiermem.Hot].Items+u[tiermem.Warm].Items+u[tiermem.Cold].Items != 1 {
		t.Errorf("the tiers hold %d + %d + %d copies of the one key", u[tiermem.Hot].Items, u[tiermem.Warm].Items, u[tiermem.Cold].Items)
	}
}

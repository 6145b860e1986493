package tiermem_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestOneRefusedPromotionDoesNotCloseTheTierAbove: a warm value too big
// for the hot tier's room is refused a promotion while the hot tier holds
// little. Small warm values read as often must still be promoted
// afterwards, though the hot tier never drops below what it used at the
// refusal: plenty of room is left for them.
func TestOneRefusedPromotionDoesNotCloseTheTierAbove(t *testing.T) {
	m, _ := openClocked(t, tiermem.Options{PromoteHits: 2, DemoteAfter: time.Hour})
	must(t, m.Store("resident", make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	// Bigger than the hot tier's room under its high watermark, not than its budget.
	must(t, m.Store("big", bytes.Repeat([]byte{1}, 990<<10), tiermem.InTier(tiermem.Warm)))
	for range 3 {
		_, err := m.Retrieve("big")
		must(t, err)
	}
	must(t, m.Migrate())
	if got := tierOf(t, m, "big"); got != tiermem.Warm {
		t.Fatalf("big promoted to %v; the test needs it refused", got)
	}
	must(t, m.Store("small", []byte("earned"), tiermem.InTier(tiermem.Warm)))
	for range 3 {
		for range 3 {
			_, err := m.Retrieve("small")
			must(t, err)
		}
		must(t, m.Migrate())
		if tierOf(t, m, "small") == tiermem.Hot {
			return
		}
	}
	u := m.Usage()[tiermem.Hot]
	t.Fatalf("small, read 9 times over 3 passes, still in %v: the hot tier uses %d of %d bytes",
		tierOf(t, m, "small"), u.Used, u.Capacity)
}

// TestRefusalsInOnePassDoNotStopOthers: in one pass, a refused big key must
// not stop the promotion of a small key queued with it.
func TestRefusalsInOnePassDoNotStopOthers(t *testing.T) {
	for round := range 6 { // the queue hands keys over in map order
		m, _ := openClocked(t, tiermem.Options{PromoteHits: 2, DemoteAfter: time.Hour})
		must(t, m.Store("resident", make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
		var smalls []string
		for i := range 8 {
			k := fmt.Sprint("big", i%4) // four: the warm tier stays under its high watermark
			must(t, m.Store(k, bytes.Repeat([]byte{1}, 990<<10/2+1), tiermem.InTier(tiermem.Warm)))
			s := fmt.Sprint("small", i)
			must(t, m.Store(s, []byte("earned"), tiermem.InTier(tiermem.Warm)))
			smalls = append(smalls, s)
		}
		for range 3 {
			for i := range 8 {
				_, err := m.Retrieve(fmt.Sprint("big", i%4))
				must(t, err)
				_, err = m.Retrieve(smalls[i])
				must(t, err)
			}
		}
		must(t, m.Migrate())
		for _, s := range smalls {
			if got := tierOf(t, m, s); got != tiermem.Hot {
				t.Fatalf("round %d: %s, queued with keys too big for the room left, stayed in %v", round, s, got)
			}
		}
	}
}

package offheap_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/offheap"
)

func rvMapped(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil {
			total += int64(hi - lo)
		}
	}
	return total
}

// TestHostileNoLeakedMappings: after Close and the last LargeValue's Close,
// the address space is back where it was (within slack for the runtime).
func TestHostileNoLeakedMappings(t *testing.T) {
	runtime.GC()
	before := rvMapped(t)
	for round := range 5 {
		s, err := offheap.New(&offheap.Options{Capacity: 64 << 20, MaxSmall: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var lvs []*offheap.LargeValue
		for i := range 40 {
			key := fmt.Sprint("k", i%10)
			s.Put(key, rvValue(i, uint32(round), 64<<10+i*4096), nil)
			if i%3 == 0 {
				if lv, ok, _ := s.OpenLarge(key); ok {
					lvs = append(lvs, lv)
				}
			}
			if i%7 == 0 {
				s.Delete(key)
			}
			if i%5 == 0 {
				s.SetMeta(key, make([]byte, 500), 1<<30)
			}
		}
		// pendings: one committed, one discarded, one left at Close then discarded
		p1, _ := s.Prepare("p1", 100<<10, 0)
		p1.Commit(nil)
		p2, _ := s.Prepare("p2", 100<<10, 0)
		p2.Discard()
		p3, _ := s.Prepare("p3", 100<<10, 0)
		s.Trim(time.Now().Add(-time.Hour))
		s.Close()
		if _, err := p3.Commit(nil); err == nil {
			t.Error("Commit after Close succeeded")
		}
		p3.Discard()
		for _, lv := range lvs {
			lv.Close()
		}
		if h := s.Held(); h != 0 {
			t.Errorf("Held %d after everything closed", h)
		}
	}
	runtime.GC()
	after := rvMapped(t)
	if after-before > 32<<20 {
		t.Errorf("mapped %d MiB before, %d MiB after five stores were closed", before>>20, after>>20)
	}
	t.Logf("mapped %d -> %d KiB", before>>10, after>>10)
}

package offheap_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/tier/offheap"
)

// rssAnon returns the process's anonymous resident memory, from
// /proc/self/status, or skips the test where there is none.
func rssAnon(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssAnon in /proc/self/status")
	return 0
}

// TestRSSFollowsWhatIsStored: the warm store's resident memory is what it
// holds (DESIGN.md: "RSS = what is used"), page by page. A record in each
// of the slab's size classes must not take a huge page each (2 MiB per
// class on a system whose transparent huge pages are on for madvised
// memory), and deleting every value gives back what the values took.
func TestRSSFollowsWhatIsStored(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil && strings.Contains(string(b), "[always]") {
		t.Skip("transparent huge pages back all anonymous memory here, whatever a store asks")
	}
	runtime.GC()
	key := make([]byte, 0, 32) // keys over one buffer, so the Go heap stays still
	keyOf := func(prefix string, i int) string {
		key = strconv.AppendInt(append(key[:0], prefix...), int64(i), 10)
		return unsafe.String(unsafe.SliceData(key), len(key))
	}
	value := make([]byte, 60<<10)
	s, err := offheap.New(&offheap.Options{Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := rssAnon(t)
	var stored int64
	for n := 16; n < 60<<10; n = n * 5 / 4 {
		if _, err := s.Put(keyOf("class", n), value[:n], nil); err != nil {
			t.Fatal(err)
		}
		stored += int64(n)
	}
	if grew := rssAnon(t) - start; grew > stored+8<<20 {
		t.Errorf("%d bytes in one record per size class took %d MiB of RSS", stored, grew>>20)
	}
	const n = 64 << 10
	for i := range n {
		if _, err := s.Put(keyOf("k", i), value[:1000], nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, err := s.Delete(keyOf("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	if grew := rssAnon(t) - start; grew > stored+12<<20 {
		t.Errorf("after storing and deleting %d MiB, RSS is %d MiB above where it started", n*1000>>20, grew>>20)
	}
}

package heap

import (
	"runtime"
	"testing"
)

// TestPendingEmptyValueKeyFillsAllocation prepares an empty value
// under a key whose length is a multiple of 8 (no meta): the entry's
// allocation ends right after the key, and Value must not hand out a
// pointer past its end (checkptr, which -race turns on, and the garbage
// collector's invalid-pointer check both reject one).
func TestPendingEmptyValueKeyFillsAllocation(t *testing.T) {
	s := New()
	defer s.Close()
	for _, n := range []int{8, 16, 64, 60000} {
		key := string(make([]byte, n))
		p, err := s.Prepare(key, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		v := p.Value()
		runtime.GC()
		if len(v) != 0 {
			t.Fatal(len(v))
		}
		if _, err := p.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
}

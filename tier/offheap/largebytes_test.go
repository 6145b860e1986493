package offheap

import "testing"

// TestLargeBytesAfterSpareReuse: a large record written into a
// reused, bigger spare mapping (by Put and by Prepare/Commit): Stats'
// LargeBytes against what the records are charged.
func TestLargeBytesAfterSpareReuse(t *testing.T) {
	for _, viaPrepare := range []bool{false, true} {
		s := hostileStore(t, false)
		s.Put("a", noise(100<<10, 1), nil)
		s.Delete("a")
		if viaPrepare {
			p, err := s.Prepare("b", 90<<10, 0)
			if err != nil {
				t.Fatal(err)
			}
			copy(p.Value(), noise(90<<10, 2))
			if _, err := p.Commit(nil); err != nil {
				t.Fatal(err)
			}
		} else {
			s.Put("b", noise(90<<10, 2), nil)
		}
		st := s.Stats()
		if want := s.Used() - indexShare; st.LargeBytes != want {
			t.Errorf("prepare=%v: LargeBytes %d, the one large record is charged %d (spare bytes %d)", viaPrepare, st.LargeBytes, want, st.SpareBytes)
		}
		s.Close()
	}
}

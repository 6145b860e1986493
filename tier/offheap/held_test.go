package offheap

import "testing"

// TestHeldCountsMappingsThatLargeValuesKeep: a large record replaced or
// deleted while a LargeValue reads it, or whose store closes, counts in
// Held (and Stats.HeldBytes) until the last LargeValue on it closes; a
// record nobody reads never does.
func TestHeldCountsMappingsThatLargeValuesKeep(t *testing.T) {
	s := hostileStore(t, false)
	defer s.Close()
	put := func(key string, n int, seed byte) {
		t.Helper()
		if _, err := s.Put(key, noise(n, seed), nil); err != nil {
			t.Fatal(err)
		}
	}
	open := func(key string) *LargeValue {
		t.Helper()
		v, ok, err := s.OpenLarge(key)
		if err != nil || !ok {
			t.Fatalf("OpenLarge(%q) = %v, %v", key, ok, err)
		}
		return v
	}
	put("a", 256<<10, 1)
	put("b", 512<<10, 2)
	put("a", 256<<10, 3) // nobody reads the old one
	if h := s.Held(); h != 0 {
		t.Fatalf("Held = %d with no reader", h)
	}
	va, vb1, vb2 := open("a"), open("b"), open("b")
	put("a", 300<<10, 4) // replaced while read
	if _, err := s.Delete("b"); err != nil {
		t.Fatal(err)
	}
	const a, b = 256 << 10, 512 << 10 // the values; their mappings hold a record header and key more
	if h, st := s.Held(), s.Stats(); h < a+b || h > a+b+4096 || st.HeldBytes != h {
		t.Fatalf("Held = %d, Stats.HeldBytes = %d, want the two mappings, about %d", h, st.HeldBytes, a+b)
	}
	va.Close()
	vb1.Close()
	if h := s.Held(); h < b || h > b+4096 {
		t.Fatalf("after the reader of a and one of b closed, Held = %d, want b's mapping, about %d", h, b)
	}
	vb2.Close()
	if h := s.Held(); h != 0 {
		t.Fatalf("after every reader closed, Held = %d, want 0", h)
	}
	vc := open("a")
	s.Close()
	if h := s.Held(); h < 300<<10 {
		t.Fatalf("after Close with a reader open, Held = %d, want the reader's mapping", h)
	}
	vc.Close()
	if h := s.Held(); h != 0 {
		t.Fatalf("after the last reader of a closed store closed, Held = %d, want 0", h)
	}
}

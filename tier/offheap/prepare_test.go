package offheap_test

import (
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier/offheap"
)

// TestPrepareLookupsChangesNothing checks that the hint is only a hint:
// after PrepareLookups of present, absent and empty keys, the store's sizes
// and values are as before, and every key is still idle (the hint marked
// none read).
func TestPrepareLookupsChangesNothing(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys [][]byte
	for i := range 300 {
		key := fmt.Sprint("k", i)
		if _, err := s.Put(key, []byte(key+"-value"), []byte("m")); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, []byte(key))
	}
	s.Put("large", make([]byte, 10000), nil)
	keys = append(keys, []byte("large"), []byte("absent"), nil)
	s.Idle(func(string, []byte) bool { return true }) // clears every reference bit
	used, n := s.Used(), s.Len()
	s.PrepareLookups(keys)
	if s.Used() != used || s.Len() != n {
		t.Errorf("Used %d Len %d after PrepareLookups, %d and %d before", s.Used(), s.Len(), used, n)
	}
	idle := 0
	s.Idle(func(string, []byte) bool { idle++; return true })
	if idle != 301 {
		t.Errorf("%d of 301 keys idle after PrepareLookups: the hint marked keys read", idle)
	}
	for _, k := range keys[:300] {
		if v, err := s.Get(string(k), nil); err != nil || string(v) != string(k)+"-value" {
			t.Errorf("%s reads %q, %v", k, v, err)
		}
	}
}

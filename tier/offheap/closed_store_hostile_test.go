package offheap_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

func TestHostileEverythingAfterClose(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s.Put("a", make([]byte, 100), nil)
	s.Put("b", make([]byte, 10000), nil)
	s.Close()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s after Close: %v", what, err)
		}
	}
	_, err = s.Put("a", nil, nil)
	check("Put", err)
	_, err = s.Get("a", nil)
	check("Get", err)
	_, err = s.Delete("b")
	check("Delete", err)
	_, err = s.Delete("nope")
	check("Delete absent", err)
	_, err = s.Meta("a")
	check("Meta", err)
	_, err = s.Size("a")
	check("Size", err)
	_, err = s.SetMeta("a", []byte("x"), 100)
	check("SetMeta", err)
	_, _, err = s.OpenLarge("b")
	check("OpenLarge", err)
	_, err = s.ValueLen("b")
	check("ValueLen", err)
	check("Scan", s.Scan(func(string, []byte, int64) error { return nil }))
	check("ScanValues", s.ScanValues(func(string, []byte, []byte, error) error { return nil }))
	_, err = s.Prepare("c", 10, 0)
	check("Prepare small", err)
	_, err = s.Prepare("c", 100000, 0)
	check("Prepare large", err)
	check("Close", s.Close())
	if _, ok := s.Victim(nil); ok {
		t.Error("Victim after Close")
	}
	s.Idle(func(string, []byte) bool { t.Error("Idle called fn after Close"); return false })
	if _, ok := s.KeyOf(offheap.Hash("a")); ok {
		t.Error("KeyOf after Close")
	}
	s.Trim(time.Now())
	s.PrepareLookups([][]byte{[]byte("a"), []byte("b")})
	_ = s.Stats()
	_ = s.Held()
	_ = s.Used()
	_ = s.Len()
	_ = s.Cost(1, 1, 1)
}

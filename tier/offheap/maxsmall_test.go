package offheap_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier/offheap"
)

// A MaxSmall that is no slab size class still takes every record: those
// whose class is larger than MaxSmall get a mapping of their own.
func TestAnyMaxSmallTakesEverySize(t *testing.T) {
	for _, maxSmall := range []int64{4096, 5000} {
		t.Run(fmt.Sprint(maxSmall), func(t *testing.T) {
			s := open(t, &offheap.Options{Capacity: 64 << 20, MaxSmall: maxSmall})
			defer s.Close()
			for n := int(maxSmall) - 300; n <= int(maxSmall)+40; n++ {
				key := fmt.Sprint("k", n)
				value := bytes.Repeat([]byte{byte(n)}, n)
				if _, err := s.Put(key, value, nil); err != nil {
					t.Fatalf("Put of %d bytes with MaxSmall %d: %v", n, maxSmall, err)
				}
				got, err := s.Get(key, nil)
				if err != nil || !bytes.Equal(got, value) {
					t.Fatalf("Get of %d bytes: %d bytes, %v", n, len(got), err)
				}
			}
		})
	}
}

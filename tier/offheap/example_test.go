package offheap_test

import (
	"bytes"
	"fmt"

	"github.com/tiermem/tiermem/tier/offheap"
)

// Example keeps values outside the Go heap: small ones in one slab
// mapping, a value over MaxSmall in a mapping of its own.
func Example() {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20, MaxSmall: 4 << 10, Compress: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	if _, err := s.Put("user:1", []byte("ada"), []byte("text")); err != nil {
		fmt.Println(err)
		return
	}
	big := bytes.Repeat([]byte("row,"), 4096) // 16 KiB, compressible
	if _, err := s.Put("table", big, nil); err != nil {
		fmt.Println(err)
		return
	}
	v, _ := s.Get("user:1", nil)
	meta, _ := s.Meta("user:1")
	fmt.Printf("user:1 = %s (%s)\n", v, meta)
	t, _ := s.Get("table", nil)
	fmt.Println("table:", len(t), "bytes, intact:", bytes.Equal(t, big))
	fmt.Println("keys:", s.Len())

	s.Delete("user:1")
	_, err = s.Get("user:1", nil)
	fmt.Println("after Delete:", err)
	// Output:
	// user:1 = ada (text)
	// table: 16384 bytes, intact: true
	// keys: 2
	// after Delete: tier: key not found
}

package heap_test

import (
	"fmt"

	"github.com/tiermem/tiermem/tier/heap"
)

// Example keeps values in Go memory: each Put copies the value, and a Get
// appends it to the buffer given.
func Example() {
	s := heap.New()
	defer s.Close()

	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Put(k, []byte("value of "+k), nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	v, _ := s.Get("b", nil)
	fmt.Printf("b = %s\n", v)
	fmt.Println("keys:", s.Len())

	s.Delete("a")
	_, err := s.Get("a", nil)
	fmt.Println("after Delete:", err)
	// Output:
	// b = value of b
	// keys: 3
	// after Delete: tier: key not found
}

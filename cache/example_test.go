package cache_test

import (
	"fmt"

	"github.com/tiermem/tiermem/cache"
)

func ExampleNew() {
	c, err := cache.New(&cache.Options[string, []byte]{
		MaxWeight: 1 << 20, // 1 MiB of values
		Weigher:   func(key string, value []byte) int64 { return int64(len(key) + len(value)) },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Set("greeting", []byte("hello"))
	v, ok := c.Get("greeting")
	fmt.Println(string(v), ok, c.Weight())
	_, ok = c.Get("missing")
	fmt.Println(ok)
	// Output:
	// hello true 13
	// false
}

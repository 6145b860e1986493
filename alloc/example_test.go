package alloc_test

import (
	"fmt"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
)

func ExampleNewSlab() {
	s, err := alloc.NewSlab(64<<20, nil) // a 64 MiB offset space
	if err != nil {
		panic(err)
	}
	off, _ := s.Alloc(100)
	fmt.Println(off%alloc.MinAlign == 0, s.ClassSize(100))
	if err := s.Free(off, 100); err != nil {
		panic(err)
	}
	fmt.Println(s.Free(off, 100))
	// Output:
	// true 112
	// alloc: double free: 100 bytes at offset 0
}

func ExampleNewArena() {
	a, _ := alloc.NewArena(1 << 20)
	x, _ := a.Alloc(10)
	y, _ := a.AllocAligned(10, 256)
	fmt.Println(x, y, a.Used())
	a.Reset() // frees both at once
	fmt.Println(a.Used())
	// Output:
	// 0 256 266
	// 0
}

func ExampleNewBuddy() {
	b, _ := alloc.NewBuddy(1<<20, 64)
	x, _ := b.Alloc(1000) // a 1024-byte block
	y, _ := b.Alloc(1000)
	b.Free(x, 1000)
	b.Free(y, 1000) // coalesces back into one 1 MiB block
	fmt.Println(b.BlockSize(1000), b.Stats().LargestFree)
	// Output: 1024 1048576
}

func ExampleNewRegions() {
	h, _ := memory.Allocate(16 << 20) // off-heap memory
	defer h.Close()
	slab, _ := alloc.NewSlab(16<<20, nil)
	regions, _ := alloc.NewRegions(h.Writable(), slab)
	r, _ := regions.Alloc(64)
	r.PutInt64(0, 42)
	fmt.Println(r.Size(), r.GetInt64(0))
	regions.Free(r)
	// Output: 64 42
}

func ExampleSynchronized() {
	s, _ := alloc.NewSlab(16<<20, nil)
	shared := alloc.Synchronized(s) // safe for concurrent use
	off, _ := shared.Alloc(32)
	fmt.Println(shared.Free(off, 32))
	// Output: <nil>
}

func ExampleNewPool() {
	buffers := alloc.NewPool(
		func() *[]byte { b := make([]byte, 0, 4096); return &b },
		func(b *[]byte) { *b = (*b)[:0] },
	)
	b := buffers.Get()
	*b = append(*b, "scratch"...)
	buffers.Put(b)
	fmt.Println(len(*buffers.Get()))
	// Output: 0
}

func ExampleSlab_SpanSize() {
	s, err := alloc.NewSlab(64<<20, nil)
	if err != nil {
		panic(err)
	}
	// A slot never crosses a span: the pages of one span can be faulted in
	// or given back together.
	off, _ := s.Alloc(100)
	span := s.SpanSize()
	fmt.Println(span, off/span == (off+s.ClassSize(100)-1)/span)
	// Output: 524288 true
}

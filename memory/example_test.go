package memory_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tiermem/tiermem/memory"
)

func Example() {
	backing := make([]byte, 16)
	mem := memory.Wrap(backing)
	mem.PutUint8(1, 1)
	fmt.Println(mem.GetInt32(0)) // little-endian: byte 1 is worth 256

	backing[9] = 3
	fmt.Println(mem.GetInt64(8))
	// Output:
	// 256
	// 768
}

func ExampleAllocate() {
	h, err := memory.Allocate(1 << 20) // outside the Go heap
	if err != nil {
		panic(err)
	}
	defer h.Close() // only the handle frees it
	w := h.Writable()
	w.PutFloat64(0, 2.5)
	fmt.Println(w.GetFloat64(0), w.Size())
	// Output: 2.5 1048576
}

func ExampleMemory_Region() {
	w := memory.Wrap(make([]byte, 1024))
	region1 := w.Region(0, 512)
	region2 := w.Region(512, 512).ReadOnly()
	region1.PutInt64(0, 7)
	w.PutInt64(512, 9)
	fmt.Println(region1.GetInt64(0), region2.GetInt64(0), region2.Size())
	// Output: 7 9 512
}

func ExampleMemory_WithOrder() {
	w := memory.Wrap(make([]byte, 4)).WithOrder(memory.BigEndian)
	w.PutUint32(0, 0x01020304)
	fmt.Printf("% x\n", w.Bytes(0, 4))
	// Output: 01 02 03 04
}

func ExampleMap() {
	dir, _ := os.MkdirTemp("", "memory-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "file")
	os.WriteFile(path, []byte("..header..payload"), 0o644)

	h, err := memory.Map(path, 10, 0) // from byte 10 (not page-aligned) to the end
	if err != nil {
		panic(err)
	}
	defer h.Close()
	fmt.Printf("%s\n", h.Memory().Bytes(0, h.Size()))
	// Output: payload
}

func ExampleMapWritable() {
	dir, _ := os.MkdirTemp("", "memory-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rw")

	h, err := memory.MapWritable(path, 0, 8) // creates the file
	if err != nil {
		panic(err)
	}
	h.Writable().PutInt64(0, 42)
	if err := h.Force(); err != nil { // on the device before Force returns
		panic(err)
	}
	h.Close()
	data, _ := os.ReadFile(path)
	fmt.Println(memory.Wrap(data).GetInt64(0))
	// Output: 42
}

func ExampleCopy() {
	w := memory.Wrap([]byte("abcdef"))
	memory.Copy(w, 2, w.ReadOnly(), 0, 4) // overlapping, like memmove
	fmt.Printf("%s\n", w.Bytes(0, 6))
	// Output: ababcd
}

func ExampleWritableMemory_Buffer() {
	w := memory.Wrap(make([]byte, 32))
	b := w.Buffer()
	b.PutInt32(7)
	b.PutFloat64(1.5)
	r := w.ReadOnly().Buffer()
	fmt.Println(r.GetInt32(), r.GetFloat64(), r.Position())
	// Output: 7 1.5 12
}

func ExampleGrow() {
	srv := memory.NewOffHeapServer()
	defer srv.Close()
	w, _ := srv.Request(memory.WritableMemory{}, 8)
	w.PutInt64(0, 5)
	w, err := memory.Grow(w, 100) // a bigger memory, contents moved over
	if err != nil {
		panic(err)
	}
	fmt.Println(w.Size(), w.GetInt64(0))
	// Output: 100 5
}

func ExampleMemory_HexDump() {
	fmt.Print(memory.Wrap([]byte("tiermem")).HexDump(0, 7))
	// Output:
	// memory(7 bytes at offset 0, little-endian, open), bytes 0..7:
	// 00000000  74 69 65 72 6d 65 6d                              |tiermem|
}

func ExampleHandle_Load() {
	dir, _ := os.MkdirTemp("", "memory-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "load")
	os.WriteFile(path, make([]byte, 1<<20), 0o644)
	h, _ := memory.Map(path, 0, 0)
	defer h.Close()
	if err := h.Load(); err != nil { // read ahead and touch every page
		panic(err)
	}
	loaded, _ := h.IsLoaded()
	fmt.Println(loaded)
	// Output: true
}

func ExampleWritableHandle_Populate() {
	h, err := memory.Reserve(64 << 20) // RAM only as pages are touched
	if err != nil {
		panic(err)
	}
	defer h.Close()
	// About to fill the first MiB: fault its pages in with one call
	// rather than one fault a page.
	if err := h.Populate(0, 1<<20); err != nil {
		panic(err)
	}
	w := h.Writable()
	for off := int64(0); off < 1<<20; off += 8 {
		w.PutUint64(off, uint64(off))
	}
	fmt.Println(w.GetUint64(8 << 10))
	// Output: 8192
}

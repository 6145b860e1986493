package disk_test

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/tiermem/tiermem/tier/disk"
)

func Example() {
	dir, _ := os.MkdirTemp("", "cold")
	defer os.RemoveAll(dir)

	s, err := disk.Open(dir, &disk.Options{Sync: disk.SyncAlways})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := s.Put("matrix", []byte("0123456789"), []byte("float64 2x5"))
	fmt.Println("on disk:", n, "bytes")

	v, _ := s.Get("matrix", nil)
	fmt.Printf("value: %s\n", v)

	s.Scan(func(key string, meta []byte, size int64) error {
		fmt.Printf("scan: %s (%s), %d bytes\n", key, meta, size)
		return nil
	})

	freed, _ := s.Delete("matrix")
	_, err = s.Get("matrix", nil)
	fmt.Println("freed:", freed, "then:", err)
	s.Close()
	// Output:
	// on disk: 75 bytes
	// value: 0123456789
	// scan: matrix (float64 2x5), 75 bytes
	// freed: 75 then: tier: key not found
}

func ExampleStore_View() {
	dir, _ := os.MkdirTemp("", "cold")
	defer os.RemoveAll(dir)
	s, _ := disk.Open(dir, nil)
	defer s.Close()
	s.Put("k", []byte("hello"), nil)

	// The slice is a pooled buffer, valid only until the function returns.
	s.View("k", func(v []byte) error {
		fmt.Printf("%s, %d bytes\n", v, len(v))
		return nil
	})
	// Output: hello, 5 bytes
}

func ExampleOpen_reopen() {
	dir, _ := os.MkdirTemp("", "cold")
	defer os.RemoveAll(dir)
	s, _ := disk.Open(dir, nil)
	s.Put("survives", []byte("a restart"), nil)
	s.Close() // writes hint files: the next Open reads no segment data

	s, _ = disk.Open(dir, nil)
	defer s.Close()
	v, _ := s.Get("survives", nil)
	st := s.Stats()
	fmt.Printf("%s; %d key, %d of %d segments indexed from hints\n", v, st.Keys, st.HintedSegments, st.RecoveredSegments)
	// Output: a restart; 1 key, 1 of 1 segments indexed from hints
}

func ExampleStore_Compact() {
	dir, _ := os.MkdirTemp("", "cold")
	defer os.RemoveAll(dir)
	s, _ := disk.Open(dir, &disk.Options{SegmentSize: 4 << 10, CompactThreshold: -1})
	defer s.Close()
	for i := range 100 {
		s.Put("counter", fmt.Appendf(nil, "%d", i), nil) // 99 dead records
	}
	before := s.Stats()
	s.Compact()
	after := s.Stats()
	v, _ := s.Get("counter", nil)
	fmt.Printf("dead bytes %d -> %d; counter = %s\n", before.DeadBytes, after.DeadBytes, v)
	// Output: dead bytes 5633 -> 0; counter = 99
}

// ExampleStore_OpenRaw reads a large value in pieces, after verifying it,
// without holding it in memory.
func ExampleStore_OpenRaw() {
	dir, _ := os.MkdirTemp("", "cold")
	defer os.RemoveAll(dir)
	s, err := disk.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	big := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{}).Read(big) // incompressible: stored raw
	s.Put("big", big, nil)
	v, ok, err := s.OpenRaw("big")
	if !ok || err != nil {
		fmt.Println("not open:", ok, err)
		return
	}
	defer v.Close()
	if err := v.Verify(); err != nil {
		panic(err)
	}
	piece := make([]byte, 8)
	n, _ := v.ReadAt(piece, 1<<20)
	fmt.Println(v.Size(), n, piece[0] == big[1<<20])
	// Output: 4194304 8 true
}

package extsort_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/tiermem/tiermem/internal/extsort"
)

func Example() {
	dir, _ := os.MkdirTemp("", "extsort-example-")
	defer os.RemoveAll(dir)
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 1 << 20, Compare: bytes.Compare})
	defer s.Close() // removes the run files
	for _, word := range []string{"pear", "fig", "apple", "kiwi", "date"} {
		s.Add(uint64(len(word)), []byte(word)) // by length, then alphabetically
	}
	it, err := s.Sort()
	if err != nil {
		panic(err)
	}
	for it.Next() {
		fmt.Print(it.Key(), ":", string(it.Record()), " ")
	}
	fmt.Println(it.Err())
	// Output: 3:fig 4:date 4:kiwi 4:pear 5:apple <nil>
}

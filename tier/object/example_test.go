package object_test

import (
	"fmt"
	"log"
	"os"

	"github.com/tiermem/tiermem/tier/object"
)

// A glacier store in a local directory: Puts are acknowledged by Sync,
// and a reopen finds them.
func Example() {
	dir, _ := os.MkdirTemp("", "glacier")
	defer os.RemoveAll(dir)

	b, err := object.OpenDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	s, err := object.Open(b, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Put("report-2024", []byte("quarterly figures"), []byte("text/plain")); err != nil {
		log.Fatal(err)
	}
	if err := s.Sync(); err != nil { // durable from here: delete the cold copy
		log.Fatal(err)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	s, err = object.Open(b, nil) // the catalog is rebuilt from the index objects
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.ViewMeta("report-2024", func(value, meta []byte) error {
		fmt.Printf("%s (%s)\n", value, meta)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: quarterly figures (text/plain)
}

// ParseURL reads the URLs a Manager's glacier option takes.
func ExampleParseURL() {
	for _, u := range []string{"", "s3://archive/tiermem?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true"} {
		loc, err := object.ParseURL(u, "/var/lib/tiermem/glacier")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s bucket=%q prefix=%q path=%q endpoint=%q\n", loc.Scheme, loc.Bucket, loc.Prefix, loc.Path, loc.Endpoint)
	}
	// Output:
	// file bucket="" prefix="" path="/var/lib/tiermem/glacier" endpoint=""
	// s3 bucket="archive" prefix="tiermem/" path="" endpoint="http://127.0.0.1:7070"
}

// Packs lists what `tiermem glacier ls` prints: each pack with its live
// share; Compact rewrites those below Options.MinLiveShare.
func ExampleStore_Packs() {
	dir, _ := os.MkdirTemp("", "glacier")
	defer os.RemoveAll(dir)
	b, _ := object.OpenDir(dir)
	s, _ := object.Open(b, &object.Options{PackSize: 1 << 20, Compression: object.NoCompression})
	defer s.Close()
	for i := range 4 {
		s.Put(fmt.Sprint("k", i), make([]byte, 3000), nil)
	}
	s.Delete("k0")
	s.Sync()
	packs, _ := s.Packs()
	for _, p := range packs {
		fmt.Printf("%s entries=%d durable=%v live=%.2f\n", p.Name, p.Entries, p.Durable, p.LiveShare)
	}
	// Output:
	// pack/0000000000000001.pack entries=5 durable=true live=0.75
}

package tiermem_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestPrepareLookupsIsOnlyAHint checks that PrepareLookups changes nothing a
// caller can see: no hit, miss or read counted, no key moved, every value
// as it was; and that it takes any keys (absent, empty, too long, more than
// a batch) and a closed Manager without complaint.
func TestPrepareLookupsIsOnlyAHint(t *testing.T) {
	m := open(t, nil)
	if err := m.EnableAnalytics(time.Hour); err != nil {
		t.Fatal(err)
	}
	var keys [][]byte
	for i := range 100 {
		key := fmt.Sprint("k", i)
		tr := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3]
		if err := m.Store(key, []byte(key), tiermem.InTier(tr)); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, []byte(key))
	}
	keys = append(keys, []byte("absent"), nil, make([]byte, 1<<17))
	before, _ := m.Counts()
	for range 3 {
		m.PrepareLookups(keys)
	}
	after, _ := m.Counts()
	if after != before {
		t.Errorf("counts changed by PrepareLookups: %+v, then %+v", before, after)
	}
	for i, key := range keys[:100] {
		want := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3]
		if tr, err := m.Tier(string(key)); err != nil || tr != want {
			t.Errorf("%s is in %v (%v) after PrepareLookups, want %v", key, tr, err, want)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m.PrepareLookups(keys)
}

// ExampleManager_PrepareLookups prepares the keys of a batch before looking
// them up one by one, as a server does with a pipeline of requests.
func ExampleManager_PrepareLookups() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	batch := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	for _, key := range batch {
		m.StoreBytes(key, append([]byte("value of "), key...))
	}
	m.PrepareLookups(batch)
	for _, key := range batch {
		m.ViewBytes(key, func(v []byte) error {
			fmt.Println(string(v))
			return nil
		})
	}
	// Output:
	// value of a
	// value of b
	// value of c
}

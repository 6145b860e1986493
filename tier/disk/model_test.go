package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// modelSeeds is how many scripts TestModel runs; raise it to hunt bugs.
var modelSeeds = 12

// TestModel runs random scripts of Put, Delete, Get, Compact, Close and
// reopen, and crash and reopen, against a map: after every step the store
// must agree with the map.
func TestModel(t *testing.T) {
	for seed := range uint64(modelSeeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, seed*7))
			mode := []disk.SyncMode{disk.SyncNone, disk.SyncAlways, disk.SyncEvery(5e6)}[seed%3]
			opts := &disk.Options{Sync: mode, SegmentSize: 8 << 10, CompactThreshold: 0.3}
			runModel(t, r, t.TempDir(), opts, 300)
		})
	}
}

func runModel(t *testing.T, r *rand.Rand, dir string, opts *disk.Options, steps int) {
	model := map[string][]byte{}
	s := openStore(t, dir, opts)
	for step := range steps {
		key := fmt.Sprint("key", r.IntN(24))
		switch op := r.IntN(20); {
		case op < 9:
			v := valueOf(key, r.IntN(1000))
			if r.IntN(10) == 0 {
				v = randomBytes(9<<10, uint64(step)) // larger than a segment
			}
			mustPut(t, s, key, v, []byte(key))
			model[key] = v
		case op < 12:
			_, err := s.Delete(key)
			if _, had := model[key]; had != (err == nil) || (err != nil && !errors.Is(err, tier.ErrNotFound)) {
				t.Fatalf("step %d: Delete(%q) = %v with the key present: %v", step, key, err, had)
			}
			delete(model, key)
		case op == 12:
			if err := s.Compact(); err != nil {
				t.Fatalf("step %d: Compact: %v", step, err)
			}
		case op == 13:
			s.Close()
			s = openStore(t, dir, opts)
		case op == 14:
			crash(t, s)
			s = openStore(t, dir, opts)
		default:
			checkModelKey(t, s, model, key, step)
		}
	}
	for i := range 24 {
		checkModelKey(t, s, model, fmt.Sprint("key", i), steps)
	}
	if n := s.Stats().Keys; n != int64(len(model)) {
		t.Fatalf("store holds %d keys, the model %d", n, len(model))
	}
}

func checkModelKey(t *testing.T, s *disk.Store, model map[string][]byte, key string, step int) {
	t.Helper()
	got, err := s.Get(key, nil)
	want, ok := model[key]
	switch {
	case !ok && !errors.Is(err, tier.ErrNotFound):
		t.Fatalf("step %d: Get(%q) = %d bytes, %v; want ErrNotFound", step, key, len(got), err)
	case ok && (err != nil || !bytes.Equal(got, want)):
		t.Fatalf("step %d: Get(%q) = %d bytes, %v; want %d bytes", step, key, len(got), err, len(want))
	}
}

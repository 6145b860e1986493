package object_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// chaosValue is version v of key k: every read must return one of these
// for its key, whole.
func chaosValue(k, v int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "k%d v%d|", k, v), 20+(k*31+v*17)%400)
}

// TestChaos: goroutines Put, Delete, read, Sync and Compact the same keys
// while the bucket fails a tenth of its requests at random (retried),
// truncates some bodies and flips some bytes on the wire. Every read
// returns a whole version of its key, or an error (ErrNotFound,
// ErrUnavailable, or ErrCorrupt when both its attempts met flipped
// bytes), never other bytes; after a last Sync and a reopen, every key
// holds its last acknowledged state.
func TestChaos(t *testing.T) {
	dir := t.TempDir()
	f := newFaulty(mustDir(t, dir))
	o := quick()
	o.Retries, o.PackSize = 6, 8<<10
	s := mustOpen(t, f, o)
	const keys, writers = 40, 3
	var mu sync.Mutex     // protects last
	last := map[int]int{} // key → last version put (-1: deleted)
	stop := make(chan struct{})
	var others, writing sync.WaitGroup
	others.Go(func() { chaosFaults(f, stop) })
	others.Go(func() { chaosRead(t, s, keys, stop) })
	others.Go(func() { chaosMaintain(t, s, stop) })
	for g := range writers {
		writing.Go(func() { chaosWrite(t, s, g, keys, &mu, last) })
	}
	writing.Wait()
	close(stop)
	others.Wait()
	f.heal()
	mustSync(t, s)
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), o)
	defer s.Close()
	for k, v := range last {
		got, err := get(s, fmt.Sprint("k", k))
		switch {
		case v < 0 && !errors.Is(err, tier.ErrNotFound):
			t.Errorf("k%d was deleted last; reads %d bytes, %v", k, len(got), err)
		case v >= 0 && (err != nil || !bytes.Equal(got, chaosValue(k, v))):
			t.Errorf("k%d: %d bytes, %v; want version %d", k, len(got), err, v)
		}
	}
}

// chaosFaults keeps injecting faults until stop.
func chaosFaults(f *faulty, stop chan struct{}) {
	rng := rand.New(rand.NewPCG(5, 6))
	for {
		select {
		case <-stop:
			return
		default:
		}
		if f.pending() < 3 {
			ops := []string{"put", "get", "delete"}
			flt := []fault{fail, fail, fail, truncate, flip}[rng.IntN(5)]
			op := ops[rng.IntN(len(ops))]
			if flt != fail {
				op = "get"
			}
			f.inject(rule{op: op, fault: flt, times: 1})
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// chaosWrite puts and deletes writer g's share of the keys.
func chaosWrite(t *testing.T, s *object.Store, g, keys int, mu *sync.Mutex, last map[int]int) {
	rng := rand.New(rand.NewPCG(uint64(g), 7))
	for i := range 1500 {
		k := g + 3*rng.IntN(keys/3) // each key has one writer
		key := fmt.Sprint("k", k)
		var err error
		v := -1
		if rng.IntN(5) == 0 {
			_, err = s.Delete(key)
			if errors.Is(err, tier.ErrNotFound) {
				err = nil
			}
		} else {
			v = g<<16 | i
			_, err = s.Put(key, chaosValue(k, v), nil)
		}
		if err != nil {
			continue // refused while an upload failed: the last state stands
		}
		mu.Lock()
		last[k] = v
		mu.Unlock()
	}
}

// chaosRead reads random keys until stop and checks what it gets.
func chaosRead(t *testing.T, s *object.Store, keys int, stop chan struct{}) {
	rng := rand.New(rand.NewPCG(8, 9))
	for {
		select {
		case <-stop:
			return
		default:
		}
		k := rng.IntN(keys)
		got, err := get(s, fmt.Sprint("k", k))
		if err == nil && !isChaosValue(k, got) {
			t.Errorf("k%d read %q: not a version of the key", k, got[:min(40, len(got))])
			return
		}
		// A read that met flipped bytes on both its attempts is
		// ErrCorrupt: an error, never wrong bytes. The reopen at the
		// end checks that nothing at rest was damaged.
		if err != nil && !errors.Is(err, tier.ErrNotFound) && !errors.Is(err, object.ErrUnavailable) && !errors.Is(err, tier.ErrCorrupt) {
			t.Errorf("k%d: %v", k, err)
			return
		}
	}
}

func isChaosValue(k int, b []byte) bool {
	var kk, v int
	if _, err := fmt.Sscanf(string(b), "k%d v%d|", &kk, &v); err != nil || kk != k {
		return false
	}
	return bytes.Equal(b, chaosValue(k, v))
}

// chaosMaintain syncs and compacts until stop; failures are expected.
func chaosMaintain(t *testing.T, s *object.Store, stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		if i%3 == 2 {
			err = s.Compact()
		} else {
			err = s.Sync()
		}
		if err != nil && !errors.Is(err, object.ErrUnavailable) && !errors.Is(err, tier.ErrCorrupt) {
			t.Errorf("maintenance: %v", err)
			return
		}
	}
}

package offheap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// SetMetas written in the padding race Views, OpenLarge readers, Victim
// and Idle sweeps, ScanValues and Puts of other keys: readers must always
// see the one value, and a meta some SetMeta wrote whole.
func TestInPaddingRacesReaders(t *testing.T) {
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	val := noise(200<<10, 9)
	metas := [][]byte{nil}
	for n := 1; n <= 20; n++ {
		metas = append(metas, bytes.Repeat([]byte{byte(n)}, n))
	}
	okMeta := func(m []byte) bool {
		for _, w := range metas {
			if bytes.Equal(m, w) {
				return true
			}
		}
		return false
	}
	if _, err := s.Put("k", val, nil); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	run := func(f func(rng *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(rng); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	run(func(rng *rand.Rand) error {
		_, err := s.SetMeta("k", metas[rng.IntN(len(metas))], 1<<20)
		return err
	})
	run(func(rng *rand.Rand) error {
		return s.ViewMeta("k", func(v, m []byte) error {
			if !bytes.Equal(v, val) || !okMeta(m) {
				return fmt.Errorf("ViewMeta: value equal %v, meta %x", bytes.Equal(v, val), m)
			}
			return nil
		})
	})
	run(func(rng *rand.Rand) error {
		v, ok, err := s.OpenLarge("k")
		if err != nil || !ok {
			return fmt.Errorf("OpenLarge: %v %v", ok, err)
		}
		defer v.Close()
		if !okMeta(v.Meta()) {
			return fmt.Errorf("LargeValue meta %x", v.Meta())
		}
		time.Sleep(time.Microsecond)
		got, err := readLarge(v)
		if err != nil || !bytes.Equal(got, val) {
			return fmt.Errorf("LargeValue read: %v", err)
		}
		return nil
	})
	run(func(rng *rand.Rand) error {
		s.Victim(func(key string, meta []byte) bool {
			if key == "k" && !okMeta(meta) {
				errc <- fmt.Errorf("Victim meta %x", meta)
			}
			return true
		})
		s.Idle(func(key string, meta []byte) bool {
			if key == "k" && !okMeta(meta) {
				errc <- fmt.Errorf("Idle meta %x", meta)
			}
			return true
		})
		key := fmt.Sprint("o", rng.IntN(50))
		if rng.IntN(2) == 0 {
			s.Put(key, noise(rng.IntN(100000), 3), nil)
		} else {
			s.Delete(key)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	checkCounts(t, s)
}

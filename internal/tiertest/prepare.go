package tiertest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
)

// prepareLookups: PrepareLookups is only a hint. After it is given present,
// absent, empty and long keys, the store holds the same bytes and values,
// and a store that chooses its own victims finds every key still unread
// (Idle): the hint recorded no read. A closed store takes the hint too.
// (closeRacing calls it while Close runs.)
func prepareLookups(t *testing.T, s tier.Store) {
	p, ok := s.(tier.LookupPreparer)
	if !ok {
		t.Skipf("%T prepares no lookups", s)
	}
	const n = 200
	var keys [][]byte
	for i := range n {
		key := fmt.Sprint("k", i)
		_, err := s.Put(key, []byte(key+"-value"), []byte("m"))
		must(t, err)
		keys = append(keys, []byte(key))
	}
	keys = append(keys, []byte("absent"), nil, make([]byte, 1<<16), []byte("k7"))
	cs, isClock := s.(clockStore)
	if isClock {
		cs.Idle(func(string, []byte) bool { return true }) // clears every reference
	}
	used, length := s.Used(), s.Len()
	p.PrepareLookups(keys)
	p.PrepareLookups(nil)
	if s.Used() != used || s.Len() != length {
		t.Errorf("Used %d, Len %d after PrepareLookups; %d and %d before", s.Used(), s.Len(), used, length)
	}
	if isClock {
		idle := 0
		cs.Idle(func(string, []byte) bool { idle++; return true })
		if idle != n {
			t.Errorf("%d of %d keys unread after PrepareLookups: the hint recorded reads", idle, n)
		}
	}
	for _, k := range keys[:n] {
		err := s.ViewMeta(string(k), func(v, _ []byte) error {
			if string(v) != string(k)+"-value" {
				t.Errorf("%s reads %q after PrepareLookups", k, v)
			}
			return nil
		})
		must(t, err)
	}
	must(t, s.Close())
	p.PrepareLookups(keys)
}

// prepareLookupsRacing: PrepareLookups runs, with the same key slices
// reused between calls, while other goroutines put (growing the index,
// small and large values) and delete (shrinking it, moving entries back,
// leaving tombstones) 3000 keys, read, and Close the store (freeing its
// memory); and after Close. Nothing may race, panic or fault, and every
// value read is the one put.
func prepareLookupsRacing(t *testing.T, s tier.Store) {
	p, ok := s.(tier.LookupPreparer)
	if !ok {
		t.Skipf("%T prepares no lookups", s)
	}
	keys := make([][]byte, 3000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprint("key-", i))
	}
	value := func(k string) []byte {
		if len(k)%3 == 0 {
			return append([]byte(k), make([]byte, 6000)...)
		}
		return []byte(k)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for round := 0; ; round++ {
				for i := w; i < len(keys); i += 2 {
					select {
					case <-stop:
						return
					default:
					}
					if k := string(keys[i]); round%2 == 0 {
						s.Put(k, value(k), nil)
					} else {
						s.Delete(k)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for {
			for i := 0; i < len(keys); i += 97 {
				select {
				case <-stop:
					return
				default:
				}
				k := string(keys[i])
				err := s.ViewMeta(k, func(v, _ []byte) error {
					if string(v) != string(value(k)) {
						t.Errorf("%s reads %d bytes, not its value", k, len(v))
					}
					return nil
				})
				if err != nil && !errors.Is(err, tier.ErrNotFound) && !errors.Is(err, tier.ErrClosed) {
					t.Errorf("ViewMeta(%s): %v", k, err)
				}
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					p.PrepareLookups(keys) // after Close too
					return
				default:
				}
				for i := 0; i < len(keys); i += 32 {
					p.PrepareLookups(keys[i:min(i+32, len(keys))])
				}
			}
		})
	}
	time.Sleep(time.Duration(rounds(300)) * time.Millisecond)
	must(t, s.Close())
	close(stop)
	wg.Wait()
}

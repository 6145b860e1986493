package heap

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem/cache"
)

func Exempt(meta []byte) bool { return string(meta) == "pin" }

// Accounting checks Used and Len against a Scan.
func Accounting(t *testing.T, s *Store) {
	t.Helper()
	var sum, n int64
	s.Scan(func(_ string, _ []byte, size int64) error {
		sum += size
		n++
		return nil
	})
	if sum != s.Used() || n != s.Len() {
		t.Fatalf("Used %d, Len %d; Scan: %d bytes in %d entries", s.Used(), s.Len(), sum, n)
	}
}

// TestPendingChurnWithSetPolicy: Put, Commit of prepared values
// (new and replacing; pinned and not), Delete, Touch and Victim+Delete race
// SetPolicy switches; afterwards the accounting is exact, every handle is
// consistent (checkHandles: resident for choosable entries, with the
// entry's own key, none shared, none resident in the pool) and victims
// empty the policy with the store.
func TestPendingChurnWithSetPolicy(t *testing.T) {
	s, err := NewWithPolicy(PolicyOptions{Kind: cache.LRU, Capacity: 1 << 20, Exempt: Exempt})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprint("k", (i*7+w)%200)
				var meta []byte
				if i%10 == 3 {
					meta = []byte("pin")
				}
				switch i % 7 {
				case 0, 1:
					p, err := s.Prepare(key, i%700, len(meta))
					if err != nil {
						t.Error(err)
						return
					}
					for j := range p.Value() {
						p.Value()[j] = byte(i)
					}
					if i%5 == 0 {
						p.Discard()
						continue
					}
					if _, err := p.Commit(meta); err != nil {
						t.Error(err)
						return
					}
				case 2:
					s.Put(key, make([]byte, i%300), meta)
				case 3:
					s.Delete(key)
				case 4:
					if k, ok := s.Victim(nil); ok && w == 0 {
						s.Delete(k)
					}
				default:
					s.Touch(key)
				}
			}
		})
	}
	kinds := []cache.Kind{cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO, cache.Adaptive}
	for i := range 80 {
		if err := s.SetPolicy(kinds[i%len(kinds)], 1<<20); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()
	Accounting(t, s)
	checkHandles(t, s)
	Accounting(t, s)
}

// TestCommitReplaceKeepsPolicyState: a prepared value replacing an
// entry keeps its handle, rekeyed onto the new data; the word is the
// store's time; pinned -> unpinned and unpinned -> pinned replacements by
// Commit move the entry in and out of the policy.
func TestCommitReplaceKeepsPolicyState(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := NewWithPolicy(PolicyOptions{Kind: cache.LRU, Capacity: 1 << 20, Exempt: Exempt, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commit := func(key string, v []byte, meta []byte) {
		p, err := s.Prepare(key, len(v), len(meta))
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Value(), v)
		if _, err := p.Commit(meta); err != nil {
			t.Fatal(err)
		}
	}
	s.Put("a", []byte("old-a"), nil)
	s.Put("b", []byte("old-b"), nil)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	commit("a", bytes.Repeat([]byte("A"), 1000), nil) // a is now the most recent: b is the victim
	if v, _ := s.Victim(nil); v != "b" {
		t.Fatalf("victim %q after a's replace, want b", v)
	}
	sh, h := s.shard("a")
	sh.mu.RLock()
	e, _ := sh.values.get("a", h)
	sameData := e.h.Key() == e.key() && unsafeBytes(e.h.Key()) == unsafeBytes(e.key())
	word := e.word().Load()
	sh.mu.RUnlock()
	if !sameData {
		t.Errorf("a's handle key is not over its entry's new data (the old allocation stays alive)")
	}
	if word != now.UnixNano() {
		t.Errorf("a's word %d, want the store time %d", word, now.UnixNano())
	}
	commit("a", []byte("pinned"), []byte("pin"))
	commit("b", []byte("pinned"), []byte("pin"))
	if v, ok := s.Victim(nil); ok {
		t.Fatalf("victim %q with every entry pinned", v)
	}
	commit("a", []byte("free"), nil)
	if v, _ := s.Victim(nil); v != "a" {
		t.Fatalf("victim %q after a's unpinning Commit, want a", v)
	}
	Accounting(t, s)
	checkHandles(t, s)
}

func unsafeBytes(s string) *byte { return unsafe.StringData(s) }

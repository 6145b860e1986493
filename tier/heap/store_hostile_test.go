package heap_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

func rvValue(k int, ver uint32, n int) []byte {
	b := make([]byte, n)
	var w [8]byte
	binary.LittleEndian.PutUint32(w[:4], uint32(k))
	binary.LittleEndian.PutUint32(w[4:], ver)
	for i := range b {
		b[i] = w[i%8] ^ byte(i/8)
	}
	return b
}

func rvCheck(k int, v []byte) (uint32, string) {
	if len(v) < 8 {
		return 0, ""
	}
	ver := binary.LittleEndian.Uint32(v[4:8])
	want := rvValue(k, ver, len(v))
	for i := range v {
		if v[i] != want[i] {
			return ver, fmt.Sprintf("key %d ver %d len %d: byte %d is %#x want %#x", k, ver, len(v), i, v[i], want[i])
		}
	}
	return ver, ""
}

func rvStores(t *testing.T) map[string]*heap.Store {
	p, err := heap.NewWithPolicy(heap.PolicyOptions{Kind: cache.LRU, Capacity: 1 << 30, Exempt: func(m []byte) bool { return string(m) == "pin" }})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*heap.Store{"clock": heap.New(), "policy": p}
}

var rvSizes = []int{0, 8, 100, 1000, 60000, 65536 - 40, 65536, 70000, 140000}

type rvLent struct {
	k   int
	ver uint32
	v   []byte
	cp  []byte
}

func TestHostileHeapConcurrentVersionsAndLent(t *testing.T) {
	for name, s := range rvStores(t) {
		t.Run(name, func(t *testing.T) {
			const keys = 16
			var ver [keys]atomic.Uint32
			var mus [keys]sync.Mutex
			var bad atomic.Int32
			var lentMu sync.Mutex
			var lent []rvLent
			var wg sync.WaitGroup
			deadline := time.Now().Add(2 * time.Second)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 3))
					for time.Now().Before(deadline) && bad.Load() < 5 {
						k := rng.IntN(keys)
						key := fmt.Sprintf("key-%d", k)
						switch op := rng.IntN(12); {
						case op < 3:
							mus[k].Lock()
							v := ver[k].Load() + 1
							n := rvSizes[rng.IntN(len(rvSizes))]
							meta := []byte(nil)
							if rng.IntN(4) == 0 {
								meta = []byte("pin")
							}
							if _, err := s.Put(key, rvValue(k, v, n), meta); err != nil {
								t.Errorf("Put: %v", err)
							}
							ver[k].Store(v)
							mus[k].Unlock()
						case op == 3:
							mus[k].Lock()
							v := ver[k].Load() + 1
							n := rvSizes[rng.IntN(len(rvSizes))]
							p, err := s.Prepare(key, n, 8)
							if err != nil {
								t.Errorf("Prepare: %v", err)
							} else {
								copy(p.Value(), rvValue(k, v, n))
								if _, err := p.Commit(make([]byte, rng.IntN(9))); err != nil {
									t.Errorf("Commit: %v", err)
								}
							}
							ver[k].Store(v)
							mus[k].Unlock()
						case op == 4:
							mus[k].Lock()
							s.Delete(key)
							mus[k].Unlock()
						case op == 5:
							mus[k].Lock()
							_, err := s.SetMeta(key, make([]byte, rng.IntN(60)), 1<<30)
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Errorf("SetMeta: %v", err)
							}
							mus[k].Unlock()
						case op < 9:
							min := ver[k].Load()
							err := s.ViewMeta(key, func(v, meta []byte) error {
								got, msg := rvCheck(k, v)
								if msg != "" {
									bad.Add(1)
									t.Error(msg)
								} else if len(v) >= 8 && got < min {
									bad.Add(1)
									t.Errorf("key %d: read version %d after %d was put", k, got, min)
								}
								if s.Lends(len(v)) && rng.IntN(4) == 0 {
									lentMu.Lock()
									lent = append(lent, rvLent{k, got, v, append([]byte(nil), v...)})
									lentMu.Unlock()
								}
								return nil
							})
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Errorf("ViewMeta: %v", err)
							}
						case op == 9:
							s.Victim(nil)
							s.Touch(key)
						default:
							v, err := s.Get(key, nil)
							if err == nil {
								if _, msg := rvCheck(k, v); msg != "" {
									bad.Add(1)
									t.Error(msg)
								}
							}
						}
					}
				}()
			}
			wg.Wait()
			var sum, n int64
			s.Scan(func(key string, meta []byte, size int64) error {
				sum += size
				n++
				if sz, err := s.Size(key); err != nil || sz != size {
					t.Errorf("Size(%q) = %d %v, scan says %d", key, sz, err, size)
				}
				return nil
			})
			if sum != s.Used() || n != s.Len() {
				t.Errorf("Scan sum %d n %d, Used %d Len %d", sum, n, s.Used(), s.Len())
			}
			s.Close()
			runtime.GC()
			for _, l := range lent {
				if string(l.v) != string(l.cp) {
					t.Fatalf("lent value of key %d ver %d changed after its callback", l.k, l.ver)
				}
			}
			if s.Used() != 0 || s.Len() != 0 {
				t.Errorf("after Close Used %d Len %d", s.Used(), s.Len())
			}
			t.Logf("%d lent values checked", len(lent))
			lent = nil
			for i := 0; i < 50 && s.Held() != 0; i++ {
				runtime.GC()
				time.Sleep(10 * time.Millisecond)
			}
			if s.Held() != 0 {
				t.Errorf("Held = %d after everything was dropped", s.Held())
			}
		})
	}
}

func TestHostileHeapCloseRacing(t *testing.T) {
	before := runtime.NumGoroutine()
	for round := range 2 {
		for name, s := range rvStores(t) {
			var closed atomic.Bool
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s round %d: panic: %v", name, round, r)
						}
					}()
					rng := rand.New(rand.NewPCG(uint64(g), uint64(round)))
					for i := 0; i < 2000; i++ {
						k := rng.IntN(16)
						key := fmt.Sprint("c", k)
						was := closed.Load()
						var err error
						op := rng.IntN(8)
						switch op {
						case 0:
							_, err = s.Put(key, rvValue(k, uint32(i), []int{10, 500, 70000}[rng.IntN(3)]), nil)
						case 1:
							_, err = s.Delete(key)
						case 2:
							err = s.View(key, func(v []byte) error {
								if _, msg := rvCheck(k, v); msg != "" {
									t.Error(msg)
								}
								return nil
							})
						case 3:
							_, err = s.SetMeta(key, []byte("abc"), 1<<20)
						case 4:
							var p tier.Pending
							p, err = s.Prepare(key, 600, 0)
							if err == nil {
								copy(p.Value(), rvValue(k, uint32(i), 600))
								_, err = p.Commit(nil)
								p.Discard()
							}
						case 5:
							err = s.Scan(func(string, []byte, int64) error { return nil })
						case 6:
							_, err = s.Meta(key)
						case 7:
							_, err = s.Size(key)
							s.Victim(nil)
							s.Idle(func(string, []byte) bool { return true })
							s.Touch(key)
							s.PrepareLookups([][]byte{[]byte(key), []byte("c1"), nil})
						}
						if was && !errors.Is(err, tier.ErrClosed) {
							t.Errorf("%s round %d: op %d after Close returned %v", name, round, op, err)
							return
						}
						if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
							t.Errorf("%s round %d: op %d: %v", name, round, op, err)
							return
						}
					}
				}()
			}
			time.Sleep(time.Duration(round%5) * time.Millisecond)
			s.Close()
			closed.Store(true)
			wg.Wait()
			if s.Used() != 0 || s.Len() != 0 {
				t.Errorf("%s: after Close Used %d Len %d", name, s.Used(), s.Len())
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before, %d after closing every store", before, after)
	}
}

func TestHostileHeapAfterClose(t *testing.T) {
	for name, s := range rvStores(t) {
		s.Put("a", []byte("x"), nil)
		s.Close()
		if _, err := s.Prepare("a", 10, 0); !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s: Prepare after Close: %v, want ErrClosed", name, err)
		}
		if err := s.Close(); !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s: second Close: %v", name, err)
		}
		if _, err := s.SetMeta("a", nil, 0); !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s: SetMeta after Close: %v", name, err)
		}
		if err := s.ScanValues(func(string, []byte, []byte, error) error { return nil }); !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s: ScanValues after Close: %v", name, err)
		}
	}
}

func TestHostileHeapBadInput(t *testing.T) {
	for name, s := range rvStores(t) {
		if _, err := s.Put("", []byte("x"), nil); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("%s: Put empty key: %v", name, err)
		}
		if _, err := s.Prepare("", 1, 0); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("%s: Prepare empty key: %v", name, err)
		}
		for _, c := range [][2]int{{-1, 0}, {math.MaxInt64, 0}, {math.MaxInt64 - 1, 0}, {math.MaxUint32, 0}, {10, -5}, {10, math.MaxInt64}, {-10, math.MaxInt64}} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: Prepare(size %d, metaLen %d) panicked: %v", name, c[0], c[1], r)
					}
				}()
				if _, err := s.Prepare("k", c[0], c[1]); !errors.Is(err, tier.ErrTooLarge) && !errors.Is(err, tier.ErrInvalidKey) {
					t.Errorf("%s: Prepare(size %d, metaLen %d): %v", name, c[0], c[1], err)
				}
			}()
		}
		if _, err := s.Put("z", nil, nil); err != nil {
			t.Errorf("%s: zero value: %v", name, err)
		}
		p, _ := s.Prepare("zp", 0, 0)
		if _, err := p.Commit(nil); err != nil {
			t.Errorf("%s: zero prepared: %v", name, err)
		}
		if v, err := s.Get("zp", nil); err != nil || len(v) != 0 {
			t.Errorf("%s: zp %v %v", name, v, err)
		}
		if _, err := s.SetMeta("", []byte("m"), 100); !errors.Is(err, tier.ErrInvalidKey) && !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("%s: SetMeta empty key: %v", name, err)
		}
		s.Close()
	}
}

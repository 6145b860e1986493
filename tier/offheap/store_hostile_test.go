package offheap_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// rvValue encodes key index and version into every 8 bytes.
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

// rvCheck returns "" if v is a whole value of key k with some version, the
// version otherwise.
func rvCheck(k int, v []byte) (uint32, string) {
	if len(v) < 8 {
		if len(v) == 0 {
			return 0, ""
		}
		// short values: check the key byte pattern only
		want := rvValue(k, 0, len(v))
		for i := 0; i < len(v) && i < 4; i++ {
			if v[i] != want[i] {
				return 0, fmt.Sprintf("short value of key %d: % x", k, v)
			}
		}
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

var rvSizes = []int{0, 3, 100, 255, 256, 300, 1000, 1024, 3000, 5000, 9000, 70000}

func TestHostileConcurrentVersions(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			s, err := offheap.New(&offheap.Options{Capacity: 64 << 20, MaxSmall: 4 << 10, Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			const keys = 24
			var ver [keys]atomic.Uint32 // highest version whose Put returned
			var mus [keys]sync.Mutex    // serialize writers per key so "never older" is checkable
			var bad atomic.Int32
			var wg sync.WaitGroup
			deadline := time.Now().Add(3 * time.Second)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for time.Now().Before(deadline) && bad.Load() < 5 {
						k := rng.IntN(keys)
						key := fmt.Sprintf("key-%d", k)
						switch op := rng.IntN(10); {
						case op < 3:
							mus[k].Lock()
							v := ver[k].Load() + 1
							n := rvSizes[rng.IntN(len(rvSizes))]
							if n < 8 && n > 0 {
								n = 8
							}
							if _, err := s.Put(key, rvValue(k, v, n), []byte(fmt.Sprint(v))); err != nil {
								t.Errorf("Put: %v", err)
							}
							ver[k].Store(v)
							mus[k].Unlock()
						case op == 3:
							mus[k].Lock()
							s.Delete(key)
							mus[k].Unlock()
						case op == 4:
							mus[k].Lock()
							_, err := s.SetMeta(key, make([]byte, rng.IntN(40)), 1<<30)
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Errorf("SetMeta: %v", err)
							}
							mus[k].Unlock()
						case op < 7:
							min := ver[k].Load()
							err := s.ViewMeta(key, func(v, meta []byte) error {
								got, msg := rvCheck(k, v)
								if msg != "" {
									bad.Add(1)
									t.Error(msg)
								} else if len(v) >= 8 && got < min {
									bad.Add(1)
									t.Errorf("key %d: read version %d after version %d was put", k, got, min)
								}
								return nil
							})
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Errorf("ViewMeta: %v", err)
							}
						default:
							v, err := s.Get(key, nil)
							if err == nil {
								if _, msg := rvCheck(k, v); msg != "" {
									bad.Add(1)
									t.Error(msg)
								}
							} else if !errors.Is(err, tier.ErrNotFound) {
								t.Errorf("Get: %v", err)
							}
						}
					}
				}()
			}
			wg.Wait()
			// Accounting: Used == sum of sizes; Len == keys listed.
			var sum, n int64
			s.Scan(func(key string, meta []byte, size int64) error { sum += size; n++; return nil })
			if sum != s.Used() || n != s.Len() {
				t.Errorf("Scan sum %d n %d, Used %d Len %d", sum, n, s.Used(), s.Len())
			}
		})
	}
}

func TestHostileLargeValueOutlivesEverything(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200 << 10
	want := rvValue(1, 1, n)
	s.Put("k", want, []byte("m1"))
	lv, opened, err := s.OpenLarge("k")
	if err != nil || !opened {
		t.Fatalf("OpenLarge: %v %v", opened, err)
	}
	lv2, _, _ := s.OpenLarge("k")
	check := func(when string, lv *offheap.LargeValue) {
		t.Helper()
		got := make([]byte, n)
		if m, err := lv.ReadAt(got, 0); m != n || (err != nil && err != io.EOF) {
			t.Fatalf("%s: ReadAt %d %v", when, m, err)
		}
		if _, msg := rvCheck(1, got); msg != "" || got[8] != want[8] {
			t.Fatalf("%s: %s", when, msg)
		}
		lv.View(func(v []byte) error {
			if _, msg := rvCheck(1, v); msg != "" || binary.LittleEndian.Uint32(v[4:8]) != 1 {
				t.Fatalf("%s: View: %s ver %d", when, msg, binary.LittleEndian.Uint32(v[4:8]))
			}
			return nil
		})
		if string(lv.Meta()) != "m1" {
			t.Fatalf("%s: meta %q", when, lv.Meta())
		}
	}
	check("open", lv)
	s.SetMeta("k", []byte("m2"), 1<<20)
	check("setmeta same len", lv)
	s.SetMeta("k", make([]byte, 3000), 1<<20)
	check("setmeta long", lv)
	s.Put("k", rvValue(1, 2, n), nil) // same size: a spare mapping may be reused
	check("replace", lv)
	for i := range 20 {
		s.Put(fmt.Sprint("other", i), rvValue(9, uint32(i), n), nil)
		s.Delete(fmt.Sprint("other", i))
	}
	check("churn", lv)
	s.Delete("k")
	check("delete", lv)
	if s.Held() <= 0 {
		t.Errorf("Held = %d with an open LargeValue", s.Held())
	}
	s.Close()
	check("store closed", lv)
	check("store closed 2", lv2)
	lv.Close()
	check("other closed", lv2)
	lv2.Close()
	if h := s.Held(); h != 0 {
		t.Errorf("Held = %d after every LargeValue closed", h)
	}
	if _, err := lv.ReadAt(make([]byte, 1), 0); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
}

func TestHostileLargeValueConcurrentReplace(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const keys = 4
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	var stop atomic.Bool
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			var open []*offheap.LargeValue
			var openK []int
			for time.Now().Before(deadline) && !stop.Load() {
				k := rng.IntN(keys)
				key := fmt.Sprint("L", k)
				switch rng.IntN(5) {
				case 0:
					s.Put(key, rvValue(k, rng.Uint32(), 8192+rng.IntN(3)*4096), nil)
				case 1:
					s.Delete(key)
				case 2:
					lv, ok, err := s.OpenLarge(key)
					if err == nil && ok {
						open = append(open, lv)
						openK = append(openK, k)
					}
				default:
					if len(open) > 0 {
						i := rng.IntN(len(open))
						lv := open[i]
						lv.View(func(v []byte) error {
							if _, msg := rvCheck(openK[i], v); msg != "" {
								t.Error(msg)
								stop.Store(true)
							}
							return nil
						})
						if rng.IntN(3) == 0 {
							lv.Close()
							open = append(open[:i], open[i+1:]...)
							openK = append(openK[:i], openK[i+1:]...)
						}
					}
				}
			}
			for _, lv := range open {
				lv.Close()
			}
		}()
	}
	wg.Wait()
	if h := s.Held(); h != 0 {
		t.Errorf("Held %d after all closed", h)
	}
	s.Close()
}

func TestHostileBadInput(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put("", []byte("x"), nil); !errors.Is(err, tier.ErrInvalidKey) {
		t.Errorf("Put empty key: %v", err)
	}
	if _, err := s.Put(string(make([]byte, 1<<16)), []byte("x"), nil); !errors.Is(err, tier.ErrInvalidKey) {
		t.Errorf("Put 64KiB key: %v", err)
	}
	if _, err := s.Put("z", nil, nil); err != nil {
		t.Errorf("Put zero value: %v", err)
	}
	if v, err := s.Get("z", nil); err != nil || len(v) != 0 {
		t.Errorf("Get zero value: %v %v", v, err)
	}
	for _, size := range []int{-1, math.MaxInt64, math.MaxInt64 - 100, 1 << 62} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Prepare(size %d) panicked: %v", size, r)
				}
			}()
			p, err := s.Prepare("p", size, 0)
			if err == nil {
				p.Discard()
				t.Errorf("Prepare(size %d): no error", size)
			} else if !errors.Is(err, tier.ErrInvalidKey) && !errors.Is(err, tier.ErrTooLarge) && !errors.Is(err, tier.ErrNoSpace) {
				t.Errorf("Prepare(size %d): %v", size, err)
			} else {
				t.Logf("Prepare(size %d): %v", size, err)
			}
		}()
	}
	if _, err := s.Prepare("p", 10, -1); !errors.Is(err, tier.ErrInvalidKey) {
		t.Errorf("Prepare meta -1: %v", err)
	}
}

func TestHostileCloseRacing(t *testing.T) {
	for round := range 20 {
		s, err := offheap.New(&offheap.Options{Capacity: 8 << 20, MaxSmall: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var closed atomic.Bool
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("round %d: panic: %v", round, r)
					}
				}()
				rng := rand.New(rand.NewPCG(uint64(g), uint64(round)))
				for i := 0; i < 3000; i++ {
					k := rng.IntN(16)
					key := fmt.Sprint("c", k)
					was := closed.Load()
					var err error
					switch rng.IntN(7) {
					case 0:
						_, err = s.Put(key, rvValue(k, uint32(i), []int{10, 500, 6000}[rng.IntN(3)]), nil)
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
						p, err = s.Prepare(key, 6000, 0)
						if err == nil {
							copy(p.Value(), rvValue(k, uint32(i), 6000))
							_, err = p.Commit(nil)
							p.Discard()
						}
					case 5:
						var lv *offheap.LargeValue
						var ok bool
						lv, ok, err = s.OpenLarge(key)
						if ok {
							lv.View(func(v []byte) error {
								if _, msg := rvCheck(k, v); msg != "" {
									t.Error(msg)
								}
								return nil
							})
							lv.Close()
						}
					case 6:
						err = s.Scan(func(string, []byte, int64) error { return nil })
						s.PrepareLookups([][]byte{[]byte(key), []byte("c1"), nil})
					}
					if was && !errors.Is(err, tier.ErrClosed) {
						t.Errorf("round %d: op after Close returned %v", round, err)
						return
					}
					if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		s.Close()
		closed.Store(true)
		wg.Wait()
	}
}

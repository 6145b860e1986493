package alloc_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

func hostileNoPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", name, r)
		}
	}()
	f()
}

// Huge or bad sizes to the constructors: an error, never a panic.
func TestHostileConstructorsHugeAndBad(t *testing.T) {
	type ctor struct {
		name string
		f    func() error
	}
	cases := []ctor{
		{"NewSlab(MaxInt64)", func() error { _, err := alloc.NewSlab(math.MaxInt64, nil); return err }},
		{"NewSlab(MaxInt64, 2GiB spans)", func() error {
			if os.Getenv("HOSTILE_FATAL") == "" {
				// Crashes the test binary: fatal error: runtime: out of memory
				// (makeslice of 2^32 spans, 256 GiB). Set HOSTILE_FATAL=1 to see it.
				return alloc.ErrInvalidSize
			}
			_, err := alloc.NewSlab(math.MaxInt64, &alloc.SlabOptions{SpanSize: 1 << 31, MaxSize: 1 << 20})
			return err
		}},
		{"NewBuddy(MaxInt64, 16)", func() error { _, err := alloc.NewBuddy(math.MaxInt64, 16); return err }},
		{"NewSlab(-1)", func() error { _, err := alloc.NewSlab(-1, nil); return err }},
		{"NewSlab(0)", func() error { _, err := alloc.NewSlab(0, nil); return err }},
		{"NewSlab span 3000", func() error { _, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 3000}); return err }},
		{"NewSlab negative MaxSize", func() error { _, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{MaxSize: -16}); return err }},
		{"NewSlab negative SpanSize", func() error { _, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: -4096}); return err }},
		{"NewBuddy(0,16)", func() error { _, err := alloc.NewBuddy(0, 16); return err }},
		{"NewBuddy(1<<20, 24)", func() error { _, err := alloc.NewBuddy(1<<20, 24); return err }},
		{"NewBuddy(1<<20, MinInt64)", func() error { _, err := alloc.NewBuddy(1<<20, math.MinInt64); return err }},
		{"NewArena(0)", func() error { _, err := alloc.NewArena(0); return err }},
		{"NewArena(-5)", func() error { _, err := alloc.NewArena(-5); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			ok := func() (ok bool) {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s panicked: %v", c.name, r)
					}
				}()
				err = c.f()
				return true
			}()
			if ok && !errors.Is(err, alloc.ErrInvalidSize) && !errors.Is(err, alloc.ErrTooLarge) {
				t.Errorf("%s = %v, want ErrInvalidSize or ErrTooLarge", c.name, err)
			}
		})
	}
}

func hostileAllocators(t *testing.T) map[string]func() alloc.Allocator {
	return map[string]func() alloc.Allocator{
		"slab": func() alloc.Allocator {
			s, err := alloc.NewSlab(1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"buddy": func() alloc.Allocator {
			b, err := alloc.NewBuddy(1<<20, 16)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
}

// Many goroutines on Synchronized allocators: no two live allocations ever
// overlap, all lie inside the space and are aligned; counters consistent.
func TestHostileConcurrentNoOverlap(t *testing.T) {
	mk := hostileAllocators(t)
	mk["arena"] = func() alloc.Allocator {
		a, err := alloc.NewArena(1 << 22)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for name, f := range mk {
		t.Run(name, func(t *testing.T) {
			a := alloc.Synchronized(f())
			type rng struct{ off, size int64 }
			var mu sync.Mutex
			live := map[int64]int64{}
			var wg sync.WaitGroup
			var bad []string
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(g), 7))
					var mine []rng
					for i := range 3000 {
						if len(mine) > 0 && (r.IntN(2) == 0 || len(mine) > 40) && name != "arena" {
							j := r.IntN(len(mine))
							x := mine[j]
							mine[j] = mine[len(mine)-1]
							mine = mine[:len(mine)-1]
							mu.Lock()
							delete(live, x.off)
							mu.Unlock()
							if err := a.Free(x.off, x.size); err != nil {
								mu.Lock()
								bad = append(bad, fmt.Sprintf("Free(%d,%d): %v", x.off, x.size, err))
								mu.Unlock()
							}
							continue
						}
						maxSz := 4000
						if name == "slab" {
							maxSz = 500
						}
						size := int64(1 + r.IntN(maxSz))
						align := int64(16) << r.IntN(4)
						if name == "buddy" {
							align = 16 // see TestHostileBuddyFreeAfterAlignedAlloc
						}
						off, err := a.AllocAligned(size, align)
						if err != nil {
							if !errors.Is(err, alloc.ErrNoSpace) {
								mu.Lock()
								bad = append(bad, fmt.Sprintf("Alloc(%d,%d): %v", size, align, err))
								mu.Unlock()
							}
							if name == "arena" && i%50 == 0 {
								// nothing: arena fills up
							}
							continue
						}
						if off%align != 0 || off < 0 || off+size > a.Capacity() {
							mu.Lock()
							bad = append(bad, fmt.Sprintf("Alloc(%d,%d) = %d", size, align, off))
							mu.Unlock()
						}
						mu.Lock()
						if prev, dup := live[off]; dup {
							bad = append(bad, fmt.Sprintf("offset %d handed out twice (sizes %d, %d)", off, prev, size))
						}
						live[off] = size
						mu.Unlock()
						mine = append(mine, rng{off, size})
					}
				}()
			}
			wg.Wait()
			if len(bad) > 0 {
				t.Fatalf("%d problems, first: %v", len(bad), bad[:min(5, len(bad))])
			}
			offs := make([]int64, 0, len(live))
			var liveBytes int64
			for o, s := range live {
				offs = append(offs, o)
				liveBytes += s
			}
			sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
			for i := 1; i < len(offs); i++ {
				if offs[i-1]+live[offs[i-1]] > offs[i] {
					t.Fatalf("overlap: [%d,+%d) and %d", offs[i-1], live[offs[i-1]], offs[i])
				}
			}
			st := a.Stats()
			if st.LiveBytes != liveBytes || st.LiveAllocation != int64(len(live)) || st.Allocs-st.Frees != st.LiveAllocation {
				t.Fatalf("stats %+v, live %d bytes in %d", st, liveBytes, len(live))
			}
			if st.ReservedBytes < st.LiveBytes || st.FreeBytes < 0 || st.FreeBytes+st.ReservedBytes > st.Capacity {
				t.Fatalf("inconsistent stats %+v", st)
			}
			a.Reset()
			if st := a.Stats(); st.LiveBytes != 0 || st.LiveAllocation != 0 || st.ReservedBytes != 0 {
				t.Fatalf("after Reset %+v", st)
			}
		})
	}
}

// Double frees and foreign frees are detected on every allocator, huge
// offsets/sizes included.
func TestHostileBadFrees(t *testing.T) {
	for name, f := range hostileAllocators(t) {
		t.Run(name, func(t *testing.T) {
			a := f()
			off, err := a.Alloc(64)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range [][2]int64{{off, 0}, {off, -1}, {-16, 64}, {math.MaxInt64, 64}, {math.MinInt64, 64},
				{off, math.MaxInt64}, {off + 16, 64}, {1 << 30, 64}} {
				hostileNoPanic(t, fmt.Sprintf("Free(%d,%d)", bad[0], bad[1]), func() {
					if err := a.Free(bad[0], bad[1]); !errors.Is(err, alloc.ErrNotAllocated) && !errors.Is(err, alloc.ErrDoubleFree) {
						t.Errorf("Free(%d,%d) = %v", bad[0], bad[1], err)
					}
				})
			}
			if err := a.Free(off, 64); err != nil {
				t.Fatal(err)
			}
			if err := a.Free(off, 64); !errors.Is(err, alloc.ErrDoubleFree) {
				t.Errorf("double free = %v", err)
			}
			for _, req := range [][2]int64{{0, 16}, {-1, 16}, {16, 0}, {16, 3}, {16, -16}, {math.MaxInt64, 16}, {16, math.MinInt64}, {16, 1 << 62}} {
				hostileNoPanic(t, fmt.Sprintf("AllocAligned(%d,%d)", req[0], req[1]), func() {
					if _, err := a.AllocAligned(req[0], req[1]); err == nil {
						t.Errorf("AllocAligned(%d,%d) succeeded", req[0], req[1])
					} else if !errors.Is(err, alloc.ErrInvalidSize) && !errors.Is(err, alloc.ErrTooLarge) {
						t.Errorf("AllocAligned(%d,%d) = %v", req[0], req[1], err)
					}
				})
			}
		})
	}
}

// A nil constructor to NewPool: Get must not panic with a nil dereference
// deep in sync.Pool (or NewPool must refuse it).
func TestHostilePoolNilNew(t *testing.T) {
	p := alloc.NewPool[int](nil, nil)
	hostileNoPanic(t, "NewPool(nil, nil).Get()", func() { _ = p.Get() })
}

// Pool never hands the same value to two holders at once.
func TestHostilePoolNoDoubleHandout(t *testing.T) {
	p := alloc.NewPool(func() *[64]byte { return new([64]byte) }, func(b *[64]byte) { *b = [64]byte{} })
	var mu sync.Mutex
	held := map[*[64]byte]bool{}
	var dups int
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5000 {
				b := p.Get()
				mu.Lock()
				if held[b] {
					dups++
				}
				held[b] = true
				mu.Unlock()
				if b[0] != 0 {
					mu.Lock()
					dups++
					mu.Unlock()
				}
				b[0] = 1
				mu.Lock()
				delete(held, b)
				mu.Unlock()
				p.Put(b)
			}
		}()
	}
	wg.Wait()
	if dups > 0 {
		t.Fatalf("%d double hand-outs or unreset values", dups)
	}
}

// Free(off, size) after AllocAligned(size, align) must release the block: the
// interface says Free takes what "Alloc or AllocAligned returned for that size".
func TestHostileBuddyFreeAfterAlignedAlloc(t *testing.T) {
	b, err := alloc.NewBuddy(1<<16, 16)
	if err != nil {
		t.Fatal(err)
	}
	off, err := b.AllocAligned(16, 256)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Free(off, 16); err != nil {
		t.Errorf("AllocAligned(16, 256) = %d; Free(%d, 16) = %v, want nil", off, off, err)
	}
	if st := b.Stats(); st.LiveAllocation != 0 || st.FreeBytes != 1<<16 {
		t.Errorf("after freeing the only allocation: LiveAllocation %d, FreeBytes %d of %d", st.LiveAllocation, st.FreeBytes, 1<<16)
	}
}

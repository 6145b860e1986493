package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

func hostileOpen(t *testing.T, dir string, o tiermem.Options) *tiermem.Manager {
	t.Helper()
	if o.MigrateInterval == 0 {
		o.MigrateInterval = -1
	}
	m, err := tiermem.Open(dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSharedHotValueNeverChanges keeps a large hot value from
// RetrieveShared and from OpenValue, at exactly 64 KiB and above, and then
// stores over the key values of the same, smaller (still large and below
// 64 KiB) and larger sizes, streams one in, moves the key to warm and
// back, switches the hot tier's policy, deletes the key and closes the
// Manager: the kept bytes never change.
func TestSharedHotValueNeverChanges(t *testing.T) {
	for _, size := range []int{64 << 10, 64<<10 + 1, 100 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			m := hostileOpen(t, t.TempDir(), tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
				Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
			want := seededNoise(size, 1)
			must(t, m.Store("k", want, tiermem.InTier(tiermem.Hot)))
			shared, isShared, err := m.RetrieveShared(nil, "k")
			if err != nil || !isShared {
				t.Fatalf("RetrieveShared of a %d-byte hot value: shared %v, %v", size, isShared, err)
			}
			v, err := m.OpenValue("k")
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			check := func(after string) {
				t.Helper()
				if !bytes.Equal(shared, want) {
					t.Fatalf("after %s: the value RetrieveShared returned changed", after)
				}
				if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("after %s: the open value reads %d bytes, %v", after, len(got), err)
				}
				if v.Checksum() != xxh3.Hash(want) {
					t.Fatalf("after %s: the open value's checksum changed", after)
				}
			}
			for i, n := range []int{size, size - 8, size * 3 / 4, size - size/4 + 16, 64<<10 - 1, 1000, size + 8, 2 * size} {
				must(t, m.Store("k", seededNoise(n, byte(10+i)), tiermem.InTier(tiermem.Hot)))
				check(fmt.Sprintf("a Store of %d bytes", n))
				// again, so that a replacement of the replacement is seen too
				got, s2, err := m.RetrieveShared(nil, "k")
				if err != nil {
					t.Fatal(err)
				}
				if s2 != (n >= 64<<10) {
					t.Fatalf("a %d-byte hot value: shared %v", n, s2)
				}
				must(t, m.Store("k", seededNoise(n, byte(50+i)), tiermem.InTier(tiermem.Hot)))
				if !bytes.Equal(got, seededNoise(n, byte(10+i))) {
					t.Fatalf("a %d-byte value (shared %v) changed after the key was stored over", n, s2)
				}
			}
			next := seededNoise(size, 90)
			must(t, m.StoreFrom("k", bytes.NewReader(next), int64(len(next)), tiermem.InTier(tiermem.Hot)))
			check("a StoreFrom")
			fromStream, _, err := m.RetrieveShared(nil, "k")
			must(t, err)
			must(t, m.Store("k", seededNoise(size, 91), tiermem.InTier(tiermem.Hot)))
			if !bytes.Equal(fromStream, next) {
				t.Fatal("a shared value that StoreFrom streamed into hot changed after a Store")
			}
			must(t, m.Move("k", tiermem.Warm))
			check("a Move to warm")
			must(t, m.Move("k", tiermem.Hot))
			check("a Move back")
			for _, p := range []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyS3FIFO, tiermem.PolicyAuto} {
				if err := m.SetTierPolicy(tiermem.Hot, p); err != nil {
					t.Fatal(err)
				}
				must(t, m.Store("k", seededNoise(size, 92), tiermem.InTier(tiermem.Hot)))
				check(fmt.Sprint("SetTierPolicy ", p))
			}
			must(t, m.Delete("k"))
			check("a Delete")
			must(t, m.Close())
			runtime.GC()
			check("Close")
		})
	}
}

// TestSmallHotNeverShared: hot values below 64 KiB, with keys and
// headers (TTL, pin) that make the entry itself 64 KiB or more, stored
// with Store and StoreFrom, are never reported shared, and the copy is
// appended to dst.
func TestSmallHotNeverShared(t *testing.T) {
	m := hostileOpen(t, t.TempDir(), tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	defer m.Close()
	longKey := string(bytes.Repeat([]byte("k"), 60001)) // not a multiple of 8: see tier/heap TestPendingEmptyValueKeyFillsAllocation
	for _, key := range []string{"k", longKey} {
		for _, n := range []int{0, 1, 64<<10 - 100, 64<<10 - 1} {
			for _, opts := range [][]tiermem.StoreOption{{tiermem.InTier(tiermem.Hot)},
				{tiermem.InTier(tiermem.Hot), tiermem.Pinned(), tiermem.WithTTL(time.Hour)}} {
				for _, stream := range []bool{false, true} {
					want := seededNoise(n, byte(n))
					if stream {
						must(t, m.StoreFrom(key, bytes.NewReader(want), int64(n), opts...))
					} else {
						must(t, m.Store(key, want, opts...))
					}
					if tr, _ := m.Tier(key); tr != tiermem.Hot {
						t.Fatalf("stored in %v", tr)
					}
					for _, prefix := range []int{0, 1, 100} {
						dst := make([]byte, prefix, 256<<10)
						got, shared, err := m.RetrieveShared(dst, key)
						if err != nil {
							t.Fatal(err)
						}
						if shared {
							t.Errorf("a %d-byte hot value under a %d-byte key was reported shared (dst of %d bytes; stream %v)", n, len(key), prefix, stream)
							continue
						}
						if len(got) != prefix+n || (prefix+n > 0 && &got[0] != &dst[:1][0]) || !bytes.Equal(got[prefix:], want) {
							t.Errorf("a %d-byte hot value was not appended to dst", n)
						}
					}
				}
			}
		}
	}
}

// hostileValues is a set of incompressible values: whatever bytes a reader
// reads must be exactly one of them.
func hostileValues() [][]byte {
	var vs [][]byte
	for i, n := range []int{70 << 10, 130 << 10, 300 << 10, 1 << 20} {
		vs = append(vs, seededNoise(n, byte(200+i)))
	}
	return vs
}

func hostileWhich(vs [][]byte, b []byte) int {
	for i, v := range vs {
		if bytes.Equal(v, b) {
			return i
		}
	}
	return -1
}

// TestCloseWhileReadersAndStreamsRun: goroutines OpenValue keys in
// every memory tier and read them in pieces, others Store, StoreFrom
// (into warm and hot, some through slow streams), Move and Delete the same
// keys, and the Manager closes in the middle. Every open reader reads
// exactly one of the values written, before and after Close, and no
// operation faults; after Close every error is ErrClosed or ErrNotFound.
func TestCloseWhileReadersAndStreamsRun(t *testing.T) {
	vs := hostileValues()
	m := hostileOpen(t, t.TempDir(), tiermem.Options{Hot: tiermem.TierOptions{Size: 4 << 20},
		Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	report := func(err error) {
		if err == nil || errors.Is(err, tiermem.ErrClosed) || errors.Is(err, tiermem.ErrNotFound) ||
			errors.Is(err, tiermem.ErrNoSpace) {
			return
		}
		select {
		case errs <- err:
		default:
		}
	}
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			var held []*tiermem.ValueReader
			defer func() {
				for _, v := range held {
					got, err := readValue(v)
					if err == nil && hostileWhich(vs, got) < 0 {
						err = fmt.Errorf("a %v reader held across Close read %d bytes no writer wrote", v.Tier(), len(got))
					}
					report(err)
					v.Close()
				}
			}()
			for !stop.Load() {
				key := fmt.Sprint("k", rng.IntN(4))
				value := vs[rng.IntN(len(vs))]
				tr := tiers[rng.IntN(len(tiers))]
				switch g % 4 {
				case 0:
					report(m.Store(key, value, tiermem.InTier(tr)))
				case 1:
					var r io.Reader = bytes.NewReader(value)
					if rng.IntN(3) == 0 {
						r = &hostileSlowReader{r: r}
					}
					err := m.StoreFrom(key, r, int64(len(value)), tiermem.InTier(tiermem.Tier(rng.IntN(2))))
					report(err)
				case 2:
					if rng.IntN(2) == 0 {
						report(m.Move(key, tr))
					} else {
						report(m.Delete(key))
					}
				default:
					v, err := m.OpenValue(key)
					report(err)
					if err != nil {
						continue
					}
					reads.Add(1)
					if sum, known := v.Checksum(), false; true {
						for _, w := range vs {
							known = known || xxh3.Hash(w) == sum
						}
						if !known {
							report(fmt.Errorf("a %v reader's checksum is no written value's", v.Tier()))
						}
					}
					if rng.IntN(4) == 0 && len(held) < 3 {
						held = append(held, v)
						continue
					}
					got, err := readValue(v)
					if err == nil && (hostileWhich(vs, got) < 0 || xxh3.Hash(got) != v.Checksum()) {
						err = fmt.Errorf("a %v reader read %d bytes no writer wrote (or its checksum is wrong)", v.Tier(), len(got))
					}
					report(err)
					v.Close()
				}
			}
		}()
	}
	deadline := time.Now().Add(15 * time.Second)
	for reads.Load() < 300 && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := reads.Load(); n < 50 {
		t.Errorf("only %d values opened", n)
	}
}

// hostileSlowReader hands out its bytes 16 KiB at a time with a pause.
type hostileSlowReader struct{ r io.Reader }

func (s *hostileSlowReader) Read(p []byte) (int, error) {
	time.Sleep(200 * time.Microsecond)
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// TestStoreFromWarmBudget streams values into a warm tier with a
// budget of 1 MiB while Stores of the same and other keys go to warm too:
// once they finish, warm uses no more than its budget, and every key reads
// back as some value written.
func TestStoreFromWarmBudget(t *testing.T) {
	vs := [][]byte{seededNoise(100<<10, 1), seededNoise(200<<10, 2), seededNoise(300<<10, 3), seededNoise(5000, 4)}
	m := hostileOpen(t, t.TempDir(), tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	defer m.Close()
	var wg sync.WaitGroup
	var over atomic.Int64
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			for i := range 60 {
				key := fmt.Sprint("k", rng.IntN(20))
				v := vs[rng.IntN(len(vs))]
				var err error
				if (g+i)%2 == 0 {
					err = m.StoreFrom(key, bytes.NewReader(v), int64(len(v)), tiermem.InTier(tiermem.Warm))
				} else {
					err = m.Store(key, v, tiermem.InTier(tiermem.Warm))
				}
				if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
					errs <- err
					return
				}
				u := m.Usage()[tiermem.Warm]
				if u.Used > u.Capacity+int64(len(vs[2]))*2 {
					over.Store(max(over.Load(), u.Used))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	u := m.Usage()[tiermem.Warm]
	if u.Used > u.Capacity {
		t.Errorf("the warm tier uses %d bytes of a budget of %d once the writes finished", u.Used, u.Capacity)
	}
	if o := over.Load(); o > 0 {
		t.Logf("warm reached %d bytes during the writes (budget %d)", o, u.Capacity)
	}
	for i := range 20 {
		key := fmt.Sprint("k", i)
		got, err := m.Retrieve(key)
		if errors.Is(err, tiermem.ErrNotFound) {
			continue
		}
		if err != nil || hostileWhich(vs, got) < 0 {
			t.Errorf("%s: %d bytes, %v", key, len(got), err)
		}
	}
}

// TestStoreFromWarmDurable: with Durability Always (from Open, and
// set later by SetDurability), a value streamed into warm is in the cold
// log: after Close and a reopen it reads back, and the cold log has a copy
// of every key memory holds while the Manager is at rest.
func TestStoreFromWarmDurable(t *testing.T) {
	for _, viaSet := range []bool{false, true} {
		t.Run(fmt.Sprint("SetDurability=", viaSet), func(t *testing.T) {
			dir := t.TempDir()
			o := tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 10},
				Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
			if !viaSet {
				o.Durability = tiermem.Always
			}
			m := hostileOpen(t, dir, o)
			if viaSet {
				must(t, m.SetDurability(tiermem.Always))
			}
			values := map[string][]byte{}
			for i, n := range []int{100 << 10, 1 << 20, 3000, 64<<10 + 3} {
				key := fmt.Sprint("k", i)
				values[key] = seededNoise(n, byte(i))
				must(t, m.StoreFrom(key, bytes.NewReader(values[key]), int64(n), tiermem.InTier(tiermem.Warm)))
				if tr, err := m.Tier(key); err != nil || tr != tiermem.Warm {
					t.Fatalf("%s is in %v, %v", key, tr, err)
				}
			}
			// replace one through a stream too: the log must have the new one
			values["k1"] = seededNoise(1<<20, 77)
			must(t, m.StoreFrom("k1", bytes.NewReader(values["k1"]), 1<<20, tiermem.InTier(tiermem.Warm)))
			if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) > 0 {
				t.Fatalf("keys in memory without a copy in the cold log: %v", missing)
			}
			must(t, m.Close())
			m = hostileOpen(t, dir, o)
			defer m.Close()
			for key, want := range values {
				if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s after the reopen: %d bytes, %v", key, len(got), err)
				}
			}
		})
	}
}

// TestOpenValueWarmAfterMovesAndPromotion: a warm large value open
// while its key is promoted to hot, demoted to cold, and stored again in
// warm through a stream: the reader reads what it opened.
func TestOpenValueWarmAfterMovesAndPromotion(t *testing.T) {
	m := hostileOpen(t, t.TempDir(), tiermem.Options{Hot: tiermem.TierOptions{Size: 16 << 20},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	defer m.Close()
	want := seededNoise(2<<20, 5)
	must(t, m.StoreFrom("k", bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Warm)))
	v, err := m.OpenValue("k")
	must(t, err)
	defer v.Close()
	if v.Tier() != tiermem.Warm {
		t.Fatalf("opened from %v", v.Tier())
	}
	v2, err := m.OpenValueDeferred("k")
	must(t, err)
	must(t, m.Move("k", tiermem.Hot))
	must(t, m.Move("k", tiermem.Cold))
	other := seededNoise(2<<20, 6)
	must(t, m.StoreFrom("k", bytes.NewReader(other), int64(len(other)), tiermem.InTier(tiermem.Warm)))
	for range 5 {
		must(t, m.Migrate())
	}
	for _, r := range []*tiermem.ValueReader{v, v2} {
		if got, err := readValue(r); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("an open warm value after moves: %d bytes, %v", len(got), err)
		}
		if r.Checksum() != xxh3.Hash(want) || r.Verify() != nil {
			t.Fatal("checksum or Verify")
		}
	}
	v2.Close()
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("Retrieve: %d bytes, %v", len(got), err)
	}
}

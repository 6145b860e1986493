package tiertest

// The checks of the byte accounting that the Manager's budgets are built
// on: what Put charges, Delete frees, Used and Len report, Scan lists and
// Cost promises agree, exactly.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// ledger is what a store should hold by what its Puts and Deletes
// returned: key → bytes its entry occupies.
type ledger map[string]int64

func (l ledger) total() int64 {
	var n int64
	for _, size := range l {
		n += size
	}
	return n
}

// checkLedger compares a store's Used, Len and Scan with l, and stops the
// test at the first difference: every later step would repeat it.
func checkLedger(t *testing.T, s tier.Store, l ledger, when string) {
	t.Helper()
	var wrong []string
	if used, n := s.Used(), s.Len(); used != l.total() || n != int64(len(l)) {
		wrong = append(wrong, fmt.Sprintf("Used %d, Len %d; the Puts and Deletes add up to %d bytes in %d keys", used, n, l.total(), len(l)))
	}
	wrong = append(wrong, compareScan(t, s, l)...)
	if sz, ok := s.(tier.Sizer); ok {
		wrong = append(wrong, compareSizes(sz, l)...)
	}
	if len(wrong) > 0 {
		t.Fatalf("%s: %s", when, strings.Join(wrong, "; "))
	}
}

// compareSizes describes where a Sizer's Size differs from what Put charged.
func compareSizes(sz tier.Sizer, l ledger) []string {
	var wrong []string
	for key, charged := range l {
		if n, err := sz.Size(key); err != nil || n != charged {
			wrong = append(wrong, fmt.Sprintf("Size(%q) = %d, %v; Put charged %d", key, n, err, charged))
		}
	}
	if _, err := sz.Size("never-stored"); !errors.Is(err, tier.ErrNotFound) {
		wrong = append(wrong, fmt.Sprintf("Size of a key never stored: %v, want ErrNotFound", err))
	}
	return wrong
}

// compareScan describes how what sc lists differs from l.
func compareScan(t *testing.T, sc tier.Store, l ledger) []string {
	t.Helper()
	seen := ledger{}
	must(t, sc.Scan(func(key string, _ []byte, size int64) error {
		seen[key] = size
		return nil
	}))
	var wrong []string
	for key, size := range l {
		if got, ok := seen[key]; !ok || got != size {
			wrong = append(wrong, fmt.Sprintf("Scan lists %q: %v, occupying %d bytes; Put charged %d", key, ok, got, size))
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 3 {
		wrong = append(wrong[:3], fmt.Sprintf("and %d more keys", len(wrong)-3))
	}
	if len(seen) != len(l) {
		wrong = append(wrong, fmt.Sprintf("Scan lists %d keys, the store should hold %d", len(seen), len(l)))
	}
	return wrong
}

// accountingValue returns the value of step i of accounting: n bytes,
// compressible or not.
func accountingValue(i, n int, compressible bool) []byte {
	if n >= sampleHeader {
		return sample(i, uint32(i), n, compressible)
	}
	return bytes.Repeat([]byte{byte(i)}, n)
}

// accounting replaces keys with bigger and smaller values, compressible and
// not, with and without meta, deletes some, and after every step compares
// Used, Len and Scan with what Put and Delete returned.
func accounting(t *testing.T, s tier.Store) {
	defer s.Close()
	l := ledger{}
	sizes := []int{10, 5000, 100, 70 << 10, 300, 0, 1 << 20, 16, 64<<10 - 40, 2000}
	step := 0
	for _, compressible := range []bool{true, false} {
		for _, n := range sizes {
			key := fmt.Sprintf("acct-%d", step%4)
			v := accountingValue(step, n, compressible)
			charged, err := s.Put(key, v, bytes.Repeat([]byte("m"), step%3*20))
			must(t, err)
			if charged <= 0 {
				t.Errorf("Put of %d bytes charged %d", n, charged)
			}
			l[key] = charged
			checkLedger(t, s, l, fmt.Sprintf("after Put(%q, %d bytes, compressible %v)", key, n, compressible))
			if step%3 == 2 {
				deleteCharged(t, s, l, fmt.Sprintf("acct-%d", (step+1)%4))
			}
			step++
		}
	}
	for key := range l {
		deleteCharged(t, s, l, key)
	}
	checkLedger(t, s, l, "after deleting every key")
}

// deleteCharged deletes key, if l holds it, and checks that Delete frees
// what Put charged.
func deleteCharged(t *testing.T, s tier.Store, l ledger, key string) {
	t.Helper()
	want, ok := l[key]
	if !ok {
		return
	}
	freed, err := s.Delete(key)
	must(t, err)
	if freed != want {
		t.Errorf("Delete(%q) freed %d bytes, Put charged %d", key, freed, want)
	}
	delete(l, key)
	checkLedger(t, s, l, fmt.Sprintf("after Delete(%q)", key))
}

// concurrentAccounting has goroutines Put and Delete the same keys, with
// values of every kind; once they finish, each surviving value (a sample
// names its version) must be charged what its Put returned: Delete frees
// it, Used is the sum, Len the count, and both drop to 0.
func concurrentAccounting(t *testing.T, s tier.Store) {
	defer s.Close()
	const keys, workers = 24, 4
	charged := make([]map[uint32]int64, workers) // per goroutine: version → what its Put returned
	var wg sync.WaitGroup
	for g := range workers {
		charged[g] = map[uint32]int64{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range rounds(600) {
				key := rng.IntN(keys)
				if rng.IntN(5) == 0 {
					if _, err := s.Delete(sampleKey(key)); err != nil && !errors.Is(err, tier.ErrNotFound) {
						t.Errorf("Delete: %v", err)
						return
					}
					continue
				}
				n := 16 + rng.IntN(3000)
				if rng.IntN(30) == 0 {
					n = 64<<10 + rng.IntN(16<<10)
				}
				version := uint32(g)<<24 | uint32(i)
				v := sample(key, version, n, rng.IntN(2) == 0)
				size, err := s.Put(sampleKey(key), v, metaFor(v, rng.IntN(2) == 0))
				if err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				charged[g][version] = size
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	l := ledger{}
	for key := range keys {
		got, err := get(s, sampleKey(key), nil)
		if errors.Is(err, tier.ErrNotFound) {
			continue
		}
		must(t, err)
		if bad := checkSample(sampleKey(key), got); bad != "" {
			t.Fatalf("after the goroutines finished, Get %s", bad)
		}
		_, version := seedOf(got)
		l[sampleKey(key)] = charged[version>>24][version]
	}
	checkLedger(t, s, l, "after concurrent Puts and Deletes")
	for key := range l {
		deleteCharged(t, s, l, key)
	}
}

// costBound checks that Put never charges more than Cost
// promised, for values of every size that matters to a store: empty,
// small, around the 64 KiB where memory stores leave their slab and the
// disk store its write buffer, and several MiB; compressible or not; with
// keys and metas short and long.
func costBound(t *testing.T, s tier.Store) {
	defer s.Close()
	coster := s
	check := func(keyLen, n, metaLen int, compressible bool) {
		t.Helper()
		key := strings.Repeat("k", keyLen)
		v := accountingValue(n, n, compressible)
		meta := bytes.Repeat([]byte{'m'}, metaLen)
		charged, err := s.Put(key, v, meta)
		must(t, err)
		if cost := coster.Cost(keyLen, n, metaLen); charged > cost {
			t.Errorf("Put(key of %d bytes, value of %d, meta of %d, compressible %v) charged %d bytes; Cost promised at most %d",
				keyLen, n, metaLen, compressible, charged, cost)
		}
		_, err = s.Delete(key)
		must(t, err)
	}
	for _, keyLen := range []int{1, 16, 300} {
		for _, metaLen := range []int{0, 1, 16, 300} {
			for _, n := range []int{0, 1, 15, 16, 200, 255, 256, 257, 1000, 4095, 4096, 4097, 16 << 10} {
				for _, compressible := range []bool{true, false} {
					check(keyLen, n, metaLen, compressible)
				}
			}
		}
	}
	for n := 64<<10 - 512; n <= 64<<10+64; n += 8 {
		check(8, n, 8, false)
		check(1, n, 0, n%16 == 0)
	}
	for _, n := range []int{1 << 20, 3<<20 + 17} {
		check(16, n, 16, false)
		check(16, n, 16, true)
	}
}

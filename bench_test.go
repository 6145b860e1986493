package tiermem_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem/internal/machine"
	"github.com/tiermem/tiermem/tier/disk"

	"github.com/tiermem/tiermem"
)

// The benchmarks that move gigabytes or take minutes run only with
// -tiermem.full, so that `go test -bench .` stays quick.
var full = flag.Bool("tiermem.full", false, "run the benchmarks that use gigabytes of memory")

func needFull(b *testing.B) {
	if !*full {
		b.Skip("uses gigabytes: run with -tiermem.full")
	}
}

func openBench(b *testing.B, o tiermem.Options) *tiermem.Manager {
	b.Helper()
	o.MigrateInterval = -1
	m, err := tiermem.Open(b.TempDir(), &o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

const arraySize = 800 << 20

var (
	bigSrc, bigDst []byte
	bigOnce        sync.Once
)

func bigBuffers() ([]byte, []byte) {
	bigOnce.Do(func() {
		bigSrc, bigDst = make([]byte, arraySize), make([]byte, arraySize)
		for i := range bigSrc {
			bigSrc[i], bigDst[i] = byte(i), 1
		}
	})
	return bigSrc, bigDst
}

// BenchmarkCopy800MB is the baseline of the warm-tier array benchmarks: Go's
// copy between two 800 MB slices whose pages are already mapped.
func BenchmarkCopy800MB(b *testing.B) {
	needFull(b)
	src, dst := bigBuffers()
	b.SetBytes(arraySize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(dst, src)
	}
}

// BenchmarkMakeCopy800MB is the other baseline: a copy into a new slice, as
// keeping a copy of a value in Go means.
func BenchmarkMakeCopy800MB(b *testing.B) {
	needFull(b)
	src, _ := bigBuffers()
	b.SetBytes(arraySize)
	b.ResetTimer()
	for range b.N {
		bigDst = slices.Clone(src)
	}
}

func warmManager(b *testing.B) *tiermem.Manager {
	return openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 30},
		Warm: tiermem.TierOptions{Size: 4 << 30}, Cold: tiermem.TierOptions{Size: 1 << 30}})
}

// BenchmarkWarmStore800MB stores an 800 MB array in the warm tier.
func BenchmarkWarmStore800MB(b *testing.B) {
	needFull(b)
	src, _ := bigBuffers()
	m := warmManager(b)
	b.SetBytes(arraySize)
	b.ResetTimer()
	for range b.N {
		if err := m.StoreArray("a", tiermem.Uint8Array(src), tiermem.InTier(tiermem.Warm)); err != nil {
			b.Fatal(err)
		}
	}
}

// warmArray returns a Manager whose warm tier holds the 800 MB array "a",
// and the source and destination buffers, with the timer reset.
func warmArray(b *testing.B) (*tiermem.Manager, []byte, []byte) {
	needFull(b)
	src, dst := bigBuffers()
	m := warmManager(b)
	if err := m.StoreArray("a", tiermem.Uint8Array(src), tiermem.InTier(tiermem.Warm)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(arraySize)
	b.ResetTimer()
	return m, src, dst
}

// BenchmarkWarmRetrieve800MB retrieves an 800 MB array from the warm tier
// into a new Go slice.
func BenchmarkWarmRetrieve800MB(b *testing.B) {
	m, _, _ := warmArray(b)
	for range b.N {
		a, err := m.RetrieveArray("a")
		if err != nil {
			b.Fatal(err)
		}
		bigDst = a.Data
	}
}

// BenchmarkWarmRetrieveArrayInto800MB retrieves the 800 MB array from the
// warm tier into the memory of the last retrieval, as a loop over frames
// would.
func BenchmarkWarmRetrieveArrayInto800MB(b *testing.B) {
	m, _, dst := warmArray(b)
	for range b.N {
		a, err := m.RetrieveArrayInto(dst, "a")
		if err != nil {
			b.Fatal(err)
		}
		dst = a.Data
	}
}

// BenchmarkWarmRetrieveAppend800MB retrieves an 800 MB value from the warm
// tier into a buffer the caller reuses.
func BenchmarkWarmRetrieveAppend800MB(b *testing.B) {
	m, _, dst := warmArray(b)
	for range b.N {
		var err error
		if dst, err = m.RetrieveAppend(dst[:0], "a"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmView800MB reads an 800 MB array in place (ViewArray) and
// copies it into a slice whose pages are mapped: the warm tier's read
// bandwidth against BenchmarkCopy800MB.
func BenchmarkWarmView800MB(b *testing.B) {
	m, _, dst := warmArray(b)
	for range b.N {
		m.ViewArray("a", func(a tiermem.Array) error { copy(dst, a.Data); return nil })
	}
}

// oneMB returns incompressible 1 MB values.
func oneMB(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 1))
	vs := make([][]byte, n)
	for i := range vs {
		vs[i] = make([]byte, 1<<20)
		for j := range vs[i] {
			vs[i][j] = byte(rng.Uint32())
		}
	}
	return vs
}

// settlePageCache writes and deletes 512 MiB in dir before a write benchmark:
// on this virtual machine the host takes freed guest memory back, and the
// first writes into such pages cost milliseconds per MiB; both sides of a
// comparison start from pages in use.
func settlePageCache(b *testing.B, dir string) {
	b.Helper()
	path := filepath.Join(dir, "settle")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range 512 {
		f.Write(chunk)
	}
	f.Close()
	os.Remove(path)
}

// BenchmarkBufferedWrite1MB is the baseline of BenchmarkColdStore1MB: plain
// os.File.Write of 1 MB buffers to a file in the same kind of directory.
func BenchmarkBufferedWrite1MB(b *testing.B) {
	values := oneMB(64)
	dir := b.TempDir()
	settlePageCache(b, dir)
	f, err := os.Create(filepath.Join(dir, "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.Write(values[i%len(values)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdStore1MB stores 1 MB values in the cold tier one after the
// other (Durability None: the OS flushes).
func BenchmarkColdStore1MB(b *testing.B) {
	values := oneMB(64)
	settlePageCache(b, b.TempDir())
	m := openBench(b, tiermem.Options{Cold: tiermem.TierOptions{Size: 1 << 40}})
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		if err := m.Store(fmt.Sprint("k", i), values[i%len(values)], tiermem.InTier(tiermem.Cold)); err != nil {
			b.Fatal(err)
		}
	}
}

const (
	randomKeys = 16 << 10 // 4 KB values: 64 MB, warm in the page cache
	block      = 4 << 10
)

// BenchmarkPread4K is the baseline of BenchmarkColdRetrieveAppend4K: pread
// of a random 4 KB block of a 64 MB file in the page cache, into one buffer.
func BenchmarkPread4K(b *testing.B) { benchPread4K(b, false) }

// BenchmarkPread4KNew is the baseline of BenchmarkColdRetrieve4K: the same
// pread into a new buffer each time, as Retrieve returns one.
func BenchmarkPread4KNew(b *testing.B) { benchPread4K(b, true) }

func benchPread4K(b *testing.B, fresh bool) {
	path := filepath.Join(b.TempDir(), "raw")
	values := oneMB(randomKeys * block >> 20)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, v := range values {
		f.Write(v)
	}
	buf := make([]byte, block)
	rng := rand.New(rand.NewPCG(3, 3))
	b.SetBytes(block)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if fresh {
			buf = make([]byte, block)
		}
		if _, err := f.ReadAt(buf, int64(rng.IntN(randomKeys))*block); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdRetrieve4K retrieves random 4 KB values from the cold tier
// (page cache warm) into new slices: index lookups in hot and warm, a copy
// out of the segment's mapping, the checksum.
func BenchmarkColdRetrieve4K(b *testing.B) {
	m, keys := coldRandom(b)
	rng := rand.New(rand.NewPCG(3, 3))
	b.SetBytes(block)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Retrieve(keys[rng.IntN(randomKeys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdRetrieveAppend4K is BenchmarkColdRetrieve4K into one reused
// buffer, as BenchmarkPread4K reads.
func BenchmarkColdRetrieveAppend4K(b *testing.B) {
	m, keys := coldRandom(b)
	rng := rand.New(rand.NewPCG(3, 3))
	buf := make([]byte, 0, block)
	b.SetBytes(block)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var err error
		if buf, err = m.RetrieveAppend(buf[:0], keys[rng.IntN(randomKeys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// coldRandom returns a Manager holding randomKeys values of 4 KB in the cold
// tier, each read once (the page cache and the segments' mappings), and
// their keys.
func coldRandom(b *testing.B) (*tiermem.Manager, []string) {
	m := openBench(b, tiermem.Options{Cold: tiermem.TierOptions{Size: 1 << 40}})
	values := oneMB(randomKeys * block >> 20)
	keys := make([]string, randomKeys)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		v := values[i/256][i%256*block : (i%256+1)*block]
		if err := m.Store(keys[i], v, tiermem.InTier(tiermem.Cold)); err != nil {
			b.Fatal(err)
		}
	}
	for _, k := range keys {
		if _, err := m.Retrieve(k); err != nil {
			b.Fatal(err)
		}
	}
	return m, keys
}

// rss returns the process's resident memory.
func rss() int64 {
	now, _, _ := machine.RSS()
	return now
}

// gcCPU returns the CPU seconds spent in garbage collection and in total.
func gcCPU() (gc, total float64) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64(), s[1].Value.Float64()
}

const (
	manyKeys   = 10_000_000
	smallValue = 100
)

func smallKey(buf []byte, i int) []byte { return fmt.Appendf(buf[:0], "key-%08d", i) }

// mixedLoad runs for d a steady load on n keys from two goroutines: 80%
// reads, 20% replacing writes, random keys; it returns the share of CPU
// spent in garbage collection meanwhile (NaN when no cycle ran: the runtime
// accounts GC CPU at the end of each cycle).
func mixedLoad(d time.Duration, n int, get func(key []byte), set func(key, value []byte)) float64 {
	runtime.GC()
	gc0, total0 := gcCPU()
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for g := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			key, value := make([]byte, 0, 16), make([]byte, smallValue)
			for i := 0; time.Now().Before(deadline); i++ {
				key = smallKey(key, rng.IntN(n))
				if rng.IntN(5) == 0 {
					value[0] = byte(i)
					set(key, value)
				} else {
					get(key)
				}
			}
		})
	}
	wg.Wait()
	gc1, total1 := gcCPU()
	return 100 * (gc1 - gc0) / (total1 - total0)
}

// BenchmarkWarm10MRSS stores 10 million 100-byte values in the warm tier and
// reports the process RSS they cost against their payload (keys and values),
// then the share of CPU the GC takes under a steady mixed load.
func BenchmarkWarm10MRSS(b *testing.B) {
	needFull(b)
	for range b.N {
		runtime.GC()
		before := rss()
		m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
			Warm: tiermem.TierOptions{Size: 4 << 30}, Cold: tiermem.TierOptions{Size: 1 << 30}})
		value, key := make([]byte, smallValue), make([]byte, 0, 16)
		payload := int64(0)
		for i := range manyKeys {
			key = smallKey(key, i)
			payload += int64(len(key) + smallValue)
			if err := m.Store(string(key), value, tiermem.InTier(tiermem.Warm)); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		used := rss() - before
		gc := mixedLoad(5*time.Second, manyKeys, // the Manager copies what keys it keeps (package doc, Keys): no string made here
			func(k []byte) { m.View(unsafe.String(&k[0], len(k)), func([]byte) error { return nil }) },
			func(k, v []byte) { m.Store(unsafe.String(&k[0], len(k)), v, tiermem.InTier(tiermem.Warm)) })
		b.ReportMetric(float64(used)/float64(payload), "rss/payload")
		b.ReportMetric(float64(used)/(1<<20), "rss-MiB")
		b.ReportMetric(gc, "%gc-cpu")
		b.ReportMetric(gcCycleMillis(), "gc-cycle-ms")
	}
}

// gcCycleMillis returns how long one full garbage collection takes now: what
// every cycle costs, however rare the load makes cycles.
func gcCycleMillis() float64 {
	start := time.Now()
	runtime.GC()
	return float64(time.Since(start).Microseconds()) / 1000
}

// BenchmarkMap10MRSS is BenchmarkWarm10MRSS for a map[string][]byte behind a
// RWMutex: what the same data costs in the Go heap.
func BenchmarkMap10MRSS(b *testing.B) {
	needFull(b)
	for range b.N {
		runtime.GC()
		before := rss()
		var mu sync.RWMutex
		values := make(map[string][]byte)
		key := make([]byte, 0, 16)
		payload := int64(0)
		for i := range manyKeys {
			key = smallKey(key, i)
			payload += int64(len(key) + smallValue)
			values[string(key)] = make([]byte, smallValue)
		}
		runtime.GC()
		used := rss() - before
		gc := mixedLoad(5*time.Second, manyKeys,
			func(k []byte) { mu.RLock(); _ = values[string(k)]; mu.RUnlock() },
			func(k, v []byte) { c := slices.Clone(v); mu.Lock(); values[string(k)] = c; mu.Unlock() })
		b.ReportMetric(float64(used)/float64(payload), "rss/payload")
		b.ReportMetric(float64(used)/(1<<20), "rss-MiB")
		b.ReportMetric(gc, "%gc-cpu")
		b.ReportMetric(gcCycleMillis(), "gc-cycle-ms")
		runtime.KeepAlive(values)
	}
}

// BenchmarkHotRetrieveDuringDemotion measures the latency of reads of hot
// keys while another goroutine demotes 1 GiB of large arrays from hot to
// warm to cold, against the same reads when nothing moves; it reports both
// 99th percentiles and their ratio.
func BenchmarkHotRetrieveDuringDemotion(b *testing.B) {
	needFull(b)
	for range b.N {
		m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 2 << 30},
			Warm: tiermem.TierOptions{Size: 2 << 30}, Cold: tiermem.TierOptions{Size: 8 << 30}})
		for i := range 100 {
			if err := m.Store(fmt.Sprint("hot", i), make([]byte, 4096), tiermem.InTier(tiermem.Hot), tiermem.Pinned()); err != nil {
				b.Fatal(err)
			}
		}
		big := make([]byte, 64<<20)
		for i := range 16 {
			if err := m.Store(fmt.Sprint("big", i), big, tiermem.InTier(tiermem.Hot)); err != nil {
				b.Fatal(err)
			}
		}
		idle := readLatencies(m, 2*time.Second, nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 16 {
				m.Move(fmt.Sprint("big", i), tiermem.Cold)
			}
		}()
		busy := readLatencies(m, 0, done)
		p99idle, p99busy := percentile(idle, 0.99), percentile(busy, 0.99)
		b.ReportMetric(float64(p99idle.Nanoseconds()), "idle-p99-ns")
		b.ReportMetric(float64(p99busy.Nanoseconds()), "demoting-p99-ns")
		b.ReportMetric(float64(p99busy)/float64(p99idle), "p99-ratio")
	}
}

// readLatencies retrieves random hot keys for d, or until done closes, and
// returns each read's latency.
func readLatencies(m *tiermem.Manager, d time.Duration, done <-chan struct{}) []time.Duration {
	var lat []time.Duration
	rng := rand.New(rand.NewPCG(9, 9))
	deadline := time.Now().Add(d)
	for {
		if done == nil && time.Now().After(deadline) {
			return lat
		}
		select {
		case <-done:
			return lat
		default:
		}
		start := time.Now()
		m.Retrieve(fmt.Sprint("hot", rng.IntN(100)))
		lat = append(lat, time.Since(start))
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkWarmSmallView reads 100-byte values in place from the warm tier.
func BenchmarkWarmSmallView(b *testing.B) {
	m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 256 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", i)
		if err := m.Store(keys[i], make([]byte, smallValue), tiermem.InTier(tiermem.Warm)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.View(keys[i&(len(keys)-1)], func([]byte) error { return nil })
	}
}

// BenchmarkWarmSmallStore replaces 100-byte values in the warm tier.
func BenchmarkWarmSmallStore(b *testing.B) { benchSmallStore(b, tiermem.Warm) }

// BenchmarkHotSmallStore replaces 100-byte values in the hot tier (its
// default policy, Adaptive, whose bookkeeping a replacement pays).
func BenchmarkHotSmallStore(b *testing.B) { benchSmallStore(b, tiermem.Hot) }

// benchSmallStore replaces 100-byte values, 64 Ki keys in turn, in tier tr
// (256 MiB; the other memory tier 1 MiB).
func benchSmallStore(b *testing.B, tr tiermem.Tier) {
	small, big := tiermem.TierOptions{Size: 1 << 20}, tiermem.TierOptions{Size: 256 << 20}
	o := tiermem.Options{Hot: small, Warm: big, Cold: tiermem.TierOptions{Size: 1 << 30}}
	if tr == tiermem.Hot {
		o.Hot, o.Warm = big, small
	}
	m := openBench(b, o)
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", i)
	}
	value := make([]byte, smallValue)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := m.Store(keys[i&(len(keys)-1)], value, tiermem.InTier(tr)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdRetrieveAppend4KParallel is BenchmarkColdRetrieveAppend4K
// from every goroutine RunParallel starts (-cpu sets how many).
func BenchmarkColdRetrieveAppend4KParallel(b *testing.B) {
	m, keys := coldRandom(b)
	parallelReads4K(b, keys, m.RetrieveAppend)
}

// parallelReads4K reads random keys of 4 KB values with read, appending to
// a buffer each goroutine reuses, from every goroutine RunParallel starts.
func parallelReads4K(b *testing.B, keys []string, read func(dst []byte, key string) ([]byte, error)) {
	b.SetBytes(block)
	b.ReportAllocs()
	b.ResetTimer()
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seed.Add(1), 3))
		buf := make([]byte, 0, block)
		for pb.Next() {
			var err error
			if buf, err = read(buf[:0], keys[rng.IntN(randomKeys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDiskGetMeta4KParallel is the baseline of
// BenchmarkColdRetrieveAppend4KParallel: the same values read straight from
// a tier/disk store, with no Manager in front.
func BenchmarkDiskGetMeta4KParallel(b *testing.B) {
	s, err := disk.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	values := oneMB(randomKeys * block >> 20)
	keys := make([]string, randomKeys)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		if _, err := s.Put(keys[i], values[i/256][i%256*block:(i%256+1)*block], nil); err != nil {
			b.Fatal(err)
		}
	}
	for _, k := range keys {
		if _, _, err := s.GetMeta(k, nil); err != nil {
			b.Fatal(err)
		}
	}
	parallelReads4K(b, keys, func(dst []byte, key string) ([]byte, error) {
		v, _, err := s.GetMeta(key, dst)
		return v, err
	})
}

// BenchmarkSmallViewParallel reads 100-byte values in place from the hot
// or the warm tier from every goroutine RunParallel starts.
func BenchmarkSmallViewParallel(b *testing.B) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		b.Run(tr.String(), func(b *testing.B) {
			m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 20},
				Warm: tiermem.TierOptions{Size: 256 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
			keys := make([]string, 1<<16)
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%08d", i)
				if err := m.Store(keys[i], make([]byte, smallValue), tiermem.InTier(tr)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(1) * 7919)
				for pb.Next() {
					i++
					m.View(keys[i&(len(keys)-1)], func([]byte) error { return nil })
				}
			})
		})
	}
}

// BenchmarkHotViewArray64MiB views a 64 MiB float64 array in the hot tier
// under a 1-byte key and reads its last element: the cost of a view where
// the tier holds the data aligned (a few hundred ns) against one that must
// first copy it to align it (tens of ms). It reports the bytes each view
// allocates.
func BenchmarkHotViewArray64MiB(b *testing.B) {
	m, err := tiermem.Open(b.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, MigrateInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.StoreArray("a", tiermem.Float64Array(make([]float64, 8<<20)), tiermem.InTier(tiermem.Hot)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var sink float64
	for b.Loop() {
		err := m.ViewArray("a", func(a tiermem.Array) error {
			xs, err := a.Float64s()
			sink += xs[len(xs)-1]
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = sink
}

// BenchmarkRetrieveMiss reads keys that are absent, with hot and warm
// holding others: what a cache's misses cost (an error the caller tests
// with errors.Is).
func BenchmarkRetrieveMiss(b *testing.B) {
	m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	for i := range 1 << 10 {
		if err := m.Store(fmt.Sprintf("key-%08d", i), make([]byte, smallValue), tiermem.InTier(tiermem.Tier(i%2))); err != nil {
			b.Fatal(err)
		}
	}
	key := []byte("absent-00000000")
	b.ReportAllocs()
	var dst []byte
	for i := 0; b.Loop(); i++ {
		key[len(key)-1] = byte('0' + i%10)
		var err error
		if dst, err = m.RetrieveAppendBytes(dst[:0], key); !errors.Is(err, tiermem.ErrNotFound) {
			b.Fatal(err)
		}
	}
}

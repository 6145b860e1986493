//go:build linux

package tiermem_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/procstatus"
)

// BenchmarkSnapshot measures Snapshot and Restore of data spread evenly over
// hot, warm and cold (1 MiB values of random bytes, which no tier
// compresses) against the disk's own sequential write (with fsync) and read
// of as many bytes, in the same directory and the same run, and the peak
// extra memory of each: RSS above what the process held before, as
// anonymous memory (what the snapshot allocates) and in all (with the file
// pages a Restore maps). 256 MiB, or 4 GiB with -tiermem.full. Restore and
// the disk read start with the file's pages dropped from the page cache.
// store-p99 compares the p99 of 4 KiB Stores into hot while nothing else
// runs and while a Snapshot runs beside them.
func BenchmarkSnapshot(b *testing.B) {
	size := int64(256 << 20)
	if *full {
		size = 4 << 30
	}
	dir := b.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "data"), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: size/3 + 64<<20}, Warm: tiermem.TierOptions{Size: size/3 + 64<<20},
		Cold: tiermem.TierOptions{Size: 2 * size}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	fillSpread(b, m, size)
	settlePageCache(b, dir)
	path := filepath.Join(dir, "bench.snapshot")

	b.Run("disk-write", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			rawWrite(b, filepath.Join(dir, "raw"), size)
		}
	})
	b.Run("create", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		peak := watchRSS(b)
		for b.Loop() {
			if _, err := m.Snapshot(path, nil); err != nil {
				b.Fatal(err)
			}
		}
		peak.report(b)
	})
	b.Run("disk-read", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			dropCache(b, path)
			rawRead(b, path)
		}
	})
	b.Run("restore", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		peak := watchRSS(b)
		for b.Loop() {
			b.StopTimer()
			dropCache(b, path)
			b.StartTimer()
			if _, err := m.Restore(path, nil); err != nil {
				b.Fatal(err)
			}
		}
		peak.report(b)
	})
	b.Run("store-p99", func(b *testing.B) {
		var idle, during []time.Duration // over every iteration: one is noise on a shared machine
		for b.Loop() {
			idle = append(idle, storeLatencies(m, nil)...)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if _, err := m.Snapshot(path, nil); err != nil {
					b.Error(err)
				}
			}()
			during = append(during, storeLatencies(m, done)...)
		}
		b.ReportMetric(float64(percentile(idle, 0.99).Microseconds()), "idle-p99-µs")
		b.ReportMetric(float64(percentile(during, 0.99).Microseconds()), "snapshot-p99-µs")
	})
}

// fillSpread stores size bytes of 1 MiB random values, a third in each of
// hot, warm and cold.
func fillSpread(b *testing.B, m *tiermem.Manager, size int64) {
	b.Helper()
	rng := rand.NewChaCha8([32]byte{1})
	v := make([]byte, 1<<20)
	n := int(size >> 20)
	for i := range n {
		rng.Read(v)
		tr := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3]
		if err := m.Store(fmt.Sprintf("v%06d", i), v, tiermem.InTier(tr)); err != nil {
			b.Fatal(err)
		}
	}
}

// rawWrite writes size bytes in 1 MiB writes to a new file and syncs it,
// as a snapshot's file is written.
func rawWrite(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{2}).Read(chunk)
	for range size >> 20 {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	os.Remove(path)
}

// rawRead reads a file sequentially in 1 MiB reads.
func rawRead(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
}

// dropCache asks the kernel to drop a file's pages from the page cache.
func dropCache(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	f.Sync()
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// rssWatch samples the process's RSS every 5 ms and keeps the peak above
// the level at the start.
type rssWatch struct {
	base, baseAnon int64
	peak, peakAnon atomic.Int64
	stop           chan struct{}
	wg             sync.WaitGroup
}

func watchRSS(b *testing.B) *rssWatch {
	w := &rssWatch{stop: make(chan struct{})}
	w.base, w.baseAnon = rssKB()
	w.wg.Go(func() {
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			all, anon := rssKB()
			if all > w.peak.Load() {
				w.peak.Store(all)
			}
			if anon > w.peakAnon.Load() {
				w.peakAnon.Store(anon)
			}
		}
	})
	return w
}

// report stops the watch and reports the peaks above the start, in MiB.
func (w *rssWatch) report(b *testing.B) {
	close(w.stop)
	w.wg.Wait()
	b.ReportMetric(float64(max(w.peakAnon.Load()-w.baseAnon, 0))/1024, "extra-anon-MiB")
	b.ReportMetric(float64(max(w.peak.Load()-w.base, 0))/1024, "extra-rss-MiB")
}

// rssKB returns VmRSS and RssAnon of /proc/self/status, in KiB; 0 where
// they cannot be read.
func rssKB() (all, anon int64) {
	v, err := procstatus.Bytes("VmRSS", "RssAnon")
	if err != nil {
		return 0, 0
	}
	return v[0] >> 10, v[1] >> 10
}

// storeLatencies stores 4 KiB values into hot, over 2,000 keys, and
// returns each Store's latency: for 500 ms, or until done closes.
func storeLatencies(m *tiermem.Manager, done <-chan struct{}) []time.Duration {
	v := make([]byte, 4<<10)
	var lat []time.Duration
	deadline := time.After(500 * time.Millisecond)
	if done != nil {
		deadline = nil
	}
	for i := 0; ; i++ {
		select {
		case <-done:
			return lat
		case <-deadline:
			return lat
		default:
		}
		start := time.Now()
		m.Store(fmt.Sprint("p99-", i%2000), v, tiermem.InTier(tiermem.Hot))
		lat = append(lat, time.Since(start))
	}
}

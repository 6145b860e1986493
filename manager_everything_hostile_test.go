package tiermem_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileCloseWhileEverythingRuns: Close lands while workers store,
// stream (sized and not), batch-store, delete, rename, copy, move, take and
// open values, with passes every few milliseconds and budgets changing.
// Close must return, every call must end (ErrClosed after it), no reader
// opened before Close may change, and a reopen must find what every
// acknowledged call left.
func TestHostileCloseWhileEverythingRuns(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			md := &crashModel{has: map[string]int64{}, maybe: map[string]map[int64]bool{}}
			for round := range 4 {
				m, err := tiermem.Open(dir, modelCrashOptions(d))
				must(t, err)
				var mu sync.Mutex
				tr := &modelTracker{md: md, pending: map[string]modelOp{}}
				var fail []string
				say := func(format string, args ...any) {
					mu.Lock()
					defer mu.Unlock()
					if err := tr.handle(fmt.Sprintf(format, args...)); err != nil {
						fail = append(fail, err.Error())
					}
				}
				var readers []*tiermem.ValueReader
				var snaps [][]byte
				opened := func(v *tiermem.ValueReader) {
					b := make([]byte, v.Size())
					if _, err := v.ReadAt(b, 0); err != nil && v.Size() > 0 {
						mu.Lock()
						fail = append(fail, fmt.Sprintf("ReadAt before Close: %v", err))
						mu.Unlock()
					}
					mu.Lock()
					readers, snaps = append(readers, v), append(snaps, b)
					mu.Unlock()
				}
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for w := range modelCrashWorkers {
					wg.Go(func() { modelWorker(m, round+10*int(d), w, say, stop, opened) })
				}
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						m.SetBudget(tiermem.Tier(i%2), int64(48+i%5*32)<<10)
						m.Migrate()
						time.Sleep(time.Millisecond)
					}
				})
				time.Sleep(time.Duration(150+100*round) * time.Millisecond)
				closed := make(chan error, 1)
				go func() { closed <- m.Close() }()
				select {
				case err := <-closed:
					if err != nil {
						t.Errorf("round %d: Close: %v", round, err)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("round %d: Close did not return in 20 s", round)
				}
				close(stop)
				ended := make(chan struct{})
				go func() { wg.Wait(); close(ended) }()
				select {
				case <-ended:
				case <-time.After(20 * time.Second):
					t.Fatalf("round %d: calls still running 20 s after Close", round)
				}
				for i, v := range readers {
					b := make([]byte, v.Size())
					if _, err := v.ReadAt(b, 0); (err != nil && v.Size() > 0) || !bytes.Equal(b, snaps[i]) {
						fail = append(fail, fmt.Sprintf("a reader opened before Close reads differently after it: %v", err))
					}
					if _, err := modelValueID(b); err != nil {
						fail = append(fail, fmt.Sprintf("a reader read a bad value: %v", err))
					}
					v.Close()
				}
				if len(fail) > 0 {
					t.Fatalf("round %d:\n%s", round, strings.Join(fail, "\n"))
				}
				tr.cutOff()
				m, err = tiermem.Open(dir, modelCrashOptions(d))
				must(t, err)
				bad := md.check(m, modelCrashWorkers)
				m.Close()
				if len(bad) > 0 {
					t.Fatalf("round %d: after Close and reopen (%d calls acknowledged):\n%s", round, tr.acks, strings.Join(bad, "\n"))
				}
			}
		})
	}
}

// TestHostileByteKeysKeepNoReference stores, reads and deletes keys through
// the byte-key methods (and StoreMany, PrepareLookups) with one key
// buffer scribbled over after every call, under each victim policy (LRU,
// LFU and S3-FIFO keep their own maps of keys), Durability Always, TTLs,
// pins, glacier, and passes that promote, demote and expire: every key
// must then be listed and read under its own name. Passes; kept because
// TestKeysOverReusedMemory covers the default policies only, without
// glacier, durability or the byte-key methods' writes.
func TestHostileByteKeysKeepNoReference(t *testing.T) {
	for _, p := range []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyLFU, tiermem.PolicyS3FIFO} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			tiers := tiermem.TierOptions{Policy: p}
			o := tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1, PromoteHits: 2, DemoteAfter: time.Hour,
				Hot: tiers, Warm: tiers, Cold: tiers}
			o.Hot.Size, o.Warm.Size, o.Cold.Size = 24<<10, 48<<10, 256<<10
			m, err := tiermem.Open(t.TempDir(), &o)
			must(t, err)
			defer m.Close()
			buf := make([]byte, 0, 64)
			key := func(i int) []byte { buf = fmt.Appendf(buf[:0], "key-%04d", i); return buf }
			scribble := func() {
				for i := range buf[:cap(buf)] {
					buf[:cap(buf)][i] = '#'
				}
			}
			value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 500+i*37) }
			const n = 120
			for i := range n {
				opts := []tiermem.StoreOption{tiermem.InTier(tiermem.Tier(i % 4))}
				if i%5 == 0 {
					opts = append(opts, tiermem.WithTTL(time.Hour))
				}
				if i%4 < 2 && i%7 == 0 {
					opts = append(opts, tiermem.Pinned())
				}
				if i%3 == 0 {
					opts = opts[:0]
				}
				if i%11 == 0 {
					k := key(i)
					must(t, m.StoreMany([][]byte{k}, [][]byte{value(i)}, opts...))
				} else {
					must(t, m.StoreBytes(key(i), value(i), opts...))
				}
				scribble()
			}
			for i := n; i < n+20; i++ { // stored and deleted again
				must(t, m.StoreBytes(key(i), value(i), tiermem.InTier(tiermem.Tier(i%4))))
				scribble()
				must(t, m.DeleteBytes(key(i)))
				scribble()
			}
			for range 3 {
				for i := range n {
					m.PrepareLookups([][]byte{key(i)})
					scribble()
					if _, err := m.RetrieveAppendBytes(nil, key(i)); err != nil {
						t.Fatalf("key-%04d: %v", i, err)
					}
					scribble()
					must(t, m.ViewBytes(key(i), func([]byte) error { return nil }))
					scribble()
				}
				must(t, m.Migrate())
			}
			var listed []string
			for cursor := uint64(0); ; {
				keys, next, err := m.Scan(cursor, "", 100)
				must(t, err)
				listed = append(listed, keys...)
				if cursor = next; cursor == 0 {
					break
				}
			}
			seen := map[string]bool{}
			for _, k := range listed {
				seen[k] = true
			}
			for i := range n + 20 {
				k := fmt.Sprintf("key-%04d", i)
				got, err := m.Retrieve(k)
				if i >= n {
					if err == nil || seen[k] {
						t.Errorf("%s, deleted, is back (listed %v): %v", k, seen[k], err)
					}
					continue
				}
				if err != nil || !bytes.Equal(got, value(i)) || !seen[k] {
					t.Errorf("%s: listed %v, %d bytes, %v", k, seen[k], len(got), err)
				}
			}
			for k := range seen {
				if strings.Contains(k, "#") || !strings.HasPrefix(k, "key-") {
					t.Errorf("a key changed with the caller's buffer: %q", k)
				}
			}
		})
	}
}

package tiermem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileAnalyticsJSONRoundTripAfterBudgetCut: ReadAnalytics (and so
// tiermem plot) reads back whatever WriteAnalytics wrote, a tier's percent far
// above 100 included, as a budget cut below what pinned values hold leaves it
// (SetBudget's documented ErrNoSpace case: the budget is set, the pinned
// values stay).
func TestHostileAnalyticsJSONRoundTripAfterBudgetCut(t *testing.T) {
	m := open(t, nil)
	must(t, m.EnableAnalytics(time.Hour))
	must(t, m.Store("pinned", make([]byte, 64<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	if err := m.SetBudget(tiermem.Hot, 1); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("SetBudget(Hot, 1) with a pinned value = %v; want ErrNoSpace (budget set, value stays)", err)
	}
	m.DisableAnalytics()
	var buf bytes.Buffer
	must(t, m.WriteAnalytics(&buf))
	got, err := tiermem.ReadAnalytics(&buf)
	if err != nil {
		t.Fatalf("ReadAnalytics of WriteAnalytics' own output: %v", err)
	}
	if len(got) != 1 || got[0].Tiers[tiermem.Hot].Percent <= 100 {
		t.Fatalf("read back %d samples, hot at %v%%", len(got), got[0].Tiers[tiermem.Hot].Percent)
	}
}

// TestHostileSnapshotAndSaveToAreNotReads: docs/analytics.md says "Tier,
// SaveTo and snapshots are not reads": a Snapshot and a SaveTo leave the
// keys' idle times, read counts and the analytics counts as they were.
func TestHostileSnapshotAndSaveToAreNotReads(t *testing.T) {
	clock := tiermem.NewFakeClock()
	m := open(t, snapshotOptions(clock))
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot)))
	must(t, m.EnableAnalytics(time.Hour))
	clock.Advance(time.Hour)
	rc0, err := m.ReadCount("k")
	must(t, err)
	_, err = m.Snapshot(filepath.Join(t.TempDir(), "s"), nil)
	must(t, err)
	must(t, m.SaveTo("k", filepath.Join(t.TempDir(), "k")))
	if d, err := m.IdleTime("k"); err != nil || d < time.Hour {
		t.Errorf("IdleTime after a Snapshot and a SaveTo = %v, %v; want an hour", d, err)
	}
	if rc, err := m.ReadCount("k"); err != nil || rc != rc0 {
		t.Errorf("ReadCount %d before, %d, %v after a Snapshot and a SaveTo", rc0, rc, err)
	}
	if c, _ := m.Counts(); c.Hits != [4]uint64{} || c.Misses != 0 {
		t.Errorf("a Snapshot and a SaveTo counted as reads: %+v", c)
	}
}

// hostileVal is the value of unique id n, padded to a length of its own.
func hostileVal(n uint64) []byte {
	b := make([]byte, 8+int(n%1500))
	binary.LittleEndian.PutUint64(b, n)
	for j := 8; j < len(b); j++ {
		b[j] = byte(n) ^ byte(j)
	}
	return b
}

// hostileID returns the id a value holds, or fails if no writer wrote it.
func hostileID(t *testing.T, v []byte) uint64 {
	t.Helper()
	if len(v) < 8 || !bytes.Equal(v, hostileVal(binary.LittleEndian.Uint64(v))) {
		t.Fatalf("a value of %d bytes that no writer wrote", len(v))
	}
	return binary.LittleEndian.Uint64(v)
}

// hostileSeq is the sequence number of a history (snapshot_test.go) for a
// value's unique id: -1 for 0, absent.
func hostileSeq(id uint64) int64 {
	if id == 0 {
		return -1
	}
	return int64(id)
}

// hostileWriter changes the keys i with i%writers == w, with every kind of
// change a user has (Store, StoreMany, StoreFrom, Update, Delete,
// TakeValue, Rename, CopyKey, and Move, Pin and Expire, which change no
// value), recording each change of a value in hist, until stop or
// ErrClosed.
func hostileWriter(t *testing.T, m *tiermem.Manager, w, writers int, hist []history, ids, clock *atomic.Uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), 11))
	keys := len(hist) / writers
	cur := map[int]uint64{}
	for i := w; i < len(hist); i += writers {
		cur[i] = uint64(hist[i][0].seq)
	}
	pick := func() int { return rng.IntN(keys)*writers + w }
	record := func(i int, start, end, id uint64) {
		hist[i] = append(hist[i], op{start, end, hostileSeq(id)})
		cur[i] = id
	}
	seen := func(i int, id uint64) bool {
		return slices.ContainsFunc(hist[i], func(o op) bool { return o.seq == hostileSeq(id) })
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		i, j := pick(), pick()
		var err error
		start := clock.Add(1)
		switch r := rng.IntN(12); r {
		case 0, 1:
			id := ids.Add(1)
			if err = m.Store(key(i), hostileVal(id), tiermem.InTier(tiermem.Tier(rng.IntN(4)))); err == nil {
				record(i, start, clock.Add(1), id)
			}
		case 2:
			if i == j {
				continue
			}
			a, b := ids.Add(1), ids.Add(1)
			if err = m.StoreMany([][]byte{[]byte(key(i)), []byte(key(j))}, [][]byte{hostileVal(a), hostileVal(b)}); err == nil {
				end := clock.Add(1)
				record(i, start, end, a)
				record(j, start, end, b)
			}
		case 3:
			id := ids.Add(1)
			v := hostileVal(id)
			if err = m.StoreFrom(key(i), bytes.NewReader(v), int64(len(v))); err == nil {
				record(i, start, clock.Add(1), id)
			}
		case 4:
			id := ids.Add(1)
			err = m.Update(key(i), func(_ []byte, found bool) ([]byte, bool, error) { return hostileVal(id), true, nil })
			if err == nil {
				record(i, start, clock.Add(1), id)
			}
		case 5:
			if err = m.Delete(key(i)); err == nil || errors.Is(err, tiermem.ErrNotFound) {
				err = nil
				record(i, start, clock.Add(1), 0)
			}
		case 6:
			var v *tiermem.ValueReader
			if v, err = m.TakeValue(key(i)); err == nil || errors.Is(err, tiermem.ErrNotFound) {
				if v != nil {
					v.Close()
				}
				err = nil
				record(i, start, clock.Add(1), 0)
			}
		case 7, 8:
			if i == j || cur[i] == 0 || seen(j, cur[i]) {
				continue
			}
			id := cur[i]
			if r == 7 {
				if err = m.Rename(key(i), key(j), true); err == nil {
					end := clock.Add(1)
					record(i, start, end, 0)
					record(j, start, end, id)
				}
			} else if err = m.CopyKey(key(i), key(j), true); err == nil {
				record(j, start, clock.Add(1), id)
			}
		case 9:
			err = m.Move(key(i), tiermem.Tier(rng.IntN(4)))
		case 10:
			if err = m.Pin(key(i)); err == nil {
				err = m.Unpin(key(i))
			}
		default:
			err = m.Expire(key(i), time.Hour)
		}
		switch {
		case errors.Is(err, tiermem.ErrClosed):
			return
		case err != nil && !errors.Is(err, tiermem.ErrNotFound):
			t.Errorf("writer %d: %v", w, err)
			return
		}
	}
}

// TestHostileSnapshotOneInstantUnderEveryChangeAndClose: snapshots taken
// while writers use every way of changing a key (StoreMany, StoreFrom,
// Update, TakeValue, Rename, CopyKey besides Store and Delete) and
// migration runs, the last with a Close landing while it copies, each hold
// every key as it was at one instant, or fail with ErrClosed; and the
// writers stop with ErrClosed.
func TestHostileSnapshotOneInstantUnderEveryChangeAndClose(t *testing.T) {
	const keys, writers = 240, 4
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 4 << 20}, MigrateInterval: -1,
	})
	var clock, ids atomic.Uint64
	hist := make([]history, keys)
	for i := range keys {
		id := ids.Add(1)
		must(t, m.Store(key(i), hostileVal(id), tiermem.InTier(tiermem.Tier(i%4))))
		hist[i] = history{{seq: int64(id)}}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { hostileWriter(t, m, w, writers, hist, &ids, &clock, stop) })
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := m.Migrate(); errors.Is(err, tiermem.ErrClosed) {
				return
			}
		}
	})
	dir := t.TempDir()
	type taken struct {
		path       string
		start, end uint64
	}
	var shots []taken
	for s := range 4 {
		time.Sleep(20 * time.Millisecond)
		path := filepath.Join(dir, fmt.Sprint("s", s))
		opts := &tiermem.SnapshotOptions{}
		closed := make(chan error, 1)
		if s == 3 {
			var once sync.Once
			opts.Progress = func(p tiermem.SnapshotProgress) {
				if p.Phase == tiermem.PhaseCopy {
					once.Do(func() {
						go func() { closed <- m.Close() }()
						time.Sleep(30 * time.Millisecond)
					})
				}
			}
		}
		start := clock.Add(1)
		_, err := m.Snapshot(path, opts)
		end := clock.Add(1)
		if s == 3 {
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		if errors.Is(err, tiermem.ErrClosed) && s == 3 {
			continue
		}
		must(t, err)
		shots = append(shots, taken{path, start, end})
	}
	close(stop)
	wg.Wait()
	for _, s := range shots {
		checkInstant(t, s.path, hist, s.start, s.end, func(_ int, v []byte) int64 { return int64(hostileID(t, v)) })
	}
}

// TestHostileAnalyticsCountsAddUpAcrossClose: goroutines read (Retrieve,
// View, OpenValue, RetrieveArray), miss, and Store while the sampler runs
// and a Close lands; every read and Store that returned before Close is in
// the samples and in Counts, exactly: hits + misses = the reads made.
func TestHostileAnalyticsCountsAddUpAcrossClose(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
		Cold: tiermem.TierOptions{Size: 16 << 20}, MigrateInterval: -1,
	})
	for i := range 64 {
		must(t, m.StoreArray(key(i), tiermem.Float64Array(make([]float64, 100), 100), tiermem.InTier(tiermem.Tier(i%3))))
	}
	must(t, m.EnableAnalytics(2*time.Millisecond, tiermem.AnalyticsCapacity(1<<16)))
	var hits, misses, stores atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for {
				i := rng.IntN(96) // a third absent
				var err error
				switch rng.IntN(5) {
				case 0:
					_, err = m.Retrieve(key(i))
				case 1:
					err = m.View(key(i), func([]byte) error { return nil })
				case 2:
					var v *tiermem.ValueReader
					if v, err = m.OpenValue(key(i)); err == nil {
						v.Close()
					}
				case 3:
					_, err = m.RetrieveArray(key(i))
				default:
					if err = m.StoreArray(key(rng.IntN(64)), tiermem.Float64Array(make([]float64, 100), 100)); err == nil {
						stores.Add(1)
					}
					if errors.Is(err, tiermem.ErrClosed) {
						return
					}
					must(t, err)
					continue
				}
				switch {
				case err == nil:
					hits.Add(1)
				case errors.Is(err, tiermem.ErrNotFound):
					misses.Add(1)
				case errors.Is(err, tiermem.ErrClosed):
					return
				default:
					t.Errorf("read: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	must(t, m.Close())
	wg.Wait()
	var sh, sm, ss int64
	for _, s := range m.Analytics() {
		sh += s.Hits
		sm += s.Misses
		for _, ts := range s.Tiers {
			ss += ts.Stores
		}
	}
	if sh != hits.Load() || sm != misses.Load() || ss != stores.Load() {
		t.Errorf("samples count %d hits, %d misses, %d Stores; the callers saw %d, %d, %d", sh, sm, ss, hits.Load(), misses.Load(), stores.Load())
	}
	c, ok := m.Counts()
	var ch, cs uint64
	for t := range c.Hits {
		ch += c.Hits[t]
		cs += c.Stores[t]
	}
	if !ok || int64(ch) != hits.Load() || int64(c.Misses) != misses.Load() || int64(cs) != stores.Load() {
		t.Errorf("Counts %d hits, %d misses, %d Stores; the callers saw %d, %d, %d", ch, c.Misses, cs, hits.Load(), misses.Load(), stores.Load())
	}
}

// TestHostileAnalyticsViewCallbackErrorIsNotAMiss: a View of a key that
// holds a value, whose function returns an error that happens to wrap
// ErrNotFound (it looked something else up), found the value: it is not a
// miss, which docs call a read "that found none (absent or expired)".
func TestHostileAnalyticsViewCallbackErrorIsNotAMiss(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("present", []byte("v")))
	must(t, m.EnableAnalytics(time.Hour))
	other := fmt.Errorf("the user's own lookup: %w", tiermem.ErrNotFound)
	if err := m.View("present", func([]byte) error { return other }); !errors.Is(err, other) {
		t.Fatalf("View = %v; want the callback's error", err)
	}
	c, _ := m.Counts()
	if c.Misses != 0 {
		t.Errorf("a View that found its key counted as %d misses (hits %v)", c.Misses, c.Hits)
	}
}

// TestHostileRestoreIntoSmallerHotTier: a snapshot whose hot tier is full,
// restored into a Manager with a smaller hot tier, puts what fits in hot and
// the rest in warm, counted in Demoted (Restore's doc: "in the tier it was in
// ... when that tier has room without demoting anything, else in the next
// tier down that has"), though its workers run at once: with pinned values it
// does not stop half way with ErrNoSpace; with unpinned ones it demotes no key
// it restored, and its report says where the keys are.
func TestHostileRestoreIntoSmallerHotTier(t *testing.T) {
	for _, pinned := range []bool{true, false} {
		t.Run(fmt.Sprint("pinned=", pinned), func(t *testing.T) { hostileRestoreIntoSmallerHot(t, pinned) })
	}
}

func hostileRestoreIntoSmallerHot(t *testing.T, pinned bool) {
	src := open(t, nil) // hot: 1 MiB
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]byte, 2<<10)
	for n := 0; n < 420; n++ { // 420 entries of 2 KiB (2304-byte allocations, the size class) fill 1 MiB of hot to 99%
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		opts := []tiermem.StoreOption{tiermem.InTier(tiermem.Hot)}
		if pinned {
			opts = append(opts, tiermem.Pinned())
		}
		err := src.Store(fmt.Sprint("p", n), v, opts...)
		if errors.Is(err, tiermem.ErrNoSpace) {
			break
		}
		must(t, err)
	}
	path := filepath.Join(t.TempDir(), "s")
	info, err := src.Snapshot(path, nil)
	must(t, err)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8)) // four restore workers, as on any machine of 4 cores
	for round := range 40 {
		dst := open(t, &tiermem.Options{
			Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20},
			Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
		})
		r, err := dst.Restore(path, nil)
		if err != nil {
			t.Fatalf("round %d: restoring %d hot keys into a smaller hot tier: %v", round, info.Keys, err)
		}
		u, evicted := dst.Usage(), dst.Stats().Tiers[tiermem.Hot].Evictions
		if r.Keys != info.Keys || r.Tiers[tiermem.Hot].Keys != u[tiermem.Hot].Items || r.Tiers[tiermem.Warm].Keys != u[tiermem.Warm].Items ||
			r.Demoted[tiermem.Hot] != r.Tiers[tiermem.Warm].Keys || evicted != 0 {
			t.Fatalf("round %d: report %+v, but hot holds %d keys and warm %d, and %d restored keys were demoted out of hot for room",
				round, r, u[tiermem.Hot].Items, u[tiermem.Warm].Items, evicted)
		}
	}
}

// TestHostileSnapshotRefusesItsGlacierURL: Snapshot refuses (ErrOptions) a
// path inside the Manager's own glacier store wherever that is: <dir>/glacier,
// or the directory its Glacier.URL names, where a snapshot replaced one of the
// packs and the glacier values in it were lost.
func TestHostileSnapshotRefusesItsGlacierURL(t *testing.T) {
	dir, gdir := t.TempDir(), t.TempDir()
	o := tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{URL: gdir}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	want := bytes.Repeat([]byte("glacier value "), 100)
	must(t, m.Store("g", want, tiermem.InTier(tiermem.Glacier)))
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	var packs []string
	must(t, filepath.WalkDir(gdir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			packs = append(packs, p)
		}
		return err
	}))
	if len(packs) == 0 {
		t.Fatalf("no file under the glacier URL %s", gdir)
	}
	for _, p := range append(packs, filepath.Join(gdir, "new.snap")) {
		if _, err := m.Snapshot(p, nil); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("Snapshot(%s), a path in the Manager's glacier store, = %v; want ErrOptions", p, err)
		}
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	if err == nil {
		defer m.Close()
		var v []byte
		if v, err = m.Retrieve("g"); err == nil && !bytes.Equal(v, want) {
			err = errors.New("other bytes")
		}
	}
	if err != nil {
		t.Errorf("the glacier key after the snapshots: %v", err)
	}
}

// TestHostileSaveToRefusesItsOwnStores: SaveTo, like Snapshot, refuses
// (ErrOptions) a path in the Manager's own cold or glacier store: a SaveTo onto
// a cold segment lost every cold key.
func TestHostileSaveToRefusesItsOwnStores(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: -1}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	for i := range 10 {
		must(t, m.Store(key(i), bytes.Repeat([]byte{byte(i)}, 1000), tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	segs, _ := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	for _, p := range segs {
		if err := m.SaveTo(key(0), p); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("SaveTo onto the cold segment %s = %v; want ErrOptions", p, err)
		}
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	if err != nil {
		t.Fatalf("Open after SaveTo onto the cold tier's files: %v", err)
	}
	defer m.Close()
	for i := range 10 {
		if v, err := m.Retrieve(key(i)); err != nil || len(v) != 1000 {
			t.Errorf("%s after SaveTo onto the cold segments: %d bytes, %v", key(i), len(v), err)
		}
	}
}

// TestHostileConcurrentRestoresKeepTheMark: Restore is "safe for concurrent
// use" and marks the directory until what it restored is durable, so that a
// Restore that did not finish leaves a directory Open refuses. With two
// Restores at once, the one that finishes first keeps the mark while the
// other still changes the Manager, and once that one fails half way the
// directory stays marked (it removed the mark, and the directory opened as a
// sound Manager holding part of a snapshot).
func TestHostileConcurrentRestoresKeepTheMark(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.Always, tiermem.None} {
		t.Run(d.String(), func(t *testing.T) { hostileConcurrentRestores(t, d) })
	}
}

func hostileConcurrentRestores(t *testing.T, d tiermem.Durability) {
	snaps := t.TempDir()
	small := filepath.Join(snaps, "small")
	big := filepath.Join(snaps, "big")
	src := open(t, nil)
	must(t, src.Store("a", []byte("small snapshot")))
	_, err := src.Snapshot(small, nil)
	must(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	v := make([]byte, 100<<10)
	for i := range 80 { // 8 MiB in all, 100 KiB each
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		must(t, src.Store(key(i), v, tiermem.InTier(tiermem.Cold)))
	}
	_, err = src.Snapshot(big, nil)
	must(t, err)

	dir := t.TempDir()
	o := tiermem.Options{
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
		Cold: tiermem.TierOptions{Size: 2 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1, Durability: d,
	}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	copying, smallDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	bigErr := make(chan error, 1)
	go func() {
		_, err := m.Restore(big, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge, Progress: func(p tiermem.SnapshotProgress) {
			if p.Phase == tiermem.PhaseCopy {
				once.Do(func() { close(copying); <-smallDone })
			}
		}})
		bigErr <- err
	}()
	<-copying
	_, err = m.Restore(small, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	close(smallDone)
	must(t, err)
	if err := <-bigErr; !errors.Is(err, tiermem.ErrNoSpace) || !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("restoring 8 MiB into a Manager of 2.75 MiB = %v; want ErrNoSpace and ErrRestoreIncomplete", err)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	if err == nil {
		n, _ := m.Len()
		m.Close()
		t.Fatalf("Open of a directory whose last Restore stopped half way succeeded, holding %d keys; want ErrRestoreIncomplete", n)
	}
	if !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("Open = %v; want ErrRestoreIncomplete", err)
	}
}

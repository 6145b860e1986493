package tiermem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/bundle"
)

// history is what one writer did to one key: each operation with the clock
// readings taken just before it began and just after it returned, and the
// sequence number it left (-1: deleted).
type history []op

type op struct {
	start, end uint64
	seq        int64
}

// seqValue encodes key i's sequence number seq, padded to n bytes.
func seqValue(i int, seq int64, n int) []byte {
	b := make([]byte, 16+n)
	binary.LittleEndian.PutUint64(b, uint64(i))
	binary.LittleEndian.PutUint64(b[8:], uint64(seq))
	for j := range n {
		b[16+j] = byte(seq) + byte(j)
	}
	return b
}

// decodeSeq returns the key index and sequence number a value holds, or
// fails the test if the value is not one seqValue wrote.
func decodeSeq(t *testing.T, v []byte) (int, int64) {
	t.Helper()
	if len(v) < 16 || !bytes.Equal(v, seqValue(int(binary.LittleEndian.Uint64(v)), int64(binary.LittleEndian.Uint64(v[8:])), len(v)-16)) {
		t.Fatalf("a value of %d bytes that no writer wrote", len(v))
	}
	return int(binary.LittleEndian.Uint64(v)), int64(binary.LittleEndian.Uint64(v[8:]))
}

// TestSnapshotIsOneInstant runs writers that store numbered values, delete
// and move their keys, and migration passes, while snapshots are taken; each
// snapshot must hold, for every key, exactly the state it had at one instant
// within the Snapshot call: an instant after every operation whose result it
// holds began, and before the next operation on each key returned.
func TestSnapshotIsOneInstant(t *testing.T) {
	const keys, writers, snapshots = 192, 4, 4
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 512 << 10}, MigrateInterval: -1,
	})
	var clock atomic.Uint64
	hist := make([]history, keys)
	for i := range keys {
		must(t, m.Store(key(i), seqValue(i, 0, 100)))
		hist[i] = history{{seq: 0}}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { write(t, m, w, writers, hist, &clock, stop) })
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				m.Migrate()
			}
		}
	})
	dir := t.TempDir()
	type taken struct {
		path       string
		start, end uint64
	}
	var shots []taken
	for s := range snapshots {
		time.Sleep(20 * time.Millisecond)
		path := filepath.Join(dir, fmt.Sprint("s", s))
		start := clock.Add(1)
		info, err := m.Snapshot(path, nil)
		end := clock.Add(1)
		must(t, err)
		t.Logf("snapshot %d: %d keys, %d pre-images, tiers %v", s, info.Keys, info.PreImages, info.Tiers)
		shots = append(shots, taken{path, start, end})
	}
	close(stop)
	wg.Wait()
	for _, s := range shots {
		checkInstant(t, s.path, hist, s.start, s.end, func(i int, v []byte) int64 {
			ki, seq := decodeSeq(t, v)
			if ki != i {
				t.Fatalf("%s holds key %d's value", key(i), ki)
			}
			return seq
		})
	}
}

func key(i int) string { return fmt.Sprintf("key-%04d", i) }

// write is one writer: it owns the keys i with i%writers == w and changes
// them until stop, recording each store and delete in hist.
func write(t *testing.T, m *tiermem.Manager, w, writers int, hist []history, clock *atomic.Uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	seq := make(map[int]int64)
	for {
		select {
		case <-stop:
			return
		default:
		}
		i := rng.IntN(len(hist)/writers)*writers + w
		switch r := rng.IntN(10); {
		case r < 7:
			seq[i]++
			n := rng.IntN(3000)
			start := clock.Add(1)
			err := m.Store(key(i), seqValue(i, seq[i], n))
			end := clock.Add(1)
			if err != nil {
				t.Errorf("Store: %v", err)
				return
			}
			hist[i] = append(hist[i], op{start, end, seq[i]})
		case r < 8:
			start := clock.Add(1)
			err := m.Delete(key(i))
			end := clock.Add(1)
			if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
				t.Errorf("Delete: %v", err)
				return
			}
			hist[i] = append(hist[i], op{start, end, -1})
		default:
			m.Move(key(i), tiermem.Tier(rng.IntN(4))) // changes no value: not in the history
		}
	}
}

// checkInstant checks that the snapshot at path holds the state of every
// key at one instant between start and end; seqOf returns the sequence
// number of key i's value v, or fails.
func checkInstant(t *testing.T, path string, hist []history, start, end uint64, seqOf func(i int, v []byte) int64) {
	t.Helper()
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	defer f.Close()
	must(t, f.Verify())
	lo, hi := start, end // the instant lies after lo and before hi
	var absent []int
	for i, h := range hist {
		e, err := f.Lookup(key(i))
		if errors.Is(err, tiermem.ErrNotFound) {
			absent = append(absent, i)
			continue
		}
		must(t, err)
		seq := seqOf(i, e.Value)
		j := slices.IndexFunc(h, func(o op) bool { return o.seq == seq })
		if j < 0 {
			t.Fatalf("%s: sequence number %d was never stored", key(i), seq)
		}
		lo = max(lo, h[j].start)
		if j+1 < len(h) {
			hi = min(hi, h[j+1].end)
		}
	}
	if lo >= hi {
		t.Fatalf("%s is a smear: no instant lies after every operation it holds began (%d) and before the next ones returned (%d)", path, lo, hi)
	}
	for _, i := range absent {
		h := hist[i]
		ok := false
		for j, o := range h {
			next := uint64(math.MaxUint64)
			if j+1 < len(h) {
				next = h[j+1].end
			}
			if o.seq == -1 && o.start < hi && next > lo {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("%s lacks %s, which no delete left absent between %d and %d", path, key(i), lo, hi)
		}
	}
}

// fill stores values of every kind in every tier, and returns a description
// of what the Manager holds.
func fill(t *testing.T, m *tiermem.Manager, clock *tiermem.FakeClock) {
	t.Helper()
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		for i := range 5 {
			must(t, m.Store(fmt.Sprintf("%s-%d", tr, i), bytes.Repeat([]byte{byte(i)}, 1000*i), tiermem.InTier(tr)))
		}
		must(t, m.Store(tr.String()+"-pinned", []byte("p"), tiermem.InTier(tr), tiermem.Pinned()))
		must(t, m.Store(tr.String()+"-ttl", []byte("t"), tiermem.InTier(tr), tiermem.WithTTL(time.Hour)))
	}
	must(t, m.StoreArray("array", tiermem.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 2, 3), tiermem.InTier(tiermem.Warm)))
	must(t, tiermem.Put(m, "go-value", struct{ A, B int }{1, 2}))
	must(t, m.Store("short-ttl", []byte("s"), tiermem.WithTTL(time.Minute)))
}

// contents describes every key a Manager holds: tier, value, and what
// Lookup-able state the Manager shows (pin through a Move refusal is not
// visible, so the value and tier stand for it).
func contents(t *testing.T, m *tiermem.Manager) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		for _, k := range []string{"0", "1", "2", "3", "4", "pinned", "ttl"} {
			addContent(t, m, out, tr.String()+"-"+k)
		}
	}
	for _, k := range []string{"array", "go-value", "short-ttl", "extra"} {
		addContent(t, m, out, k)
	}
	return out
}

func addContent(t *testing.T, m *tiermem.Manager, out map[string]string, k string) {
	v, err := m.Retrieve(k)
	if errors.Is(err, tiermem.ErrNotFound) {
		return
	}
	must(t, err)
	tr, err := m.Tier(k)
	must(t, err)
	out[k] = fmt.Sprintf("%s %x", tr, v)
}

func snapshotOptions(clock *tiermem.FakeClock) *tiermem.Options {
	o := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	}
	tiermem.SetClock(o, clock)
	return o
}

// TestSnapshotRestoreEveryTierAndState: every key comes back in its tier
// with its value, pin, absolute expiry, dtype and shape; keys expired since
// are left out and counted.
func TestSnapshotRestoreEveryTierAndState(t *testing.T) {
	clock := tiermem.NewFakeClock()
	m := open(t, snapshotOptions(clock))
	fill(t, m, clock)
	want := contents(t, m)
	path := filepath.Join(t.TempDir(), "s")
	info, err := m.Snapshot(path, nil)
	must(t, err)
	if info.Keys != int64(len(want)) || info.Tiers[tiermem.Glacier].Keys != 7 || info.Tiers[tiermem.Warm].Keys != 8 {
		t.Fatalf("snapshot info %+v; want %d keys, 7 in glacier, 8 in warm", info, len(want))
	}
	must(t, m.Store("extra", []byte("x")))
	clock.Advance(2 * time.Minute) // short-ttl expires; the hour-long TTLs do not

	r, err := m.Restore(path, nil)
	must(t, err)
	delete(want, "short-ttl")
	if got := contents(t, m); !mapsEqual(got, want) {
		t.Fatalf("after restore:\n%v\nwant\n%v", got, want)
	}
	if r.Expired != 1 || r.Keys != int64(len(want)) || r.DemotedKeys() != 0 {
		t.Errorf("report %+v; want 1 expired, %d keys, none demoted", r, len(want))
	}
	a, err := m.RetrieveArray("array")
	must(t, err)
	if xs, _ := a.Float64s(); !slices.Equal(a.Shape, []int{2, 3}) || xs[5] != 6 {
		t.Errorf("array back as %v %v", a.Shape, xs)
	}
	if v, err := tiermem.Get[struct{ A, B int }](m, "go-value"); err != nil || v.B != 2 {
		t.Errorf("Get go-value = %v, %v", v, err)
	}
	clock.Advance(time.Hour) // the TTLs kept their absolute expiry
	if _, err := m.Retrieve("hot-ttl"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("hot-ttl after its hour: %v, want ErrNotFound", err)
	}
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	defer f.Close()
	for _, k := range []string{"hot-pinned", "cold-pinned"} {
		if e, err := f.Lookup(k); err != nil || !e.Pinned {
			t.Errorf("Lookup(%s) = %+v, %v; want pinned", k, e, err)
		}
	}
	if e, err := f.Lookup("warm-ttl"); err != nil || !e.Expires.Equal(info.Created.Add(time.Hour)) {
		t.Errorf("Lookup(warm-ttl) expires %v, %v; want %v", e.Expires, err, info.Created.Add(time.Hour))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRestoreMergeKeepsOtherKeys: merge replaces the snapshot's keys and
// keeps the others.
func TestRestoreMergeKeepsOtherKeys(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("a", []byte("old-a")))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	must(t, m.Store("a", []byte("new-a")))
	must(t, m.Store("b", []byte("b")))
	_, err = m.Restore(path, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	must(t, err)
	for k, want := range map[string]string{"a": "old-a", "b": "b"} {
		if v, err := m.Retrieve(k); err != nil || string(v) != want {
			t.Errorf("%s = %q, %v; want %q", k, v, err, want)
		}
	}
	if _, err := m.Restore(path, &tiermem.RestoreOptions{Mode: 7}); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("mode 7: %v, want ErrOptions", err)
	}
}

// TestRestoreOverflowIsDemoted: a Manager with a smaller hot tier than the
// snapshot's takes what it can there and the rest in warm, and says so.
func TestRestoreOverflowIsDemoted(t *testing.T) {
	m := open(t, nil)
	for i := range 8 {
		must(t, m.Store(key(i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
	}
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	small := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	r, err := small.Restore(path, nil)
	must(t, err)
	if r.Keys != 8 || r.Tiers[tiermem.Hot].Keys != 2 || r.Demoted[tiermem.Hot] != 6 || r.Tiers[tiermem.Warm].Keys != 6 {
		t.Fatalf("report %+v; want 8 keys, 2 in hot, 6 demoted to warm", r)
	}
	if u := small.Usage()[tiermem.Hot]; u.Used > u.Capacity {
		t.Errorf("hot uses %d of %d", u.Used, u.Capacity)
	}
}

// damagedCase is a Manager whose contents differ from a snapshot's, and
// that snapshot's bytes.
func damagedCase(t *testing.T) (*tiermem.Manager, []byte, map[string]string) {
	t.Helper()
	clock := tiermem.NewFakeClock()
	m := open(t, snapshotOptions(clock))
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		must(t, m.Store(tr.String()+"-1", []byte(tr.String()), tiermem.InTier(tr)))
		must(t, m.Store(tr.String()+"-2", bytes.Repeat([]byte{7}, 40), tiermem.InTier(tr), tiermem.Pinned(), tiermem.WithTTL(time.Hour)))
	}
	must(t, m.StoreArray("array", tiermem.Float64Array([]float64{1, 2}, 2), tiermem.InTier(tiermem.Warm)))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	good, err := os.ReadFile(path)
	must(t, err)
	must(t, m.Clear())
	must(t, m.Store("extra", []byte("stays")))
	must(t, m.Store("hot-1", []byte("other"), tiermem.InTier(tiermem.Hot)))
	return m, good, contents(t, m)
}

// restoreBad restores b and checks that it fails with a snapshot sentinel
// and changes nothing.
func restoreBad(t *testing.T, m *tiermem.Manager, b []byte, want map[string]string, what string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bad")
	must(t, os.WriteFile(path, b, 0o644))
	_, err := m.Restore(path, nil)
	if !errors.Is(err, tiermem.ErrSnapshotCorrupt) && !errors.Is(err, tiermem.ErrSnapshotVersion) {
		t.Fatalf("%s: Restore = %v; want ErrSnapshotCorrupt or ErrSnapshotVersion", what, err)
	}
	if errors.Is(err, tiermem.ErrSnapshotCorrupt) && !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("%s: Restore = %v, an ErrSnapshotCorrupt that is not an ErrCorrupt", what, err)
	}
	if got := contents(t, m); !mapsEqual(got, want) {
		t.Fatalf("%s: the failed Restore changed the contents to %v", what, got)
	}
}

// TestRestoreRejectsBitFlips flips one bit of every byte of a snapshot file,
// one at a time (every 8th byte in a short run): each damaged file is refused
// and the Manager keeps exactly what it held.
func TestRestoreRejectsBitFlips(t *testing.T) {
	m, good, want := damagedCase(t)
	step := 1
	if testing.Short() {
		step = 8
	}
	for i := 0; i < len(good); i += step {
		b := slices.Clone(good)
		b[i] ^= 1 << (i % 8)
		restoreBad(t, m, b, want, fmt.Sprintf("bit %d of byte %d flipped", i%8, i))
	}
}

// TestRestoreRejectsTruncation cuts the file at many lengths.
func TestRestoreRejectsTruncation(t *testing.T) {
	m, good, want := damagedCase(t)
	for _, n := range []int{0, 1, 64, 127, 128, 200, len(good) / 2, len(good) - 4096, len(good) - 8, len(good) - 1} {
		if n >= 0 && n < len(good) {
			restoreBad(t, m, good[:n], want, fmt.Sprintf("cut to %d of %d bytes", n, len(good)))
		}
	}
	restoreBad(t, m, append(slices.Clone(good), 0), want, "one byte appended")
}

// TestRestoreRejectsOtherFiles: a bundle that is not a snapshot, and a
// snapshot of a newer format, are refused, and nothing changes.
func TestRestoreRejectsOtherFiles(t *testing.T) {
	m, _, want := damagedCase(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	_, err := bundle.Build(plain, func(yield func([]byte, []byte) bool) { yield([]byte("k"), []byte("v")) }, nil)
	must(t, err)
	b, err := os.ReadFile(plain)
	must(t, err)
	restoreBad(t, m, b, want, "a bundle without a manifest")

	newer := filepath.Join(dir, "newer")
	manifest := tiermem.ManifestForTest(2, 2)
	_, err = bundle.BuildRecords(newer, func(yield func(bundle.Record, error) bool) {
		yield(bundle.Record{Key: []byte{}, Value: manifest}, nil)
	}, nil)
	must(t, err)
	b, err = os.ReadFile(newer)
	must(t, err)
	path := filepath.Join(dir, "newer-copy")
	must(t, os.WriteFile(path, b, 0o644))
	if _, err := m.Restore(path, nil); !errors.Is(err, tiermem.ErrSnapshotVersion) {
		t.Fatalf("a version 2 snapshot: %v; want ErrSnapshotVersion", err)
	}
	if _, err := m.Restore(filepath.Join(dir, "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v; want fs.ErrNotExist", err)
	}
}

// TestSnapshotIsABundle: bundle.Open reads a snapshot, and a key's value is
// its bytes.
func TestSnapshotIsABundle(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("value"), tiermem.InTier(tiermem.Cold)))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	b, err := bundle.Open(path)
	must(t, err)
	defer b.Close()
	must(t, b.Verify())
	if v, err := b.Get([]byte("k")); err != nil || string(v) != "value" {
		t.Errorf("bundle Get = %q, %v", v, err)
	}
	if in := b.Info(); in.Keys != 2 { // k and the manifest
		t.Errorf("bundle of %d keys; want 2", in.Keys)
	}
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	defer f.Close()
	if _, err := f.Lookup("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Lookup(absent) = %v; want ErrNotFound", err)
	}
	if _, err := f.Lookup(""); !errors.Is(err, tiermem.ErrInvalidKey) {
		t.Errorf("Lookup(\"\") = %v; want ErrInvalidKey", err)
	}
}

// TestSnapshotFailsCleanly: a snapshot into a missing directory or of a
// closed Manager fails and leaves no file.
func TestSnapshotFailsCleanly(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("v")))
	if _, err := m.Snapshot(filepath.Join(t.TempDir(), "no", "such", "dir", "s"), nil); err == nil {
		t.Error("a snapshot into a missing directory succeeded")
	}
	dir := t.TempDir()
	must(t, m.Close())
	if _, err := m.Snapshot(filepath.Join(dir, "s"), nil); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("Snapshot after Close = %v; want ErrClosed", err)
	}
	if _, err := m.Restore(filepath.Join(dir, "s"), nil); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("Restore after Close = %v; want ErrClosed", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestSnapshotKeepsStateBeforeChanges: everything that changes after the
// instant — new values, deletes, new keys, moves between tiers in both
// directions, migration demotions, Copy — leaves the image as it was at the
// instant, tiers included, through the pre-images; the key written last
// after the instant is then read from the Manager as written.
func TestSnapshotKeepsStateBeforeChanges(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) { keepsStateBeforeChanges(t, d) })
	}
}

func keepsStateBeforeChanges(t *testing.T, d tiermem.Durability) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: d,
	})
	for i := range 40 {
		must(t, m.Store(key(i), []byte(fmt.Sprint("v0-", i)), tiermem.InTier(tiermem.Tier(i%4))))
	}
	defer tiermem.AfterSnapshotInstant(nil)
	tiermem.AfterSnapshotInstant(func() {
		for i := range 40 {
			switch i % 5 {
			case 0:
				must(t, m.Store(key(i), []byte("changed"), tiermem.InTier(tiermem.Tier((i+1)%4))))
			case 1:
				must(t, m.Delete(key(i)))
			case 2:
				must(t, m.Move(key(i), tiermem.Tier((i+2)%4)))
			case 3:
				must(t, m.Copy(key(i), tiermem.Hot))
			}
		}
		must(t, m.Store("created-after", []byte("new")))
		must(t, m.Migrate())
	})
	path := filepath.Join(t.TempDir(), "s")
	info, err := m.Snapshot(path, nil)
	must(t, err)
	if tiermem.SnapshotRunning(m) {
		t.Error("the snapshot is still published after Snapshot returned")
	}
	if info.Keys != 40 || info.PreImages == 0 {
		t.Errorf("info %+v; want 40 keys and pre-images", info)
	}
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	defer f.Close()
	for i := range 40 {
		e, err := f.Lookup(key(i))
		must(t, err)
		if string(e.Value) != fmt.Sprint("v0-", i) || e.Tier != tiermem.Tier(i%4) {
			t.Errorf("%s: %q in %s; want %q in %s", key(i), e.Value, e.Tier, fmt.Sprint("v0-", i), tiermem.Tier(i%4))
		}
	}
	if _, err := f.Lookup("created-after"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("a key created after the instant: %v; want ErrNotFound", err)
	}
	if v, err := m.Retrieve(key(0)); err != nil || string(v) != "changed" {
		t.Errorf("the Manager lost the change made during the snapshot: %q, %v", v, err)
	}
}

// TestSnapshotBesideCloseRestoreClear: a Snapshot, a Restore, Clears and
// Stores run at once and Close waits for them; no deadlock, no race.
func TestSnapshotBesideCloseRestoreClear(t *testing.T) {
	m := open(t, nil)
	for i := range 100 {
		must(t, m.Store(key(i), make([]byte, 1000), tiermem.InTier(tiermem.Tier(i%3))))
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	_, err := m.Snapshot(base, nil)
	must(t, err)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := range 20 {
				var err error
				switch g {
				case 0:
					_, err = m.Snapshot(filepath.Join(dir, fmt.Sprint("s", i)), nil)
				case 1:
					_, err = m.Restore(base, &tiermem.RestoreOptions{Mode: tiermem.RestoreMode(i % 2)})
				case 2:
					err = m.Store(key(i), []byte("x"))
					if i%7 == 0 {
						err = m.Clear()
					}
				}
				if err != nil && !errors.Is(err, tiermem.ErrClosed) {
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	must(t, m.Close())
	wg.Wait()
	if tiermem.SnapshotRunning(m) {
		t.Error("a snapshot is still published after Close")
	}
}

// TestRestoreTooLargeChangesNothing: a value that fits no tier of the
// restoring Manager is refused before anything changes.
func TestRestoreTooLargeChangesNothing(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("big", make([]byte, 2<<20), tiermem.InTier(tiermem.Cold)))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	small := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
	})
	must(t, small.Store("mine", []byte("kept")))
	if _, err := small.Restore(path, nil); !errors.Is(err, tiermem.ErrTooLarge) {
		t.Fatalf("Restore = %v; want ErrTooLarge", err)
	}
	if v, err := small.Retrieve("mine"); err != nil || string(v) != "kept" {
		t.Errorf("mine after a refused Restore: %q, %v", v, err)
	}
}

// TestSnapshotProgressAndTempFiles: the phases are reported in order with
// their totals, and no temporary file is left beside the snapshot.
func TestSnapshotProgressAndTempFiles(t *testing.T) {
	m := open(t, nil)
	for i := range 5000 {
		must(t, m.Store(key(i), []byte("value"), tiermem.InTier(tiermem.Tier(i%3))))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	var phases []tiermem.SnapshotPhase
	var last tiermem.SnapshotProgress
	progress := func(p tiermem.SnapshotProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		last = p
	}
	info, err := m.Snapshot(path, &tiermem.SnapshotOptions{MemoryLimit: 1 << 20, Progress: progress})
	must(t, err)
	want := []tiermem.SnapshotPhase{tiermem.PhaseList, tiermem.PhaseCopy, tiermem.PhaseWrite, tiermem.PhaseDone}
	if !slices.Equal(phases, want) || last.Keys != 5000 || last.Bytes != info.Bytes {
		t.Errorf("phases %v, last %+v; want %v ending at 5000 keys", phases, last, want)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("beside the snapshot: %v", left)
	}
	phases = nil
	_, err = m.Restore(path, &tiermem.RestoreOptions{Progress: progress})
	must(t, err)
	want = []tiermem.SnapshotPhase{tiermem.PhaseVerify, tiermem.PhaseCopy, tiermem.PhaseDone}
	if !slices.Equal(phases, want) || last.Keys != 5000 {
		t.Errorf("restore phases %v, last %+v; want %v ending at 5000 keys", phases, last, want)
	}
}

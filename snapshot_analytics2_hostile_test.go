package tiermem_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
)

const hs2DirEnv = "TIERMEM_HOSTILE2_SNAP_DIR"

// TestHostileKilledSnapshotSortRunsChild is the child of
// TestHostileKilledSnapshotLeavesNoSortRuns: it fills a Manager with enough
// keys that the snapshot's key listing spills sorted runs to its TempDir,
// then snapshots into <dir>/out/dump.tmsnap and waits in the copy phase
// until killed.
func TestHostileKilledSnapshotSortRunsChild(t *testing.T) {
	dir := os.Getenv(hs2DirEnv)
	if dir == "" {
		t.Skip("run by TestHostileKilledSnapshotLeavesNoSortRuns")
	}
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	const n = 120_000
	keys, values := make([][]byte, 0, 1000), make([][]byte, 0, 1000)
	for i := range n {
		keys = append(keys, fmt.Appendf(nil, "a-rather-long-key-name-%08d", i))
		values = append(values, []byte{byte(i)})
		if len(keys) == cap(keys) {
			if err := m.StoreMany(keys, values); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			keys, values = keys[:0], values[:0]
		}
	}
	_, err = m.Snapshot(filepath.Join(dir, "out", "dump.tmsnap"), &tiermem.SnapshotOptions{MemoryLimit: 4 << 20,
		Progress: func(p tiermem.SnapshotProgress) {
			if p.Phase == tiermem.PhaseCopy {
				fmt.Println("copying")
				time.Sleep(30 * time.Second)
			}
		}})
	fmt.Println("error snapshot ended:", err)
	os.Exit(2)
}

// TestHostileKilledSnapshotLeavesNoSortRuns: a user relies on a process
// killed during a Snapshot leaving nothing that the next Snapshot to the
// same path does not remove (Snapshot's doc). Before, the key listing's
// sort runs (extsort-run-*, as large as the key set: 15 files, 4.7 MB
// here) stayed in the snapshot's directory for ever, one set per killed
// snapshot: the listing spilled them to TempDir itself, outside the
// bundle build's swept work directory. Runs are now unlinked as soon as
// they are made.
func TestHostileKilledSnapshotLeavesNoSortRuns(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "out"), 0o755))
	cmd := childtest.Command("TestHostileKilledSnapshotSortRunsChild", hs2DirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	copying := false
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "error") {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("child: %s", l)
		}
		if l == "copying" {
			copying = true
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if !copying {
		t.Fatal("the child never reached the copy phase")
	}
	out := filepath.Join(dir, "out")
	t.Logf("left by the killed snapshot: %v", hs2Listing(t, out))

	m, err := tiermem.Open(filepath.Join(dir, "m2"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	must(t, m.Store("k", []byte("v")))
	_, err = m.Snapshot(filepath.Join(out, "dump.tmsnap"), &tiermem.SnapshotOptions{MemoryLimit: 4 << 20})
	must(t, err)
	if left := hs2Listing(t, out); len(left) != 1 {
		t.Errorf("after a new snapshot to the same path, %s still holds the killed snapshot's temporary files: %v", out, left)
	}
}

// hs2Listing lists the files of dir with their sizes.
func hs2Listing(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range ents {
		info, _ := e.Info()
		out = append(out, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
	}
	return out
}

// TestHostileSnapshotProgressIsOrdered: a progress bar relies on the
// progress a Snapshot and a Restore report going forward: phases in order,
// within a phase Keys never goes back and never exceeds a known TotalKeys,
// and the last report is PhaseDone with every key, with keys held in two
// tiers (listed twice). It held when tested.
func TestHostileSnapshotProgressIsOrdered(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	for i := range 9000 {
		key := fmt.Sprintf("k%05d", i)
		must(t, m.Store(key, []byte(key), tiermem.InTier(tiermem.Tier(i%3))))
		if i%5 == 0 {
			must(t, m.Copy(key, tiermem.Cold)) // in two tiers: listed twice
		}
	}
	check := func(what string, ps []tiermem.SnapshotProgress, keys int64, order ...tiermem.SnapshotPhase) {
		t.Helper()
		rank := map[tiermem.SnapshotPhase]int{}
		for i, ph := range order {
			rank[ph] = i
		}
		for i, p := range ps {
			if p.TotalKeys >= 0 && p.Keys > p.TotalKeys {
				t.Errorf("%s: report %d: %d of %d keys (%+v)", what, i, p.Keys, p.TotalKeys, p)
			}
			if i > 0 {
				q := ps[i-1]
				if rank[p.Phase] < rank[q.Phase] || p.Phase == q.Phase && p.Keys < q.Keys {
					t.Errorf("%s: report %d goes back: %+v after %+v", what, i, p, q)
				}
			}
		}
		last := ps[len(ps)-1]
		if last.Phase != tiermem.PhaseDone || last.Keys != keys || last.TotalKeys != keys {
			t.Errorf("%s: last report %+v, want done with %d keys", what, last, keys)
		}
	}
	var sp []tiermem.SnapshotProgress
	path := filepath.Join(dir, "s.tmsnap")
	info, err := m.Snapshot(path, &tiermem.SnapshotOptions{Progress: func(p tiermem.SnapshotProgress) { sp = append(sp, p) }})
	must(t, err)
	check("Snapshot", sp, info.Keys, tiermem.PhaseList, tiermem.PhaseCopy, tiermem.PhaseWrite, tiermem.PhaseDone)
	var rp []tiermem.SnapshotProgress
	r, err := m.Restore(path, &tiermem.RestoreOptions{Progress: func(p tiermem.SnapshotProgress) { rp = append(rp, p) }})
	must(t, err)
	check("Restore", rp, r.Keys, tiermem.PhaseVerify, tiermem.PhaseCopy, tiermem.PhaseDone)
}

// TestHostileEmptySnapshotRoundTrip: a Snapshot of an empty Manager is a
// valid file of no keys that verifies; restoring it (replace) empties a
// Manager that holds keys, and merging it changes nothing. Nothing else
// tested an empty image; it held when tested.
func TestHostileEmptySnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	path := filepath.Join(dir, "empty.tmsnap")
	info, err := m.Snapshot(path, nil)
	must(t, err)
	if info.Keys != 0 || info.Bytes != 0 {
		t.Fatalf("empty Manager's snapshot: %+v", info)
	}
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	must(t, f.Verify())
	f.Close()
	must(t, m.Store("a", []byte("1"), tiermem.Pinned()))
	must(t, m.Store("b", []byte("2"), tiermem.InTier(tiermem.Cold)))
	r, err := m.Restore(path, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	must(t, err)
	if n, _ := m.Len(); n != 2 || r.Keys != 0 {
		t.Fatalf("after merging an empty snapshot: %d keys, report %+v", n, r)
	}
	_, err = m.Restore(path, nil)
	must(t, err)
	if n, _ := m.Len(); n != 0 {
		t.Fatalf("after replacing with an empty snapshot: %d keys", n)
	}
}

// TestHostileRestoreExpiredKeepsPresentValue: with a fake clock, keys whose
// TTL ran out between the Snapshot and the Restore are left out and counted
// in Expired, and RestoreMerge keeps the Manager's own newer value of such
// a key; a key whose TTL has time left comes back pinned with the same
// absolute expiry; once every TTL ran out, a replace leaves nothing. It
// held when tested.
func TestHostileRestoreExpiredKeepsPresentValue(t *testing.T) {
	dir := t.TempDir()
	clock := tiermem.NewFakeClock()
	o := &tiermem.Options{MigrateInterval: -1}
	tiermem.SetClock(o, clock)
	m, err := tiermem.Open(filepath.Join(dir, "m"), o)
	must(t, err)
	defer m.Close()
	for tr := range 3 {
		must(t, m.Store(fmt.Sprintf("short%d", tr), []byte("s"), tiermem.WithTTL(time.Minute), tiermem.InTier(tiermem.Tier(tr))))
		must(t, m.Store(fmt.Sprintf("long%d", tr), []byte("l"), tiermem.WithTTL(time.Hour), tiermem.InTier(tiermem.Tier(tr)), tiermem.Pinned()))
	}
	path := filepath.Join(dir, "s.tmsnap")
	info, err := m.Snapshot(path, nil)
	must(t, err)
	if info.Keys != 6 {
		t.Fatalf("snapshot holds %d keys, want 6", info.Keys)
	}
	want, err := m.ExpireTime("long1")
	must(t, err)
	clock.Advance(2 * time.Minute)
	for tr := range 3 {
		must(t, m.Store(fmt.Sprintf("short%d", tr), []byte("present")))
	}
	r, err := m.Restore(path, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	must(t, err)
	if r.Expired != 3 || r.Keys != 3 {
		t.Errorf("report %+v, want 3 expired and 3 restored", r)
	}
	for tr := range 3 {
		v, err := m.Retrieve(fmt.Sprintf("short%d", tr))
		if err != nil || string(v) != "present" {
			t.Errorf("short%d after merging its expired image: %q, %v", tr, v, err)
		}
		got, err := m.ExpireTime(fmt.Sprintf("long%d", tr))
		if err != nil || !got.Equal(want) {
			t.Errorf("long%d's expiry after restore: %v, %v; want %v", tr, got, err, want)
		}
		if pinned, err := m.IsPinned(fmt.Sprintf("long%d", tr)); err != nil || !pinned {
			t.Errorf("long%d after restore: pinned %v, %v", tr, pinned, err)
		}
	}
	clock.Advance(2 * time.Hour)
	r, err = m.Restore(path, nil)
	must(t, err)
	if n, _ := m.Len(); n != 0 || r.Expired != 6 {
		t.Errorf("restoring after every TTL ran out: %d keys, report %+v", n, r)
	}
}

// TestHostileReadAnalyticsRefusesInconsistentRates: ReadAnalytics (and
// tiermem plot --from) promises ErrAnalyticsFormat for "input that is not
// an analytics file WriteAnalytics could have written": a rate is null
// exactly for an interval without reads, and a tier's rate is its hits
// divided by the sample's reads. Each document below differs from a valid
// one in a way WriteAnalytics never writes. Before, a tier's rate was only
// checked to lie in 0..1, and hits + misses of 2^62 each overflowed int64,
// so that neither branch of the sample's rate check ran: all five were
// accepted.
func TestHostileReadAnalyticsRefusesInconsistentRates(t *testing.T) {
	doc := func(hits, misses, rate, tierHits, tierRate string) string {
		return `{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-12-03T19:40:34Z",` +
			`"interval_ns":1000,"hits":` + hits + `,"misses":` + misses + `,"hit_rate":` + rate + `,"tiers":[{"tier":"hot",` +
			`"used_bytes":1,"capacity_bytes":10,"percent":10,"items":1,"hits":` + tierHits + `,"hit_rate":` + tierRate + `,` +
			`"stores":0,"promotions":0,"demotions":0,"evictions":0,"expirations":0,` +
			`"retrieve_ns":{"samples":0,"p50":0,"p99":0,"p999":0},"store_ns":{"samples":0,"p50":0,"p99":0,"p999":0}}]}]}`
	}
	if _, err := tiermem.ReadAnalytics(strings.NewReader(doc("3", "1", "0.75", "3", "0.75"))); err != nil {
		t.Fatalf("the valid document: %v", err)
	}
	const big = "4611686018427387904" // 2^62: hits + misses overflow int64
	for name, d := range map[string]string{
		"a tier rate in an interval without reads": doc("0", "0", "null", "0", "0.5"),
		"a tier rate null with reads":              doc("3", "1", "0.75", "3", "null"),
		"a tier rate not its share of the reads":   doc("3", "1", "0.75", "3", "0.01"),
		"hits and misses that overflow, rate 0.1":  doc(big, big, "0.1", big, "0.5"),
		"hits and misses that overflow, rate null": doc(big, big, "null", "0", "null"),
	} {
		if _, err := tiermem.ReadAnalytics(strings.NewReader(d)); !errors.Is(err, tiermem.ErrAnalyticsFormat) {
			t.Errorf("%s: ReadAnalytics = %v, want ErrAnalyticsFormat", name, err)
		}
	}
}

// TestHostileSnapshotInvariantsAcrossTiers: a Snapshot is "the state at
// one instant". Writers keep invariants that hold at every instant, moving
// their keys through all four tiers (glacier included) while snapshots
// run: a counter stored as x then y (so y <= x <= y+1 at any instant) and a
// token renamed between a and b (exactly one holds it). Each snapshot must
// show a state that held at one instant, with x between what was
// acknowledged before the Snapshot began and what was attempted when it
// returned. It held when tested.
func TestHostileSnapshotInvariantsAcrossTiers(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}})
	must(t, err)
	defer m.Close()
	const writers = 4
	var acked, tried [writers]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		x, y, a, b := fmt.Sprintf("x%d", w), fmt.Sprintf("y%d", w), fmt.Sprintf("a%d", w), fmt.Sprintf("b%d", w)
		must(t, m.Store(a, []byte("token")))
		wg.Go(func() {
			for n := int64(1); ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				v := []byte(strconv.FormatInt(n, 10))
				tried[w].Store(n)
				steps := []func() error{
					func() error { return m.Store(x, v, tiermem.InTier(tiermem.Tier(n%4))) },
					func() error { acked[w].Store(n); return m.Store(y, v, tiermem.InTier(tiermem.Tier((n+1)%4))) },
					func() error { return m.Move(x, tiermem.Tier((n+2)%4)) },
					func() error {
						if n%2 == 1 {
							return m.Rename(a, b, false)
						}
						return m.Rename(b, a, false)
					},
					func() error { return m.Move(y, tiermem.Tier((n+3)%4)) },
				}
				for _, s := range steps {
					if err := s(); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	var lo [writers]int64
	for i := range 4 {
		for w := range writers {
			for want := lo[w] + 3; acked[w].Load() < want && len(errs) == 0; {
				time.Sleep(time.Millisecond)
			}
			lo[w] = acked[w].Load()
		}
		path := filepath.Join(dir, fmt.Sprintf("s%d.tmsnap", i))
		_, err := m.Snapshot(path, nil)
		must(t, err)
		var hi [writers]int64
		for w := range writers {
			hi[w] = tried[w].Load()
		}
		f, err := tiermem.OpenSnapshot(path)
		must(t, err)
		defer f.Close()
		num := func(key string) int64 {
			e, err := f.Lookup(key)
			if err != nil {
				t.Fatalf("snapshot %d: %s: %v", i, key, err)
			}
			n, err := strconv.ParseInt(string(e.Value), 10, 64)
			if err != nil {
				t.Fatalf("snapshot %d: %s holds %q", i, key, e.Value)
			}
			return n
		}
		for w := range writers {
			x, y := num(fmt.Sprintf("x%d", w)), num(fmt.Sprintf("y%d", w))
			if x < y || x > y+1 || x < lo[w] || x > hi[w] {
				t.Errorf("snapshot %d, writer %d: x=%d y=%d, acknowledged before %d, tried after %d", i, w, x, y, lo[w], hi[w])
			}
			_, ea := f.Lookup(fmt.Sprintf("a%d", w))
			_, eb := f.Lookup(fmt.Sprintf("b%d", w))
			if (ea == nil) == (eb == nil) {
				t.Errorf("snapshot %d, writer %d: token under a: %v, under b: %v", i, w, ea, eb)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("writer 0 reached %d", tried[0].Load())
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// TestHostileRestoreKilledChild is the child of TestHostileRestoreKilled:
// it opens <dir>/m with the durability and restores <dir>/s.tmsnap
// (replace), stopping at the stage named until killed.
func TestHostileRestoreKilledChild(t *testing.T) {
	dir := os.Getenv(hs2DirEnv)
	if dir == "" {
		t.Skip("run by TestHostileRestoreKilled")
	}
	d, _ := tiermem.ParseDurability(os.Getenv(hs2DirEnv + "_DURABILITY"))
	stage := os.Getenv(hs2DirEnv + "_STAGE")
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{Durability: d, MigrateInterval: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, err = m.Restore(filepath.Join(dir, "s.tmsnap"), &tiermem.RestoreOptions{Progress: func(p tiermem.SnapshotProgress) {
		at := fmt.Sprintf("%s-%d", p.Phase, p.Keys)
		if at == stage {
			fmt.Println("stopped", at)
			time.Sleep(30 * time.Second)
		}
	}})
	fmt.Println("restored", err)
	time.Sleep(30 * time.Second)
}

// TestHostileRestoreKilled: a user relies on a process killed during a
// Restore, at each stage and durability, leaving a directory that opens as
// what it held (killed while verifying: nothing changed), or that Open
// refuses with ErrRestoreIncomplete (killed once the Manager changed) and
// that a Restore again makes hold exactly the snapshot; killed after
// Restore returned with a durable Durability, it opens holding the
// snapshot. Only the CLI tests killed a Restore before; it held when
// tested.
func TestHostileRestoreKilled(t *testing.T) {
	base := t.TempDir()
	src, err := tiermem.Open(filepath.Join(base, "src"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	for i := range 5000 {
		key := fmt.Sprintf("new-%05d", i)
		must(t, src.Store(key, []byte(key), tiermem.InTier(tiermem.Tier(i%4))))
	}
	snap := filepath.Join(base, "s.tmsnap")
	_, err = src.Snapshot(snap, nil)
	must(t, err)
	must(t, src.Close())
	snapBytes, err := os.ReadFile(snap)
	must(t, err)

	for _, d := range []string{"none", "always"} {
		for _, stage := range []string{"verifying-0", "verifying-4096", "copying-0", "copying-4096", "returned"} {
			if d != "none" && stage != "copying-0" {
				continue // slow with a durable log (TestSnapshotHostileRestoreSurvivesCrash covers a kill after it)
			}
			t.Run(d+"/"+stage, func(t *testing.T) {
				dir := t.TempDir()
				must(t, os.WriteFile(filepath.Join(dir, "s.tmsnap"), snapBytes, 0o644))
				m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
				must(t, err)
				for i := range 300 {
					key := fmt.Sprintf("old-%03d", i)
					must(t, m.Store(key, []byte(key), tiermem.InTier(tiermem.Tier(i%4))))
				}
				must(t, m.Close())
				cmd := childtest.Command("TestHostileRestoreKilledChild", hs2DirEnv+"="+dir, hs2DirEnv+"_DURABILITY="+d, hs2DirEnv+"_STAGE="+stage)
				stdout, err := cmd.StdoutPipe()
				must(t, err)
				must(t, cmd.Start())
				sc := bufio.NewScanner(stdout)
				var last string
				for sc.Scan() {
					last = sc.Text()
					if strings.HasPrefix(last, "stopped") || strings.HasPrefix(last, "restored") || strings.HasPrefix(last, "error") {
						break
					}
				}
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				wantDone := stage == "returned"
				switch {
				case wantDone && last == "restored <nil>":
				case !wantDone && last == "stopped "+stage:
				default:
					t.Fatalf("child said %q", last)
				}
				opts := &tiermem.Options{MigrateInterval: -1}
				m, err = tiermem.Open(filepath.Join(dir, "m"), opts)
				switch {
				case strings.HasPrefix(stage, "verifying"):
					must(t, err)
					hs2Holds(t, m, "old-", 300)
					must(t, m.Close())
					return
				case wantDone && d != "none":
					must(t, err)
					hs2Holds(t, m, "new-", 5000)
					must(t, m.Close())
					return
				case !errors.Is(err, tiermem.ErrRestoreIncomplete):
					if err == nil {
						n, _ := m.Len()
						m.Close()
						t.Fatalf("Open after the kill: nil error, %d keys; want ErrRestoreIncomplete", n)
					}
					t.Fatalf("Open after the kill: %v; want ErrRestoreIncomplete", err)
				}
				opts.OpenIncompleteRestore = true
				m, err = tiermem.Open(filepath.Join(dir, "m"), opts)
				must(t, err)
				_, err = m.Restore(filepath.Join(dir, "s.tmsnap"), nil)
				must(t, err)
				must(t, m.Close())
				m, err = tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
				must(t, err)
				hs2Holds(t, m, "new-", 5000)
				must(t, m.Close())
			})
		}
	}
}

// hs2Holds checks that m holds exactly the n keys prefix%0Nd, each its
// own name as value.
func hs2Holds(t *testing.T, m *tiermem.Manager, prefix string, n int) {
	t.Helper()
	if got, err := m.Len(); err != nil || got != int64(n) {
		t.Errorf("the Manager holds %d keys (%v), want %d", got, err, n)
	}
	width := 5
	if n < 1000 {
		width = 3
	}
	for i := range n {
		key := fmt.Sprintf("%s%0*d", prefix, width, i)
		if v, err := m.Retrieve(key); err != nil || string(v) != key {
			t.Fatalf("%s: %q, %v", key, v, err)
		}
	}
}

// TestHostileSnapshotFromProgress: SnapshotOptions.Progress "may call the
// Manager"; a Snapshot called from it (a BGSAVE handler run from a progress
// hook, say), in any phase, returns ErrSnapshotRunning at once and writes
// nothing, and the outer Snapshot completes. Before, both waited for ever
// on the Snapshots' mutex, and Close, which waits for the outer one, with
// them.
func TestHostileSnapshotFromProgress(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	must(t, m.Store("k", []byte("v")))
	done := make(chan error, 1)
	inner := map[tiermem.SnapshotPhase]error{}
	go func() {
		_, err := m.Snapshot(filepath.Join(dir, "outer.tmsnap"), &tiermem.SnapshotOptions{Progress: func(p tiermem.SnapshotProgress) {
			if _, called := inner[p.Phase]; !called {
				_, inner[p.Phase] = m.Snapshot(filepath.Join(dir, "inner.tmsnap"), nil)
			}
		}})
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
		must(t, m.Close())
	case <-time.After(5 * time.Second):
		t.Fatal("a Snapshot called from another Snapshot's Progress has not returned in 5 s (deadlock on the Snapshots' mutex)")
	}
	for _, ph := range []tiermem.SnapshotPhase{tiermem.PhaseList, tiermem.PhaseCopy, tiermem.PhaseWrite, tiermem.PhaseDone} {
		if err, called := inner[ph]; !called || !errors.Is(err, tiermem.ErrSnapshotRunning) {
			t.Errorf("a Snapshot called from Progress in %s: called %v, %v; want ErrSnapshotRunning", ph, called, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "inner.tmsnap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused inner Snapshot left its file: %v", err)
	}
}

// TestHostileLookupRefusesArrayShapeMismatch: Lookup promises "a damaged
// file is ErrSnapshotCorrupt, for every key, never an altered value". A
// crafted snapshot (valid bundle checksums) whose array record's shape
// does not fit its data is refused by Verify and Restore; Lookup must
// refuse it too. Before, it handed the record out as an Array whose shape
// claims 800 bytes over 16 (a caller indexing it by its shape reads out of
// bounds): it checked only the bundle's checksums, never the record.
func TestHostileLookupRefusesArrayShapeMismatch(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	must(t, m.StoreArray("arr", tiermem.Float64Array([]float64{1, 2}, 2)))
	path := filepath.Join(dir, "s.tmsnap")
	_, err = m.Snapshot(path, nil)
	must(t, err)
	crafted := withArrayShape100(t, path)
	f, err := tiermem.OpenSnapshot(crafted)
	must(t, err)
	defer f.Close()
	if err := f.Verify(); !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
		t.Fatalf("Verify = %v, want ErrSnapshotCorrupt", err)
	}
	e, err := f.Lookup("arr")
	if err != nil {
		if !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
			t.Fatalf("Lookup = %v, want ErrSnapshotCorrupt", err)
		}
		return
	}
	a, err := e.Array()
	must(t, err)
	t.Fatalf("Lookup returned the array %v over %d bytes (%v); want ErrSnapshotCorrupt, as Verify says", a.Shape, len(a.Data), a.Validate())
}

// TestHostileAnalyticsCountsEveryReadForm: every form of Retrieve, View and
// the array reads is a counted read (docs/analytics.md): one hit and one
// miss each, the fast paths (...SharedSmall, ...Bytes) included, which no
// analytics test covered. It held when tested.
func TestHostileAnalyticsCountsEveryReadForm(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	must(t, m.Store("k", []byte("value")))
	must(t, m.StoreArray("a", tiermem.Float64Array([]float64{1, 2}, 2)))
	must(t, m.EnableAnalytics(time.Hour))
	nop := func([]byte) error { return nil }
	nopShared := func([]byte, bool) error { return nil }
	reads := map[string]func(key string) error{
		"Retrieve":       func(k string) error { _, err := m.Retrieve(k); return err },
		"RetrieveAppend": func(k string) error { _, err := m.RetrieveAppend(nil, k); return err },
		"RetrieveShared": func(k string) error { _, _, err := m.RetrieveShared(nil, k); return err },
		"View":           func(k string) error { return m.View(k, nop) },
		"ViewShared":     func(k string) error { return m.ViewShared(k, nopShared) },
		"ViewSharedSmall": func(k string) error {
			return m.ViewSharedSmall(k, nopShared)
		},
		"RetrieveAppendBytes":  func(k string) error { _, err := m.RetrieveAppendBytes(nil, []byte(k)); return err },
		"ViewBytes":            func(k string) error { return m.ViewBytes([]byte(k), nop) },
		"ViewBytesShared":      func(k string) error { return m.ViewBytesShared([]byte(k), nopShared) },
		"ViewBytesSharedSmall": func(k string) error { return m.ViewBytesSharedSmall([]byte(k), nopShared) },
	}
	arrays := map[string]func(key string) error{
		"RetrieveArray":       func(k string) error { _, err := m.RetrieveArray(k); return err },
		"RetrieveArrayInto":   func(k string) error { _, err := m.RetrieveArrayInto(make([]byte, 64), k); return err },
		"RetrieveArrayShared": func(k string) error { _, _, err := m.RetrieveArrayShared(k); return err },
		"ViewArray":           func(k string) error { return m.ViewArray(k, func(tiermem.Array) error { return nil }) },
	}
	for _, set := range []struct {
		present string
		reads   map[string]func(string) error
	}{{"k", reads}, {"a", arrays}} {
		for name, read := range set.reads {
			before, _ := m.Counts()
			must(t, read(set.present))
			if err := read("absent"); !errors.Is(err, tiermem.ErrNotFound) {
				t.Fatalf("%s of an absent key: %v", name, err)
			}
			after, _ := m.Counts()
			if hits, misses := after.Hits[tiermem.Hot]-before.Hits[tiermem.Hot], after.Misses-before.Misses; hits != 1 || misses != 1 {
				t.Errorf("%s: a hit and a miss counted as %d hits and %d misses", name, hits, misses)
			}
		}
	}
}

// TestHostileAnalyticsResumeAfterFailedClose: "A Close that fails and
// leaves the Manager open resumes sampling" (docs/analytics.md), and Counts
// keep counting: a Close on a full disk (tmpfs) fails, the Manager stays
// open, reads after it are counted and new samples appear; the Close after
// room is freed succeeds. It held when tested.
func TestHostileAnalyticsResumeAfterFailedClose(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	fs := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", fs).CombinedOutput(); err != nil {
		t.Skipf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", fs).Run() })
	m, err := tiermem.Open(filepath.Join(fs, "m"), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 16 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	big := make([]byte, 1<<20)
	x := uint64(88172645463325252)
	for i := range 4 {
		for j := range big { // incompressible
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			big[j] = byte(x)
		}
		must(t, m.Store(fmt.Sprintf("big%d", i), big))
	}
	must(t, m.EnableAnalytics(5*time.Millisecond))
	if err := m.Close(); err == nil {
		t.Skip("Close fit 4 MiB into a 2 MiB tmpfs (compressed?)")
	} else {
		t.Logf("Close on a full disk: %v", err)
	}
	t.Cleanup(func() { // before the unmount: make room, and Close again
		if out, err := exec.Command("mount", "-o", "remount,size=64m", fs).CombinedOutput(); err != nil {
			t.Errorf("growing the tmpfs: %v: %s", err, out)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close once the disk has room: %v", err)
		}
	})
	n := len(m.Analytics())
	c0, ok := m.Counts()
	if !ok {
		t.Fatal("Counts after a failed Close: analytics off")
	}
	for range 10 {
		_, err := m.Retrieve("big0")
		must(t, err)
	}
	time.Sleep(100 * time.Millisecond)
	c1, _ := m.Counts()
	if c1.Hits[tiermem.Hot]-c0.Hits[tiermem.Hot] != 10 {
		t.Errorf("10 reads after a failed Close counted as %d hits", c1.Hits[tiermem.Hot]-c0.Hits[tiermem.Hot])
	}
	if got := len(m.Analytics()); got <= n {
		t.Errorf("no sample taken in 100 ms after a failed Close (sampling every 5 ms): %d samples before, %d after", n, got)
	}
}

// TestHostileRestoreTruncatedFileChild is the child of
// TestHostileRestoreOfAFileTruncatedMeanwhile: it restores <dir>/s.tmsnap
// into <dir>/m, and at the stage named (the copy's first report, or the
// verify's report of 4096 keys) cuts the file to a quarter (as a `cp`
// over it, or a full disk's rewrite, does), then says what Restore
// returned and whether Open, after Close, finds the directory marked.
func TestHostileRestoreTruncatedFileChild(t *testing.T) {
	dir := os.Getenv(hs2DirEnv)
	if dir == "" {
		t.Skip("run by TestHostileRestoreOfAFileTruncatedMeanwhile")
	}
	stage := os.Getenv(hs2DirEnv + "_STAGE")
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	must(t, m.Store("old", []byte("v")))
	path := filepath.Join(dir, "s.tmsnap")
	fi, err := os.Stat(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, err = m.Restore(path, &tiermem.RestoreOptions{Progress: func(p tiermem.SnapshotProgress) {
		if fmt.Sprintf("%s-%d", p.Phase, p.Keys) == stage {
			if err := os.Truncate(path, fi.Size()/4); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
		}
	}})
	fmt.Printf("restore returned corrupt=%v incomplete=%v: %v\n", errors.Is(err, tiermem.ErrSnapshotCorrupt), errors.Is(err, tiermem.ErrRestoreIncomplete), err)
	v, rerr := m.Retrieve("old")
	fmt.Printf("old=%q %v\n", v, rerr)
	closeAndReportMark(m, filepath.Join(dir, "m"))
}

// TestHostileRestoreOfAFileTruncatedMeanwhile: a snapshot file cut short
// while Restore reads it (a `cp newer.tmsnap s.tmsnap`, a script rewriting
// the dump) makes Restore fail with ErrSnapshotCorrupt, as Restore's doc
// promises for a truncated file: cut during the copy, with
// ErrRestoreIncomplete and the directory left marked; cut during the
// verify's walk over the records, with nothing changed. Before, a read of
// the mapping past the file's new end killed the process with SIGBUS
// ("unexpected fault address"), taking a server and every other Manager in
// it down.
func TestHostileRestoreOfAFileTruncatedMeanwhile(t *testing.T) {
	base := t.TempDir()
	src, err := tiermem.Open(filepath.Join(base, "src"), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 20}})
	must(t, err)
	v := make([]byte, 4<<10)
	for i := range 6000 {
		v[0], v[1] = byte(i), byte(i>>8)
		must(t, src.Store(fmt.Sprintf("k%04d", i), v))
	}
	snap := filepath.Join(base, "s.tmsnap")
	_, err = src.Snapshot(snap, nil)
	must(t, err)
	must(t, src.Close())
	snapBytes, err := os.ReadFile(snap)
	must(t, err)
	for _, tc := range []struct{ stage, want string }{
		{"copying-0", "restore returned corrupt=true incomplete=true|old=\"\" |reopened marked=true"},
		{"verifying-4096", "restore returned corrupt=true incomplete=false|old=\"v\" <nil>|reopened marked=false"},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "s.tmsnap"), snapBytes, 0o644))
			out, err := childtest.Command("TestHostileRestoreTruncatedFileChild", hs2DirEnv+"="+dir, hs2DirEnv+"_STAGE="+tc.stage).CombinedOutput()
			said := string(out)
			i := strings.Index(said, "restore returned")
			if i < 0 {
				if len(said) > 600 {
					said = said[:600]
				}
				t.Fatalf("the process restoring a snapshot file that was cut short meanwhile died (%v):\n%s", err, said)
			}
			t.Logf("the child: %s", said[i:])
			for _, want := range strings.Split(tc.want, "|") {
				if !strings.Contains(said[i:], want) {
					t.Errorf("want %q in what the child said:\n%s", want, said[i:])
				}
			}
		})
	}
}

// TestHostileLookupOfAFileTruncatedMeanwhileChild is the child of
// TestHostileLookupOfAFileTruncatedMeanwhile: it opens <dir>/s.tmsnap,
// looks a key up, cuts the file to a quarter and looks a key up again.
func TestHostileLookupOfAFileTruncatedMeanwhileChild(t *testing.T) {
	dir := os.Getenv(hs2DirEnv)
	if dir == "" {
		t.Skip("run by TestHostileLookupOfAFileTruncatedMeanwhile")
	}
	path := filepath.Join(dir, "s.tmsnap")
	f, err := tiermem.OpenSnapshot(path)
	if err == nil {
		_, err = f.Lookup("k0001")
	}
	if err == nil {
		err = os.Truncate(path, f.Info().FileSize/4)
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, err = f.Lookup("k3999")
	fmt.Printf("lookup returned corrupt=%v: %v\n", errors.Is(err, tiermem.ErrSnapshotCorrupt), err)
	os.Exit(0)
}

// TestHostileLookupOfAFileTruncatedMeanwhile: SnapshotFile.Lookup of a file
// cut short after it was opened (and checked by a first Lookup) is
// ErrSnapshotCorrupt, not a SIGBUS reading the index or the record past
// the file's new end.
func TestHostileLookupOfAFileTruncatedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	src, err := tiermem.Open(filepath.Join(dir, "src"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	v := make([]byte, 4<<10)
	for i := range 4000 {
		must(t, src.Store(fmt.Sprintf("k%04d", i), v))
	}
	_, err = src.Snapshot(filepath.Join(dir, "s.tmsnap"), nil)
	must(t, err)
	must(t, src.Close())
	out, err := childtest.Command("TestHostileLookupOfAFileTruncatedMeanwhileChild", hs2DirEnv+"="+dir).CombinedOutput()
	said := string(out)
	if i := strings.Index(said, "lookup returned"); i >= 0 {
		t.Logf("the child: %s", said[i:])
		if !strings.HasPrefix(said[i:], "lookup returned corrupt=true") {
			t.Errorf("Lookup of a file cut short meanwhile: %s", said[i:])
		}
		return
	}
	if len(said) > 600 {
		said = said[:600]
	}
	t.Errorf("the process looking a key up in a snapshot file cut short meanwhile died (%v):\n%s", err, said)
}

// TestHostileSnapshotProgressPanicLeavesNothing: a Progress function that
// panics (a bug in the caller's reporting, recovered by its server) ends
// the Snapshot, and the panic reaches the caller; the Manager is then as
// before (Stores, a next Snapshot and Close work) and the failed Snapshot
// leaves no file ("a failed Snapshot leaves no file"): not the file
// written beside the path, nor its work directory, nor the key listing's
// sort runs. Before, the builder was aborted only on an error: each panic
// left a set of files whose locked descriptors stayed open, so that no
// later Snapshot could sweep them for the life of the process.
func TestHostileSnapshotProgressPanicLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	for i := range 2000 {
		must(t, m.Store(fmt.Sprintf("k%04d", i), []byte("v"), tiermem.InTier(tiermem.Tier(i%4))))
	}
	out := filepath.Join(dir, "out")
	must(t, os.Mkdir(out, 0o755))
	for _, phase := range []tiermem.SnapshotPhase{tiermem.PhaseList, tiermem.PhaseCopy, tiermem.PhaseWrite} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Progress panicked in %s, and Snapshot did not pass the panic on", phase)
				}
			}()
			m.Snapshot(filepath.Join(out, "s.tmsnap"), &tiermem.SnapshotOptions{Progress: func(p tiermem.SnapshotProgress) {
				if p.Phase == phase {
					panic("reporting failed")
				}
			}})
		}()
		if left := hs2Listing(t, out); len(left) > 0 {
			t.Errorf("a Snapshot whose Progress panicked in %s left %v", phase, left)
		}
		if tiermem.SnapshotRunning(m) {
			t.Errorf("a Snapshot whose Progress panicked in %s is still published", phase)
		}
	}
	must(t, m.Store("after", []byte("v")))
	_, err = m.Snapshot(filepath.Join(dir, "ok.tmsnap"), nil)
	must(t, err)
	must(t, m.Close())
}

// TestHostileRestoreProgressPanicChild is the child of
// TestHostileRestoreProgressPanicKeepsTheProcess: it restores a snapshot of
// 9000 values of 16 KiB with a Progress function that panics at the report
// of 4096 keys, recovers, waits a second and says whether it is alive,
// whether the Restore's goroutines are gone, and whether Open, after
// Close, finds the directory marked.
func TestHostileRestoreProgressPanicChild(t *testing.T) {
	dir := os.Getenv(hs2DirEnv)
	if dir == "" {
		t.Skip("run by TestHostileRestoreProgressPanicKeepsTheProcess")
	}
	m, err := tiermem.Open(filepath.Join(dir, "m"), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 20}})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	before := runtime.NumGoroutine()
	func() {
		defer func() { fmt.Println("recovered:", recover()) }()
		m.Restore(filepath.Join(dir, "s.tmsnap"), &tiermem.RestoreOptions{Progress: func(p tiermem.SnapshotProgress) {
			if p.Phase == tiermem.PhaseCopy && p.Keys == 4096 {
				panic("reporting failed")
			}
		}})
	}()
	time.Sleep(time.Second)
	fmt.Println("alive")
	fmt.Printf("goroutines before %d after %d\n", before, runtime.NumGoroutine())
	closeAndReportMark(m, filepath.Join(dir, "m"))
}

// TestHostileRestoreProgressPanicKeepsTheProcess: a RestoreOptions.Progress
// that panics (recovered by the caller, as a server's handler does) ends
// the Restore without taking the process down: the panic reaches the
// caller, the Restore's worker goroutines are gone, and the directory stays
// marked (ErrRestoreIncomplete at the next Open), as after any Restore that
// stopped half way. Before, Restore's deferred Close unmapped the snapshot
// while its workers still copied records out of the mapping (SIGSEGV,
// "unexpected fault address"), and the workers leaked.
func TestHostileRestoreProgressPanicKeepsTheProcess(t *testing.T) {
	dir := t.TempDir()
	src, err := tiermem.Open(filepath.Join(dir, "src"), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	v := make([]byte, 16<<10)
	for i := range 9000 {
		v[0], v[1] = byte(i), byte(i>>8)
		must(t, src.Store(fmt.Sprintf("k%04d", i), v))
	}
	_, err = src.Snapshot(filepath.Join(dir, "s.tmsnap"), nil)
	must(t, err)
	must(t, src.Close())
	out, err := childtest.Command("TestHostileRestoreProgressPanicChild", hs2DirEnv+"="+dir).CombinedOutput()
	said := string(out)
	if i := strings.Index(said, "alive"); i >= 0 {
		t.Logf("the child: %s", said[i:])
		var before, after int
		if _, err := fmt.Sscanf(said[i:], "alive\ngoroutines before %d after %d", &before, &after); err != nil || after > before {
			t.Errorf("goroutines before the Restore and after its panic: %d, %d (%v): its workers leak", before, after, err)
		}
		if !strings.Contains(said[i:], "reopened marked=true") {
			t.Errorf("after a Restore stopped half way by a panic, Open does not say ErrRestoreIncomplete:\n%s", said[i:])
		}
		return
	}
	if i := strings.Index(said, "fatal error"); i >= 0 {
		said = said[max(0, i-200):]
	}
	if len(said) > 700 {
		said = said[:700]
	}
	t.Errorf("the process whose Restore's Progress panicked (recovered) died (%v):\n%s", err, said)
}

// closeAndReportMark ends a Restore child: it closes m, reopens its
// directory dir, prints whether the directory is still marked as a restore
// in progress ("reopened marked=true"), and exits.
func closeAndReportMark(m *tiermem.Manager, dir string) {
	if err := m.Close(); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	fmt.Printf("reopened marked=%v\n", errors.Is(err, tiermem.ErrRestoreIncomplete))
	if err == nil {
		m.Close()
	}
	os.Exit(0)
}

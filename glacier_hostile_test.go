package tiermem_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/object"
)

// slowFS is the OS file system with writes that take 3 s while slow
// is set: a slow disk, under which the cold log's buffer stays in process
// memory longer.
type slowFS struct {
	vfs.FS
	slow atomic.Bool
}

type slowFile struct {
	vfs.File
	fs *slowFS
}

func (f *slowFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &slowFile{File: file, fs: f}, nil
}

func (f *slowFS) Create(name string) (vfs.File, error) { return f.wrap(f.FS.Create(name)) }
func (f *slowFS) OpenReadWrite(name string) (vfs.File, error) {
	return f.wrap(f.FS.OpenReadWrite(name))
}

func (f *slowFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.slow.Load() {
		time.Sleep(3 * time.Second)
	}
	return f.File.WriteAt(p, off)
}

// holdBucket is a bucket that can fail every request (down) or hold the
// next Puts until released (hold): a slow upload, frozen at will.
type holdBucket struct {
	object.Bucket
	down    atomic.Bool
	hold    atomic.Bool
	entered chan struct{} // one send per Put that is held
	release chan struct{} // closed to let held Puts through
}

func newHoldBucket(b object.Bucket) *holdBucket {
	return &holdBucket{Bucket: b, entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (h *holdBucket) Put(ctx context.Context, name string, data []byte) error {
	if h.hold.Load() {
		select {
		case h.entered <- struct{}{}:
		default:
		}
		<-h.release
	}
	if h.down.Load() {
		return errDown
	}
	return h.Bucket.Put(ctx, name, data)
}

func (h *holdBucket) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if h.down.Load() {
		return nil, errDown
	}
	return h.Bucket.Get(ctx, name, off, n)
}

// heldPass runs passes, the clock two hours on before each, until one
// stages cold's idle values into glacier and waits, held, for their
// upload (a cold policy may need a first pass to mark what is idle); it
// returns the channel that pass's result will arrive on, or ok false.
func heldPass(m *tiermem.Manager, clock *tiermem.FakeClock, bucket *holdBucket) (<-chan error, bool) {
	bucket.hold.Store(true)
	for range 3 {
		clock.Advance(2 * time.Hour)
		pass := make(chan error, 1)
		go func() { pass <- m.Migrate() }()
		select {
		case <-bucket.entered:
			return pass, true
		case <-pass: // nothing demoted yet
		case <-time.After(10 * time.Second):
			return nil, false
		}
	}
	return nil, false
}

// idlePasses runs two passes, the clock two hours on before each: enough
// for cold's values idle past a DemoteAfter of an hour to reach glacier.
func idlePasses(t *testing.T, m *tiermem.Manager, clock *tiermem.FakeClock) {
	t.Helper()
	for range 2 {
		clock.Advance(2 * time.Hour)
		must(t, m.Migrate())
	}
}

// hostileStore opens a glacier store over b that gives up quickly.
func hostileStore(t *testing.T, b object.Bucket) *object.Store {
	t.Helper()
	st, err := object.Open(b, &object.Options{PackSize: 64 << 10, Retries: -1, Backoff: time.Millisecond, Compression: object.ZstdFastest})
	must(t, err)
	return st
}

// hostileOptions are glacierOptions with the glacier store handed over.
func hostileOptions(st *object.Store, d tiermem.Durability) *tiermem.Options {
	o := glacierOptions(1 << 20)
	o.Glacier = tiermem.GlacierOptions{Store: st}
	o.Durability = d
	return o
}

const (
	hostileDirEnv      = "TIERMEM_HOSTILE_DIR"
	hostileScenarioEnv = "TIERMEM_HOSTILE_SCENARIO"
)

// TestGlacierCrashScenarioChild is no test of its own: the crash tests below run
// it in a child process, which plays one scenario and then exits without
// Close, as a crash (SIGKILL) would.
func TestGlacierCrashScenarioChild(t *testing.T) {
	dir := os.Getenv(hostileDirEnv)
	if dir == "" {
		t.Skip("run by the crash tests of this file")
	}
	fail := func(format string, args ...any) {
		fmt.Printf("child error: "+format+"\n", args...)
		os.Exit(3)
	}
	d, err := object.OpenDir(filepath.Join(dir, "glacier"))
	if err != nil {
		fail("%v", err)
	}
	bucket := newHoldBucket(d)
	st, err := object.Open(bucket, &object.Options{PackSize: 64 << 10, Retries: -1, Backoff: time.Millisecond})
	if err != nil {
		fail("%v", err)
	}
	scenario := os.Getenv(hostileScenarioEnv)
	clock := tiermem.NewFakeClock()
	o := glacierOptions(1 << 20)
	o.Glacier = tiermem.GlacierOptions{Store: st}
	o.Cold.DemoteAfter = time.Hour
	tiermem.SetClock(o, clock)
	disk := &slowFS{FS: vfs.Default}
	tiermem.SetColdFS(o, disk)
	switch scenario {
	case "move-glacier-to-hot", "failed-store-into-glacier", "stale-glacier-copy":
		o.Durability = tiermem.Always
	}
	m, err := tiermem.Open(dir, o)
	if err != nil {
		fail("open: %v", err)
	}
	v1, v2 := []byte("version one, acknowledged"), []byte("version two")
	switch scenario {
	case "move-glacier-to-hot":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Glacier)); err != nil {
			fail("%v", err)
		}
		if err := m.Move("k", tiermem.Hot); err != nil {
			fail("%v", err)
		}
		fmt.Println("ack")
	case "failed-store-into-glacier":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Cold)); err != nil {
			fail("%v", err)
		}
		bucket.down.Store(true)
		err := m.Store("k", v2, tiermem.InTier(tiermem.Glacier))
		fmt.Println("ack, then a Store that returned:", err)
	case "stale-glacier-copy":
		if err := m.Store("k", v2, tiermem.InTier(tiermem.Glacier)); err != nil {
			fail("%v", err)
		}
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Cold)); err != nil {
			fail("%v", err)
		}
		fmt.Println("ack")
	case "promote-from-glacier":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Glacier)); err != nil {
			fail("%v", err)
		}
		if err := m.Migrate(); err != nil { // uploads it: k is durable in glacier
			fail("%v", err)
		}
		for range 3 {
			if _, err := m.Retrieve("k"); err != nil {
				fail("%v", err)
			}
		}
		disk.slow.Store(true)
		if err := m.Migrate(); err != nil { // promotes k to cold
			fail("%v", err)
		}
		fmt.Println("ack, k in", must2(m.Tier("k")))
	case "move-to-glacier-during-batch":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Cold)); err != nil {
			fail("%v", err)
		}
		if _, ok := heldPass(m, clock, bucket); !ok { // stages k into glacier, then waits for the upload
			fail("the batch upload never started")
		}
		moved := make(chan error, 1)
		go func() { moved <- m.Move("k", tiermem.Glacier) }()
		select {
		case err := <-moved: // acknowledged while the glacier copy is not durable
			if err != nil {
				fail("%v", err)
			}
			fmt.Println("ack before the upload")
			time.Sleep(500 * time.Millisecond) // the cold log's buffer flushes every 100 ms
		case <-time.After(time.Second): // the Move waits for the upload: let it through
			bucket.hold.Store(false)
			close(bucket.release)
			if err := <-moved; err != nil {
				fail("%v", err)
			}
			fmt.Println("ack after the upload")
		}
	default:
		fail("unknown scenario %q", scenario)
	}
	os.Exit(0) // a crash: no Close
}

// crashScenario runs one scenario in a child process and returns the
// directory it left, once the child has exited.
func crashScenario(t *testing.T, scenario string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := childtest.Command("TestGlacierCrashScenarioChild", hostileDirEnv+"="+dir, hostileScenarioEnv+"="+scenario)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ack") {
		t.Fatalf("child %s: %v\n%s", scenario, err, out)
	}
	t.Logf("child: %s", strings.TrimSpace(string(out)))
	return dir
}

// checkKAfterCrash reopens dir and wants key k to read v1.
func checkKAfterCrash(t *testing.T, dir, why string) {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	got, err := m.Retrieve("k")
	if err != nil || string(got) != "version one, acknowledged" {
		t.Fatalf("%s; after the crash k reads %q, %v: an acknowledged value is lost", why, got, err)
	}
}

// TestGlacierMoveFromGlacierToHotSurvivesCrash: with Durability Always,
// Move of a glacier key up to a memory tier must leave a copy in the
// durable cold log (as every value a memory tier holds has one), so that
// a crash (a child process exiting without Close) right after the Move
// loses nothing. (At HEAD 7d7413d it left none, and the value was lost.)
func TestGlacierMoveFromGlacierToHotSurvivesCrash(t *testing.T) {
	dir := crashScenario(t, "move-glacier-to-hot")
	checkKAfterCrash(t, dir, "Store InTier(Glacier), Move to Hot, with Durability Always")
}

// TestGlacierMoveFromGlacierToHotKeepsColdLog: the same Move keeps a
// cold-log copy of the hot value, so that the warm tier's demotion of it
// later works (without one it failed: "in the warm tier but not in the
// cold log", and so did the Stores that needed the room).
func TestGlacierMoveFromGlacierToHotKeepsColdLog(t *testing.T) {
	m := open(t, hostileOptions(hostileStore(t, object.NewMem()), tiermem.Always))
	must(t, m.Store("k", []byte("from glacier"), tiermem.InTier(tiermem.Glacier)))
	must(t, m.Move("k", tiermem.Hot))
	if u := m.Usage(); u[tiermem.Cold].Items != 1 {
		t.Errorf("after Move to Hot with Durability Always the cold log holds %d keys, want k's copy", u[tiermem.Cold].Items)
	}
	for i := range 40 { // 40 × ~10 KB: hot (64 KiB) and warm (128 KiB) must demote k
		key := fmt.Sprint("fill", i)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Hot)); err != nil {
			t.Fatalf("Store %s, which needs k demoted: %v", key, err)
		}
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "from glacier" {
		t.Fatalf("k: %q, %v", got, err)
	}
}

// TestGlacierFailedStoreIntoGlacierSurvivesCrash: with Durability Always
// and glacier unreachable, a Store of k into glacier fails; the value k
// had (durably, in cold) must survive the failed Store and a crash after
// it. (At HEAD 7d7413d the Store deleted it from cold before the upload
// failed, and the crash lost it.)
func TestGlacierFailedStoreIntoGlacierSurvivesCrash(t *testing.T) {
	dir := crashScenario(t, "failed-store-into-glacier")
	checkKAfterCrash(t, dir, "Store k InTier(Cold), then a Store InTier(Glacier) failing while glacier is down, Durability Always")
}

// TestGlacierFailedStoreIntoGlacierKeepsOldValue: the in-process face of
// the same promise: after the failed Store, k reads its old value, which
// cold still holds.
func TestGlacierFailedStoreIntoGlacierKeepsOldValue(t *testing.T) {
	bucket := newHoldBucket(object.NewMem())
	m := open(t, hostileOptions(hostileStore(t, bucket), tiermem.Always))
	t.Cleanup(func() { bucket.down.Store(false) }) // before the Close of open's cleanup
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	bucket.down.Store(true)
	err := m.Store("k", []byte("new"), tiermem.InTier(tiermem.Glacier))
	if !errors.Is(err, tiermem.ErrUnavailable) {
		t.Fatalf("Store into an unreachable glacier with Durability Always: %v, want ErrUnavailable", err)
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "old" {
		t.Fatalf("after a failed Store k reads %q, %v; want the old value", got, err)
	}
	if u := m.Usage(); u[tiermem.Cold].Items != 1 {
		t.Fatalf("the failed Store removed k's durable copy from cold: %+v", u[tiermem.Cold])
	}
}

// TestGlacierStoreOverGlacierKeyWhileUnreachable: with Durability Always
// and glacier unreachable, a Store of a glacier key into hot either
// succeeds (the cold log holds the new value) or fails leaving the old
// value readable; never the key in no tier (at HEAD 7d7413d it failed and
// left the key nowhere, and the next pass made the loss durable).
func TestGlacierStoreOverGlacierKeyWhileUnreachable(t *testing.T) {
	bucket := newHoldBucket(object.NewMem())
	m := open(t, hostileOptions(hostileStore(t, bucket), tiermem.Always))
	t.Cleanup(func() { bucket.down.Store(false) })
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Glacier)))
	bucket.down.Store(true)
	err := m.Store("k", []byte("new"), tiermem.InTier(tiermem.Hot))
	want := "new"
	if err != nil {
		want = "old"
	}
	if got, rerr := m.Retrieve("k"); rerr != nil || string(got) != want {
		t.Errorf("after a Store into hot that returned %v, k reads %q, %v; want %q", err, got, rerr, want)
	}
	bucket.down.Store(false)
	must(t, m.Migrate())
	if got, rerr := m.Retrieve("k"); rerr != nil || string(got) != want {
		t.Fatalf("glacier back, a pass later: k reads %q, %v; want %q", got, rerr, want)
	}
}

// TestGlacierMoveToGlacierDuringBatchSurvivesCrash: while a batch
// demotion has staged k into glacier and waits for its upload, a Move of
// k to glacier finds glacier holding it; it must not delete the cold copy
// before the glacier copy is durable, or a crash loses k (Durability None,
// but k was stored long before: only the last ~100 ms of Stores may be
// lost). At HEAD 7d7413d keepOnly deleted it at once and the crash lost k.
func TestGlacierMoveToGlacierDuringBatchSurvivesCrash(t *testing.T) {
	dir := crashScenario(t, "move-to-glacier-during-batch")
	checkKAfterCrash(t, dir, "Move k to Glacier while a batch demotion of k waits for its upload")
}

// TestGlacierMoveToGlacierLeavesNoColdCopy: with a durable log, Move of a
// hot key to glacier leaves no cold-log copy: Tier says Glacier. (At HEAD
// 7d7413d the copy stayed, no victim of cold, holding its budget.)
func TestGlacierMoveToGlacierLeavesNoColdCopy(t *testing.T) {
	m := open(t, hostileOptions(hostileStore(t, object.NewMem()), tiermem.Always))
	must(t, m.Store("k", []byte("archive me"), tiermem.InTier(tiermem.Hot)))
	must(t, m.Move("k", tiermem.Glacier))
	if tr := tierOf(t, m, "k"); tr != tiermem.Glacier {
		t.Errorf("after Move to Glacier, Tier = %v", tr)
	}
	if u := m.Usage(); u[tiermem.Cold].Items != 0 || u[tiermem.Glacier].Items != 1 {
		t.Errorf("after Move to Glacier: cold %+v, glacier %+v", u[tiermem.Cold], u[tiermem.Glacier])
	}
}

// TestGlacierEverySecondStoreIsDurable: with Durability EverySecond (a
// crash loses at most about a second of Stores) and no migration loop, a
// Store into glacier is in the bucket seconds later (at HEAD 7d7413d it
// waited for Close).
func TestGlacierEverySecondStoreIsDurable(t *testing.T) {
	mem := object.NewMem()
	m := open(t, hostileOptions(hostileStore(t, mem), tiermem.EverySecond))
	must(t, m.Store("k", []byte("every second"), tiermem.InTier(tiermem.Glacier)))
	time.Sleep(2500 * time.Millisecond)
	after, err := object.Open(mem, nil) // what a process opening the bucket after a crash finds
	must(t, err)
	defer after.Close()
	if _, err := after.Meta("k"); err != nil {
		t.Fatalf("2.5 s after a Store into glacier with Durability EverySecond, the bucket does not hold it: %v", err)
	}
}

// TestGlacierBudgetFullIsNoSpace: with Glacier.Size set, Stores that push
// cold's victims down fill glacier up to its budget, never past it; then
// a Store that needs room fails with ErrNoSpace, a Store into glacier too,
// and every acknowledged value still reads back, before and after reopen.
func TestGlacierBudgetFullIsNoSpace(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(256 << 10)
	o.Glacier.Size = 512 << 10
	o.Glacier.Object.Compression = object.NoCompression // valueFor is random: the budget counts what is stored
	m, err := tiermem.Open(dir, o)
	must(t, err)
	var keys []string
	var refused error
	for i := 0; i < 400 && refused == nil; i++ {
		key := fmt.Sprint("k", i)
		if refused = m.Store(key, valueFor(key)); refused == nil {
			keys = append(keys, key)
		}
		if u := m.Usage(); u[tiermem.Glacier].Used > o.Glacier.Size || u[tiermem.Cold].Used > o.Cold.Size {
			t.Fatalf("after %s: over a budget: %+v", key, u)
		}
	}
	if !errors.Is(refused, tiermem.ErrNoSpace) {
		t.Fatalf("Stores with every tier full: %v, want ErrNoSpace", refused)
	}
	u := m.Usage()
	if u[tiermem.Glacier].Capacity != o.Glacier.Size || u[tiermem.Glacier].Items == 0 {
		t.Fatalf("glacier usage %+v", u[tiermem.Glacier])
	}
	big := make([]byte, 200<<10)
	if err := m.Store("big", big, tiermem.InTier(tiermem.Glacier)); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Store into a full glacier: %v, want ErrNoSpace", err)
	}
	if err := m.Store("huge", make([]byte, 600<<10), tiermem.InTier(tiermem.Glacier)); !errors.Is(err, tiermem.ErrTooLarge) {
		t.Fatalf("Store of more than glacier's budget: %v, want ErrTooLarge", err)
	}
	checkAll(t, m, keys)
	must(t, m.Close())
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	checkAll(t, m, keys)
}

// TestGlacierTTLPinnedArraysThroughDemotionAndReopen: values demoted in a
// batch keep their TTL, pin and array header through glacier and a
// reopen; the TTL index is rebuilt from glacier, so an expired glacier
// value misses and a pass deletes it.
func TestGlacierTTLPinnedArraysThroughDemotionAndReopen(t *testing.T) {
	dir := t.TempDir()
	clock := tiermem.NewFakeClock()
	o := glacierOptions(8 << 20)
	o.Cold.DemoteAfter = time.Hour
	tiermem.SetClock(o, clock)
	m, err := tiermem.Open(dir, o)
	must(t, err)
	arr := tiermem.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 3, 2)
	must(t, m.StoreArray("arr", arr, tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("ttl", []byte("expires"), tiermem.InTier(tiermem.Cold), tiermem.WithTTL(10*time.Hour)))
	must(t, m.Store("pin", []byte("pinned"), tiermem.InTier(tiermem.Cold), tiermem.Pinned()))
	idlePasses(t, m, clock)
	for key, want := range map[string]tiermem.Tier{"arr": tiermem.Glacier, "ttl": tiermem.Glacier, "pin": tiermem.Cold} {
		if got := tierOf(t, m, key); got != want {
			t.Fatalf("%s in %v, want %v", key, got, want)
		}
	}
	must(t, m.Move("pin", tiermem.Glacier))
	must(t, m.Close())

	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	got, err := m.RetrieveArray("arr")
	must(t, err)
	if fmt.Sprint(got.Shape) != "[3 2]" || got.DType != arr.DType || !bytes.Equal(got.Data, arr.Data) {
		t.Fatalf("array after glacier and reopen: %+v", got)
	}
	if v, err := m.Retrieve("ttl"); err != nil || string(v) != "expires" {
		t.Fatalf("ttl before expiry: %q, %v", v, err)
	}
	must(t, m.Move("pin", tiermem.Cold))
	clock.Advance(30 * 24 * time.Hour)
	must(t, m.Migrate())
	if tierOf(t, m, "pin") != tiermem.Cold {
		t.Fatal("the pin was lost in glacier: an idle pass demoted the value")
	}
	if _, err := m.Retrieve("ttl"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("expired glacier value after reopen: %v", err)
	}
	if u := m.Usage(); u[tiermem.Glacier].Items != 1 { // arr
		t.Fatalf("after expiry: glacier %+v", u[tiermem.Glacier])
	}
}

// TestGlacierCloseWhileUnreachableCanBeRetried: Close with values waiting
// in glacier's open pack while the store is down fails with
// ErrUnavailable and the Manager stays open, holding everything; once the
// store is back, Close succeeds and a reopen finds every value.
func TestGlacierCloseWhileUnreachableCanBeRetried(t *testing.T) {
	dir := t.TempDir()
	d, err := object.OpenDir(filepath.Join(dir, "glacier"))
	must(t, err)
	bucket := newHoldBucket(d)
	o := hostileOptions(hostileStore(t, bucket), tiermem.None)
	m, err := tiermem.Open(dir, o)
	must(t, err)
	must(t, m.Store("g", []byte("in glacier"), tiermem.InTier(tiermem.Glacier)))
	must(t, m.Store("h", []byte("in hot"), tiermem.InTier(tiermem.Hot)))
	bucket.down.Store(true)
	if err := m.Close(); !errors.Is(err, tiermem.ErrUnavailable) || !strings.Contains(err.Error(), "glacier store answers again") {
		t.Fatalf("Close while glacier is down: %v, want ErrUnavailable advising to wait for the store", err)
	}
	for _, key := range []string{"g", "h"} {
		if _, err := m.Retrieve(key); err != nil {
			t.Fatalf("%s after a failed Close: %v", key, err)
		}
	}
	if tierOf(t, m, "h") != tiermem.Hot {
		t.Fatal("a failed Close moved h")
	}
	bucket.down.Store(false)
	must(t, m.Close())
	m, err = tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	for key, want := range map[string]string{"g": "in glacier", "h": "in hot"} {
		if got, err := m.Retrieve(key); err != nil || string(got) != want {
			t.Fatalf("%s after reopen: %q, %v", key, got, err)
		}
	}
}

// keyState is what one key must read: one of the values (nil: absent).
type keyState struct{ want [][]byte }

func (s *keyState) set(v []byte)   { s.want = [][]byte{v} }
func (s *keyState) maybe(v []byte) { s.want = append(s.want, v) }
func (s *keyState) ok(v []byte, found bool) bool {
	for _, w := range s.want {
		if (w == nil && !found) || (w != nil && found && bytes.Equal(w, v)) {
			return true
		}
	}
	return false
}

// churnGlacier runs owners of disjoint keys doing Stores (in every tier),
// Moves, Copies, Deletes and Retrieves while passes demote cold to
// glacier in batches, Closes the Manager under that load, reopens it and
// checks every key reads the value of its last acknowledged Store (or is
// absent after a Delete): never an older value, never none.
func churnGlacier(t *testing.T, d tiermem.Durability) {
	dir := t.TempDir()
	o := glacierOptions(256 << 10)
	o.Durability = d
	o.MigrateInterval = 3 * time.Millisecond
	m, err := tiermem.Open(dir, o)
	must(t, err)
	// With a durable log, Moves go to cold and glacier only, and Copies
	// to cold: up from glacier they hit
	// TestGlacierMoveFromGlacierToHotKeepsColdLog, and a Copy of a warm
	// key to glacier during a batch TestHostileCopyUpDuringBatchDemotionDropsColdLog.
	// Stores go to hot, warm and cold: a Store into glacier hits
	// TestHostileStoreIntoGlacierRacesWarmDemotion.
	to := func(n int) tiermem.Tier { return tiermem.Tier(n % 4) }
	copyTo, storeTo := to, to
	if d != tiermem.None {
		to = func(n int) tiermem.Tier { return tiermem.Tier(2 + n%2) }
		copyTo = func(int) tiermem.Tier { return tiermem.Cold }
		storeTo = func(n int) tiermem.Tier { return tiermem.Tier(n % 3) }
	}
	const owners, perOwner = 4, 30
	states := make([][]keyState, owners)
	var wg sync.WaitGroup
	for w := range owners {
		states[w] = make([]keyState, perOwner)
		for i := range states[w] {
			states[w][i].set(nil)
		}
		wg.Go(func() {
			for n := 0; ; n++ {
				i := (n*7 + w) % perOwner
				key := fmt.Sprintf("o%d-%d", w, i)
				st := &states[w][i]
				var err error
				switch op := (n*13 + n/30) % 10; {
				case op < 4:
					v := valueFor(fmt.Sprint(key, "#", n))
					var opts []tiermem.StoreOption
					if op < 3 {
						opts = append(opts, tiermem.InTier(storeTo(n)))
					}
					if err = m.Store(key, v, opts...); err == nil {
						st.set(v)
					} else {
						st.maybe(v)
					}
				case op < 6:
					err = m.Move(key, to(n))
				case op < 7:
					err = m.Copy(key, copyTo(n))
				case op < 8:
					if err = m.Delete(key); err == nil {
						st.set(nil)
					} else if !errors.Is(err, tiermem.ErrNotFound) {
						st.maybe(nil)
					}
				default:
					got, rerr := m.Retrieve(key)
					if errors.Is(rerr, tiermem.ErrClosed) {
						return
					}
					if rerr != nil && !errors.Is(rerr, tiermem.ErrNotFound) {
						t.Errorf("Retrieve %s: %v", key, rerr)
						return
					}
					if !st.ok(got, rerr == nil) {
						t.Errorf("Retrieve %s: %d bytes, %v: not its last acknowledged value", key, len(got), rerr)
						return
					}
				}
				switch {
				case errors.Is(err, tiermem.ErrClosed):
					return
				case err != nil && !errors.Is(err, tiermem.ErrNotFound):
					t.Errorf("op on %s: %v", key, err)
					return
				}
			}
		})
	}
	time.Sleep(1200 * time.Millisecond)
	st := m.Stats()
	t.Logf("before Close: usage %+v, cold stats %+v, passes %d failed %d (%s)", m.Usage(), st.Tiers[tiermem.Cold], st.Passes, st.FailedPasses, st.LastPassError)
	must(t, m.Close())
	wg.Wait()
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	for w := range owners {
		for i := range perOwner {
			key := fmt.Sprintf("o%d-%d", w, i)
			got, err := m.Retrieve(key)
			if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
				t.Errorf("after reopen %s: %v", key, err)
			} else if !states[w][i].ok(got, err == nil) {
				t.Errorf("after reopen %s: %d bytes, %v: not its last acknowledged value", key, len(got), err)
			}
		}
	}
	if s := m.Usage(); s[tiermem.Glacier].Items == 0 {
		t.Log("nothing in glacier after reopen")
	}
}

// TestGlacierChurnNone: churnGlacier with Durability None. (With a
// durable log the same churn, even with the restrictions below, fails on
// the bugs of the TestHostile tests in this file.)
func TestGlacierChurnNone(t *testing.T) { churnGlacier(t, tiermem.None) }

// TestHostileCopyUpDuringBatchDemotionDropsColdLog: with a durable log,
// a batch demotion stages k into glacier and waits for the upload; a Copy
// of k to warm meanwhile gives warm a copy backed by the cold log. The
// batch then deletes k from cold all the same (finishDemotion does not
// look again for a copy above, as stage did), so warm holds a value the
// cold log lacks, and the warm tier's next demotion of it fails: Stores
// that need room in warm fail ("in the warm tier but not in the cold
// log").
func TestHostileCopyUpDuringBatchDemotionDropsColdLog(t *testing.T) {
	bucket := newHoldBucket(object.NewMem())
	clock := tiermem.NewFakeClock()
	o := hostileOptions(hostileStore(t, bucket), tiermem.Always)
	o.Cold.DemoteAfter = time.Hour
	tiermem.SetClock(o, clock)
	m := open(t, o)
	must(t, m.Store("k", []byte("demoted in a batch"), tiermem.InTier(tiermem.Cold)))
	pass, ok := heldPass(m, clock, bucket)
	if !ok {
		t.Fatal("the batch upload never started")
	}
	must(t, m.Copy("k", tiermem.Warm))
	bucket.hold.Store(false)
	close(bucket.release)
	must(t, <-pass)
	if u := m.Usage(); u[tiermem.Cold].Items != 1 {
		t.Errorf("k is in warm, but the cold log holds %d keys, not k's copy", u[tiermem.Cold].Items)
	}
	for i := range 40 {
		key := fmt.Sprint("fill", i)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatalf("Store %s, which needs k demoted from warm: %v", key, err)
		}
	}
}

// TestHostileStoreIntoGlacierRacesWarmDemotion: with a durable log, Stores
// that move keys between warm and glacier race the warm tier's demotions:
// a victim chosen in warm that a Store into glacier removes (from warm and
// from the cold log) before dropCopy takes its lock makes dropCopy fail
// ("in the warm tier but not in the cold log") instead of finding it gone,
// and the Store that needed the room fails with it.
func TestHostileStoreIntoGlacierRacesWarmDemotion(t *testing.T) {
	o := hostileOptions(hostileStore(t, object.NewMem()), tiermem.EverySecond)
	o.Cold.Size = 8 << 20
	m := open(t, o)
	var wg sync.WaitGroup
	var failed atomic.Bool
	deadline := time.Now().Add(1500 * time.Millisecond)
	for w := range 3 {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline) && !failed.Load(); n++ {
				key := fmt.Sprintf("w%d-%d", w, n%12)
				tr := tiermem.Warm
				if n/12%2 == 1 {
					tr = tiermem.Glacier
				}
				if err := m.Store(key, valueFor(key), tiermem.InTier(tr)); err != nil {
					failed.Store(true)
					t.Errorf("Store %s InTier(%v): %v", key, tr, err)
				}
			}
		})
	}
	wg.Wait()
}

// TestHostileStaleGlacierCopyAfterCrashWinsMove: with Durability Always
// and no pass since, a Store of k into cold over a glacier copy leaves
// that copy's removal in glacier's open pack; after a crash the reopened
// Manager has k in cold (the acknowledged value, which reads) and the
// stale older value in glacier. Move(k, Glacier) then finds glacier
// "holding" k (keepOnly looks only at whether the key is there) and
// deletes the cold copy: k reads the older value, and the acknowledged
// one is gone. (Copy(k, Glacier) likewise does nothing.)
func TestHostileStaleGlacierCopyAfterCrashWinsMove(t *testing.T) {
	dir := crashScenario(t, "stale-glacier-copy")
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always})
	must(t, err)
	defer m.Close()
	if got, err := m.Retrieve("k"); err != nil || string(got) != "version one, acknowledged" {
		t.Fatalf("after the crash k reads %q, %v", got, err)
	}
	must(t, m.Move("k", tiermem.Glacier))
	if got, err := m.Retrieve("k"); err != nil || string(got) != "version one, acknowledged" {
		t.Fatalf("after Move(k, Glacier) k reads %q, %v: the older glacier copy replaced the acknowledged value", got, err)
	}
}

// putDown is a bucket whose Puts fail while down, and whose reads work: a
// bucket that refuses writes (a quota, a permission, throttling).
type putDown struct {
	object.Bucket
	down atomic.Bool
}

func (p *putDown) Put(ctx context.Context, name string, data []byte) error {
	if p.down.Load() {
		return errDown
	}
	return p.Bucket.Put(ctx, name, data)
}

// TestHostileFailedStoreIntoGlacierKeepsNewValue: with a durable log, a
// Store into glacier whose upload fails undoes itself by putting the old
// value back — with a Put that fails too (the store refuses Puts while a
// failed pack waits), and whose error is ignored: the Store returns "the
// key keeps the value it had", yet k reads the new value, which the next
// successful sync makes durable.
func TestHostileFailedStoreIntoGlacierKeepsNewValue(t *testing.T) {
	bucket := &putDown{Bucket: object.NewMem()}
	m := open(t, hostileOptions(hostileStore(t, bucket), tiermem.Always))
	t.Cleanup(func() { bucket.down.Store(false) })
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Glacier)))
	bucket.down.Store(true)
	serr := m.Store("k", []byte("new"), tiermem.InTier(tiermem.Glacier))
	if !errors.Is(serr, tiermem.ErrUnavailable) {
		t.Fatalf("Store into glacier refusing writes: %v, want ErrUnavailable", serr)
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "old" {
		t.Fatalf("after the failed Store (%v) k reads %q, %v; want the old value", serr, got, err)
	}
	bucket.down.Store(false)
	must(t, m.Migrate())
	if got, err := m.Retrieve("k"); err != nil || string(got) != "old" {
		t.Fatalf("glacier writable again, a pass later: k reads %q, %v; the failed Store's value became durable", got, err)
	}
}

// countObjects returns the number of objects in b.
func countObjects(t *testing.T, b object.Bucket) int {
	t.Helper()
	n := 0
	must(t, b.List(context.Background(), "", func(string, int64) error { n++; return nil }))
	return n
}

// TestGlacierConcurrentDurableStoresShareUploads: with a durable log a
// Store into glacier uploads before it returns (it drops the key's older
// copies, which must not go before the new one is safe), so one writer
// storing values one by one makes a pack each; concurrent writers share
// uploads (group commit): 8 writers × 25 Stores make far fewer than 200
// packs. (The review first found 100 sequential Stores making 200 objects
// under EverySecond; that cost stays, documented on GlacierOptions.)
func TestGlacierConcurrentDurableStoresShareUploads(t *testing.T) {
	mem := object.NewMem()
	m := open(t, hostileOptions(hostileStore(t, &slowPuts{Bucket: mem}), tiermem.EverySecond))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := m.Store(fmt.Sprint("small", w, "-", i), []byte("a small archived value"), tiermem.InTier(tiermem.Glacier)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := countObjects(t, mem)
	t.Logf("200 Stores from 8 writers: %d objects", n)
	if n > 200 {
		t.Fatalf("200 concurrent Stores into glacier made %d objects: few uploads shared", n)
	}
}

// slowPuts is a bucket whose uploads take 5 ms, as a remote store's do.
type slowPuts struct{ object.Bucket }

func (s *slowPuts) Put(ctx context.Context, name string, data []byte) error {
	time.Sleep(5 * time.Millisecond)
	return s.Bucket.Put(ctx, name, data)
}

// TestHostileClearMakesOneObjectPerGlacierKey: with a durable log, Clear
// deletes key by key, and each Delete of a glacier key waits for its own
// upload: clearing 200 glacier values (one pack) writes 400 objects of
// tombstones, where one pack would do.
func TestHostileClearMakesOneObjectPerGlacierKey(t *testing.T) {
	mem := object.NewMem()
	o := hostileOptions(hostileStore(t, mem), tiermem.Always)
	o.Cold.DemoteAfter = time.Hour
	clock := tiermem.NewFakeClock()
	tiermem.SetClock(o, clock)
	m := open(t, o)
	for i := range 200 {
		must(t, m.Store(fmt.Sprint("c", i), []byte("archived"), tiermem.InTier(tiermem.Cold)))
	}
	idlePasses(t, m, clock) // one batch: all 200 to glacier
	before := countObjects(t, mem)
	if u := m.Usage(); u[tiermem.Glacier].Items != 200 {
		t.Fatalf("after the pass: %+v", u)
	}
	must(t, m.Clear())
	if n := countObjects(t, mem) - before; n > 20 {
		t.Fatalf("Clear of 200 glacier keys wrote %d objects (%d before)", n, before)
	}
}

// TestGlacierCompactionUnderChurn: owners replace and delete their glacier
// keys while readers check every read against the last acknowledged value
// and passes and CompactGlacier rewrite the sparse packs; at the end, and
// after a reopen, every key reads its last value, VerifyGlacier passes and
// the packs left are few. (The reads promote some keys to cold meanwhile.)
func TestGlacierCompactionUnderChurn(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(1 << 20)
	o.Glacier.Object.PackSize = 16 << 10
	o.Glacier.Object.MinLiveShare = 0.6
	m, err := tiermem.Open(dir, o)
	must(t, err)
	const owners, perOwner = 3, 20
	last := make([][]keyState, owners)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range owners {
		last[w] = make([]keyState, perOwner)
		for i := range last[w] {
			last[w][i].set(nil)
		}
		wg.Go(func() {
			for n := 0; n < 400; n++ {
				i := n % perOwner
				key := fmt.Sprintf("c%d-%d", w, i)
				st := &last[w][i]
				if n%9 == 8 {
					if err := m.Delete(key); err == nil {
						st.set(nil)
					} else if !errors.Is(err, tiermem.ErrNotFound) {
						t.Errorf("Delete %s: %v", key, err)
						return
					}
				} else {
					v := []byte(fmt.Sprintf("%s version %d %s", key, n, bytes.Repeat([]byte{byte(n)}, 300+n%700)))
					if err := m.Store(key, v, tiermem.InTier(tiermem.Glacier)); err != nil {
						t.Errorf("Store %s: %v", key, err)
						return
					}
					st.set(v)
				}
				got, err := m.Retrieve(key)
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) || !st.ok(got, err == nil) {
					t.Errorf("Retrieve %s right after its write: %q, %v", key, got, err)
					return
				}
			}
		})
	}
	compactor := make(chan struct{})
	go func() {
		defer close(compactor)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := m.CompactGlacier(); err != nil {
				t.Errorf("CompactGlacier: %v", err)
				return
			}
			if err := m.Migrate(); err != nil {
				t.Errorf("Migrate: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-compactor
	check := func(when string) {
		for w := range owners {
			for i := range perOwner {
				key := fmt.Sprintf("c%d-%d", w, i)
				got, err := m.Retrieve(key)
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) || !last[w][i].ok(got, err == nil) {
					t.Errorf("%s: %s reads %q, %v", when, key, got, err)
				}
			}
		}
	}
	check("after the churn")
	must(t, m.CompactGlacier())
	must(t, m.VerifyGlacier())
	packs, err := m.GlacierPacks()
	must(t, err)
	u := m.Usage()[tiermem.Glacier]
	t.Logf("%d packs left, usage %+v", len(packs), u)
	if len(packs) > 10 {
		t.Errorf("%d packs for %+v", len(packs), u)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	check("after reopen")
	must(t, m.VerifyGlacier())
}

// TestHostilePromotionFromGlacierLosesValueInCrash: with Durability None,
// a pass promotes a glacier value read often to cold: the cold copy waits
// in the cold log's write buffer (in process memory, up to 100 ms), but
// the same pass at once uploads glacier's record of its removal. A crash
// right after the pass loses a value stored (and made durable in
// glacier) long before: no Store of it was in its last 100 ms. (The
// child's disk is slow, 3 s a write, so that the window is wide enough
// under -race; without -race it loses k on a fast disk too.)
func TestHostilePromotionFromGlacierLosesValueInCrash(t *testing.T) {
	dir := crashScenario(t, "promote-from-glacier")
	checkKAfterCrash(t, dir, "a pass promoted k from glacier to cold, Durability None")
}

// TestHostileStoreOverCorruptGlacierValueIsCorrupt: with a durable log, a
// Store into glacier first reads the value glacier holds (to put it back
// if the upload fails); when that old value is damaged, the Store fails
// with ErrCorrupt: a damaged glacier value can never be replaced in
// glacier, although a Store replaces it in every other tier.
func TestHostileStoreOverCorruptGlacierValueIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(8 << 20)
	o.Durability = tiermem.Always
	o.Glacier.Object.Compression = object.NoCompression
	m, err := tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	value := bytes.Repeat([]byte("damaged glacier bytes "), 100)
	must(t, m.Store("k", value, tiermem.InTier(tiermem.Glacier)))
	packs, _ := filepath.Glob(filepath.Join(dir, "glacier", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	b, err := os.ReadFile(packs[0])
	must(t, err)
	b[bytes.Index(b, value)+500] ^= 0x20
	must(t, os.WriteFile(packs[0], b, 0o644))
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("the damaged value: %v", err)
	}
	if err := m.Store("k", []byte("a fresh value"), tiermem.InTier(tiermem.Glacier)); err != nil {
		t.Fatalf("Store into glacier over a damaged value: %v", err)
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "a fresh value" {
		t.Fatalf("after the Store: %q, %v", got, err)
	}
}

// TestHostileMoveToColdLeaksColdBudget: with a durable log, Move of a hot
// key to cold keeps the log's copy as the key's only one but never makes
// it one of cold's victims (a Store through the log does not, and only a
// demotion by dropCopy does later): cold fills with values it can never
// demote to glacier, and a Store into cold fails with ErrNoSpace ("every
// entry in it is pinned", though none is) while glacier has no budget.
func TestHostileMoveToColdLeaksColdBudget(t *testing.T) {
	o := hostileOptions(hostileStore(t, object.NewMem()), tiermem.Always)
	o.Cold.Size = 256 << 10
	m := open(t, o)
	for i := range 30 { // about 300 KB in all, each moved to cold at once
		key := fmt.Sprint("moved", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Hot)))
		must(t, m.Move(key, tiermem.Cold))
	}
	for i := range 20 {
		key := fmt.Sprint("cold", i)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatalf("Store %s into cold (usage %+v): %v", key, m.Usage(), err)
		}
	}
}

// TestHostileCorruptColdValueBlocksDemotion: one damaged value in cold
// (a flipped byte) becomes a victim when cold needs room; its copy to
// glacier fails with ErrCorrupt, which the batch returns, and the Store
// that needed the room fails with ErrCorrupt for a value it never read.
// The damaged key should be skipped (left where it is, ErrCorrupt for its
// own reads), and the Stores should go on.
func TestHostileCorruptColdValueBlocksDemotion(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(256 << 10)
	m, err := tiermem.Open(dir, o)
	must(t, err)
	for i := range 15 {
		key := fmt.Sprint("key", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Close())
	seg := segments(t, dir)[0]
	data, err := os.ReadFile(seg)
	must(t, err)
	victim := valueFor("key3")
	at := bytes.Index(data, victim[40:80])
	if at < 0 {
		t.Fatal("the value of key3 is not in the segment")
	}
	data[at+10] ^= 0x40
	must(t, os.WriteFile(seg, data, 0o644))

	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	if _, err := m.Retrieve("key3"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("key3: %v", err)
	}
	for i := range 60 {
		key := fmt.Sprint("new", i)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatalf("Store %s, which needs room in cold: %v", key, err)
		}
	}
}

// TestGlacierEveryReadSaysUnavailable: while glacier is unreachable, every
// way of reading a glacier value (Retrieve, RetrieveAppend, View,
// RetrieveArray, ViewArray, SaveTo) returns ErrUnavailable, Tier still
// answers from memory, and a pass fails cleanly; once the store is back,
// they all read the value.
func TestGlacierEveryReadSaysUnavailable(t *testing.T) {
	bucket := newHoldBucket(object.NewMem())
	m := open(t, hostileOptions(hostileStore(t, bucket), tiermem.None))
	t.Cleanup(func() { bucket.down.Store(false) })
	arr := tiermem.Float64Array([]float64{1, 2, 3, 4}, 2, 2)
	must(t, m.StoreArray("a", arr, tiermem.InTier(tiermem.Glacier)))
	must(t, m.Migrate())
	bucket.down.Store(true)
	out := filepath.Join(t.TempDir(), "a.npy")
	reads := map[string]func() error{
		"Retrieve":       func() error { _, err := m.Retrieve("a"); return err },
		"RetrieveAppend": func() error { _, err := m.RetrieveAppend(nil, "a"); return err },
		"View":           func() error { return m.View("a", func([]byte) error { return nil }) },
		"RetrieveArray":  func() error { _, err := m.RetrieveArray("a"); return err },
		"ViewArray":      func() error { return m.ViewArray("a", func(tiermem.Array) error { return nil }) },
		"SaveTo":         func() error { return m.SaveTo("a", out) },
	}
	for name, read := range reads {
		if err := read(); !errors.Is(err, tiermem.ErrUnavailable) {
			t.Errorf("%s while glacier is down: %v, want ErrUnavailable", name, err)
		}
	}
	if tr := tierOf(t, m, "a"); tr != tiermem.Glacier {
		t.Errorf("Tier while glacier is down: %v", tr)
	}
	bucket.down.Store(false)
	for name, read := range reads {
		if err := read(); err != nil {
			t.Errorf("%s once glacier is back: %v", name, err)
		}
	}
}

// TestGlacierBucketRemovedMidway: the glacier directory removed while the
// Manager runs: Stores that need glacier fail with ErrUnavailable, every
// value still in cold reads back, glacier values say ErrUnavailable, and
// nothing panics.
func TestGlacierBucketRemovedMidway(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(512 << 10)
	o.Glacier.Object.Retries = -1
	m, err := tiermem.Open(dir, o)
	must(t, err)
	defer func() {
		must(t, os.MkdirAll(filepath.Join(dir, "glacier"), 0o755))
		m.Close()
	}()
	deep := storeMany(t, m, "deep", 80) // some reach glacier
	must(t, m.Migrate())
	must(t, os.RemoveAll(filepath.Join(dir, "glacier")))
	var acked []string
	var refused error
	for i := 0; i < 200 && refused == nil; i++ {
		key := fmt.Sprint("k", i)
		if refused = m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)); refused == nil {
			acked = append(acked, key)
		}
	}
	if !errors.Is(refused, tiermem.ErrUnavailable) {
		t.Fatalf("a Store needing glacier with its directory gone: %v", refused)
	}
	checkAll(t, m, acked)
	for _, key := range deep {
		got, err := m.Retrieve(key)
		if err != nil && !errors.Is(err, tiermem.ErrUnavailable) || err == nil && !bytes.Equal(got, valueFor(key)) {
			t.Fatalf("%s: %d bytes, %v", key, len(got), err)
		}
	}
}

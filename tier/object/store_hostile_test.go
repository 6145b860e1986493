package object_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// hostileOpts: default-sized packs (nothing seals by itself), no
// compression, quick retries.
func hostileOpts() *object.Options {
	return &object.Options{Compression: object.NoCompression, Retries: 2,
		Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}
}

// hostilePackPath returns the path of pack seq in dir.
func hostilePackPath(dir string, seq int, suffix string) string {
	return filepath.Join(dir, "pack", fmt.Sprintf("%016x%s", seq, suffix))
}

// hostileTwoVersions writes k=old in pack 1, then "a"=x and k=new in pack
// 2, both Synced (acknowledged), closes the store and returns the offset
// in pack 2 where k's newer frame begins (a frame boundary).
func hostileTwoVersions(t *testing.T, dir string) int64 {
	t.Helper()
	s := mustOpen(t, mustDir(t, dir), hostileOpts())
	if _, err := s.Put("k", []byte("old"), nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	if _, err := s.Put("a", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("k", []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	mustClose(t, s)
	// pack header 16, then the frame of "a": 28 fixed + key 1 + value 1.
	return 16 + 28 + 1 + 1
}

// TestHostileTruncatedPackAtFrameBoundaryIsCorrupt: a pack cut at a frame
// boundary (a torn copy, a restore from a partial backup), with or without
// the index that knew its length, is ErrCorrupt at Open or at the read:
// never the OLDER value of a key whose newer one was in the lost tail.
func TestHostileTruncatedPackAtFrameBoundaryIsCorrupt(t *testing.T) {
	for _, withIndex := range []bool{true, false} {
		name := "index-deleted"
		if withIndex {
			name = "index-present"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cut := hostileTwoVersions(t, dir)
			must(t, os.Truncate(hostilePackPath(dir, 2, ".pack"), cut))
			if !withIndex {
				must(t, os.Remove(hostilePackPath(dir, 2, ".idx")))
			}
			s, err := object.Open(mustDir(t, dir), hostileOpts())
			if err != nil {
				if !errors.Is(err, tier.ErrCorrupt) {
					t.Fatalf("Open of a truncated pack = %v, want ErrCorrupt", err)
				}
				return // failing closed is right
			}
			defer s.Close()
			v, err := get(s, "k")
			if err == nil {
				t.Fatalf("k reads %q after its pack lost the newer frame; want ErrCorrupt (Open or the read), never the older value", v)
			}
			if !errors.Is(err, tier.ErrCorrupt) {
				t.Fatalf("k reads error %v; want ErrCorrupt", err)
			}
		})
	}
}

// TestHostileDirTruncatedPackReadIsCorrupt: a durable pack cut on disk
// while the store is open: a read of a frame past the new end is damage
// (ErrShortObject, i.e. a *CorruptError), not a transient failure retried
// and reported as ErrUnavailable ("nothing is lost"); Verify, which
// exists to find damage, reports it too.
func TestHostileDirTruncatedPackReadIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, mustDir(t, dir), hostileOpts())
	defer s.Close()
	if _, err := s.Put("a", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("k", bytes.Repeat([]byte("v"), 100), nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	must(t, os.Truncate(hostilePackPath(dir, 1, ".pack"), 16+30+10))
	_, err := get(s, "k")
	if errors.Is(err, object.ErrUnavailable) || !errors.Is(err, tier.ErrCorrupt) {
		t.Errorf("reading a frame past a truncated pack's end = %v; want a *CorruptError, not ErrUnavailable", err)
	}
	if err := s.Verify(); errors.Is(err, object.ErrUnavailable) || !errors.Is(err, tier.ErrCorrupt) {
		t.Errorf("Verify of a truncated pack = %v; want a *CorruptError reporting the damage, not ErrUnavailable", err)
	}
}

// TestHostileValueOverAFrameIsRefused: Put refuses (ErrTooLarge) a value
// whose frame, key and meta included, would pass the limit the reader
// checks frames against, rather than acknowledge a value that reads back
// as ErrCorrupt for ever.
func TestHostileValueOverAFrameIsRefused(t *testing.T) {
	if testing.Short() || hostileRace() {
		t.Skip("allocates 2 GiB, hashed: over a minute and 12 GiB under -race")
	}
	o := hostileOpts()
	o.PackSize = math.MaxInt32 - 28 // the largest allowed: the value stays in the open pack, in memory
	s := mustOpen(t, object.NewMem(), o)
	v := make([]byte, math.MaxInt32-28) // with its 1-byte key, a frame of MaxInt32+1 bytes
	v[len(v)-1] = 7
	if _, err := s.Put("h", v, nil); err != nil {
		if errors.Is(err, tier.ErrTooLarge) {
			return // refusing it is right
		}
		t.Fatalf("Put of %d bytes = %v", len(v), err)
	}
	err := s.ViewMeta("h", func(got, _ []byte) error {
		if len(got) != len(v) || got[len(got)-1] != 7 {
			return fmt.Errorf("read back %d bytes", len(got))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Put of a %d-byte value returned nil, yet reading it = %v", len(v), err)
	}
}

// hostileTmpfs mounts a tmpfs of size bytes at a new directory and returns
// it; the mount is removed at cleanup.
func hostileTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func hostileRemount(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
}

// TestHostileFullDiskKeepsEveryPut: the bucket's disk fills while values
// are put and compacted: Puts that returned nil stay in memory, Sync and
// Close fail without dropping them, and once space is back a Close
// makes every one of them durable.
func TestHostileFullDiskKeepsEveryPut(t *testing.T) {
	dir := hostileTmpfs(t, "256k")
	o := quick()
	o.Compression = object.NoCompression
	s := mustOpen(t, mustDir(t, dir), o)
	want := map[string][]byte{}
	full := false
	for i := 0; i < 200 && !full; i++ {
		if _, err := s.Put(key(i), value(i), []byte(key(i))); err != nil {
			full = true
			continue
		}
		want[key(i)] = value(i)
		if i%20 == 19 {
			for j := i - 19; j < i-10; j++ {
				if _, err := s.Delete(key(j)); err == nil {
					delete(want, key(j))
				}
			}
			_ = s.Compact()
		}
	}
	t.Logf("full=%v puts=%d", full, len(want))
	if err := s.Sync(); err == nil && !full {
		t.Fatal("the disk never filled")
	}
	if err := s.Close(); err == nil {
		t.Fatal("Close on a full disk returned nil")
	}
	checkValues(t, s, want)
	hostileRemount(t, dir, "64m")
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), o)
	defer s.Close()
	check(t, s, want)
	tmps, _ := filepath.Glob(filepath.Join(dir, "pack", ".tmp-*"))
	if len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// TestHostileEverythingAtOnceThenClose: writers Put, Get and Delete their
// own keys while two goroutines Compact and Sync over and over, with
// small packs; Close lands in the middle. Every call returns its result
// or ErrClosed, each writer reads its own last write, and after
// reopening every key holds its last acknowledged state.
func TestHostileEverythingAtOnceThenClose(t *testing.T) {
	dir := t.TempDir()
	o := quick()
	o.PackSize = 4 << 10
	o.MinLiveShare = 0.9
	s := mustOpen(t, mustDir(t, dir), o)
	const writers = 4
	final := make([]map[string][]byte, writers) // nil value: deleted
	var wg sync.WaitGroup
	stop := make(chan struct{})
	closed := func(err error) bool { return errors.Is(err, tier.ErrClosed) }
	for g := range writers {
		final[g] = map[string][]byte{}
		wg.Go(func() {
			for i := 0; ; i++ {
				k := fmt.Sprintf("w%d-%d", g, i%20)
				if i%3 == 2 {
					_, err := s.Delete(k)
					if closed(err) {
						return
					}
					if err != nil && !errors.Is(err, tier.ErrNotFound) {
						t.Errorf("Delete(%s): %v", k, err)
						return
					}
					final[g][k] = nil
					continue
				}
				v := value(g*100000 + i)
				if _, err := s.Put(k, v, []byte(k)); closed(err) {
					return
				} else if err != nil {
					t.Errorf("Put(%s): %v", k, err)
					return
				}
				final[g][k] = v
				got, err := get(s, k)
				if closed(err) {
					return
				}
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get(%s) right after Put: %d bytes, %v; want %d bytes", k, len(got), err, len(v))
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.Compact(); err != nil && !closed(err) {
					t.Errorf("Compact: %v", err)
					return
				}
				if err := s.Sync(); err != nil && !closed(err) {
					t.Errorf("Sync: %v", err)
					return
				}
			}
		})
	}
	for s.Len() < 40 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close in the middle: %v", err)
	}
	close(stop)
	wg.Wait()
	s = mustOpen(t, mustDir(t, dir), o)
	defer s.Close()
	for g := range writers {
		for k, v := range final[g] {
			got, err := get(s, k)
			switch {
			case v == nil && !errors.Is(err, tier.ErrNotFound):
				t.Errorf("%s was deleted last, reads %d bytes, %v", k, len(got), err)
			case v != nil && (err != nil || !bytes.Equal(got, v)):
				t.Errorf("%s: %d bytes, %v; want its last %d bytes", k, len(got), err, len(v))
			}
		}
	}
}

const hostileKillDirEnv = "TIERMEM_HOSTILE_OBJECT_KILL_DIR"

// hostileKillOptions: tiny packs and a high live share, so that nearly
// every Compact rewrites packs and drops or moves tombstones.
var hostileKillOptions = &object.Options{PackSize: 4 << 10, Compression: object.ZstdFastest, MinLiveShare: 0.95}

// hostileKillValue is version ver of key k.
func hostileKillValue(k string, ver int) []byte {
	n := 100 + (ver*37+len(k))%2500
	return bytes.Repeat(fmt.Appendf(nil, "%s|%d|", k, ver), n/8+1)[:n]
}

// TestHostileKillChild is the child of TestHostileKillDuringCompaction: it
// overwrites and deletes a few keys over and over, announcing each op
// ("try") before it and every op since the last acknowledgement ("ack")
// after each Sync or Compact returned nil.
func TestHostileKillChild(t *testing.T) {
	dir := os.Getenv(hostileKillDirEnv)
	if dir == "" {
		t.Skip("the child of TestHostileKillDuringCompaction")
	}
	b, err := object.OpenDir(dir)
	var s *object.Store
	if err == nil {
		s, err = object.Open(b, hostileKillOptions)
	}
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...); w.Flush() }
	say("ready")
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for op := 0; ; op++ {
		k := fmt.Sprintf("k%02d", rng.IntN(40))
		ver := int(rng.Uint32() >> 1)
		if rng.IntN(3) == 0 {
			say("try del %s", k)
			if _, err := s.Delete(k); err != nil && !errors.Is(err, tier.ErrNotFound) {
				say("delete: %v", err)
				os.Exit(3)
			}
		} else {
			say("try put %s %d", k, ver)
			if _, err := s.Put(k, hostileKillValue(k, ver), []byte(strconv.Itoa(ver))); err != nil {
				say("put: %v", err)
				os.Exit(3)
			}
		}
		if op%10 == 9 {
			sync := s.Sync
			if op%20 == 19 {
				sync = s.Compact
			}
			if err := sync(); err != nil {
				say("sync: %v", err)
				os.Exit(3)
			}
			say("ack")
		}
	}
}

// TestHostileKillDuringCompaction SIGKILLs a child that overwrites,
// deletes and compacts, at random moments, and checks after each kill
// that every key reads its last acknowledged state or a later one it was
// given, never an older version, and a deleted key stays deleted.
func TestHostileKillDuringCompaction(t *testing.T) {
	if os.Getenv(hostileKillDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	acked := map[string]int{} // key → version; -1 deleted
	acks := 0
	defer func() { t.Logf("%d acknowledged batches", acks) }()
	for round := range 12 {
		pending := map[string][]int{}
		cmd := childtest.Command("TestHostileKillChild", hostileKillDirEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "ready" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("round %d: child: %q", round, lines.Text())
		}
		timer := time.AfterFunc(time.Duration(30+rand.IntN(300))*time.Millisecond, func() { _ = cmd.Process.Kill() })
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			switch {
			case len(f) == 1 && f[0] == "ack":
				acks++
				for k, vs := range pending {
					acked[k] = vs[len(vs)-1]
				}
				pending = map[string][]int{}
			case len(f) == 3 && f[1] == "del":
				pending[f[2]] = append(pending[f[2]], -1)
			case len(f) == 4 && f[1] == "put":
				ver, _ := strconv.Atoi(f[3])
				pending[f[2]] = append(pending[f[2]], ver)
			default:
				timer.Stop()
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: child says %q", round, lines.Text())
			}
		}
		timer.Stop()
		_ = cmd.Wait()
		s, err := object.Open(mustDir(t, dir), hostileKillOptions)
		if err != nil {
			t.Fatalf("round %d: Open after the kill: %v", round, err)
		}
		for i := range 40 {
			k := fmt.Sprintf("k%02d", i)
			got, meta, err := s.GetMeta(k, nil)
			have := -1
			switch {
			case errors.Is(err, tier.ErrNotFound):
			case err != nil:
				t.Fatalf("round %d: %s: %v", round, k, err)
			default:
				have, _ = strconv.Atoi(string(meta))
				if !bytes.Equal(got, hostileKillValue(k, have)) {
					t.Fatalf("round %d: %s: value is not version %d's", round, k, have)
				}
			}
			want, ok := acked[k]
			if !ok {
				want = -1
			}
			allowed := append([]int{want}, pending[k]...)
			if !slices.Contains(allowed, have) {
				t.Fatalf("round %d: %s reads version %d; acknowledged %d, later tries %v", round, k, have, want, pending[k])
			}
			acked[k] = have
		}
		mustClose(t, s)
	}
}

// hostileHookBucket calls before ahead of every ranged Get of a frame (a
// Get of a pack from an offset past its header), and beforeWhole ahead
// of every Get of a whole pack, while they are set.
type hostileHookBucket struct {
	*object.Dir
	before, beforeWhole func()
}

func (b *hostileHookBucket) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	switch {
	case !strings.HasSuffix(name, ".pack"):
	case off > 0 && b.before != nil:
		b.before()
	case off == 0 && b.beforeWhole != nil:
		b.beforeWhole()
	}
	return b.Dir.Get(ctx, name, off, n)
}

// TestHostileReadWhileCompactedTwice: a read whose frame compaction moves
// twice while its GETs are in flight (a slow store, a Manager compacting
// in its loop) looks it up again each time and reads the value, never "no
// such object" for a key the store holds.
func TestHostileReadWhileCompactedTwice(t *testing.T) {
	b := &hostileHookBucket{Dir: mustDir(t, t.TempDir())}
	o := hostileOpts()
	o.MinLiveShare = 1 // any dead byte makes a pack sparse
	s := mustOpen(t, b, o)
	defer s.Close()
	want := []byte("the value of k")
	put := func(k string, v []byte) {
		t.Helper()
		if _, err := s.Put(k, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("k", want)
	put("d", bytes.Repeat([]byte("d"), 1000))
	mustSync(t, s)
	if _, err := s.Delete("d"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s) // pack 1 holds k and a dead frame
	moves := 0
	b.before = func() {
		if moves == 2 {
			return
		}
		moves++
		// k's pack has a dead frame: Compact copies k beside a new
		// filler, deletes k's pack, and the filler's delete leaves the
		// copy's pack sparse for the next move.
		filler := fmt.Sprintf("filler-%d", moves)
		put(filler, bytes.Repeat([]byte("f"), 1000))
		if err := s.Compact(); err != nil {
			t.Errorf("Compact: %v", err)
		}
		if _, err := s.Delete(filler); err != nil {
			t.Error(err)
		}
		mustSync(t, s)
	}
	got, err := get(s, "k")
	b.before = nil
	if moves != 2 {
		t.Fatalf("the frame moved %d times, want 2", moves)
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("reading k while compaction moved it twice: %q, %v; want %q", got, err, want)
	}
}

// hostileRace reports whether the test binary was built with -race.
func hostileRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, st := range bi.Settings {
		if st.Key == "-race" {
			return st.Value == "true"
		}
	}
	return false
}

// hostileFillDisk fills the filesystem of dir until a write fails.
func hostileFillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	must(t, err)
	defer f.Close()
	chunk := make([]byte, 4<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			return
		}
	}
}

// TestHostileCompactOnFullDiskHoldsBoundedMemory: Options.Uploads
// promises that packs not yet durable hold at most (Uploads+2) x
// PackSize of memory. Compact keeps it on a full disk (reads work, writes
// fail): it stops while uploads fail, rather than copy the live frames of
// every sparse pack into memory.
func TestHostileCompactOnFullDiskHoldsBoundedMemory(t *testing.T) {
	dir := hostileTmpfs(t, "4m")
	o := quick()
	o.Compression = object.NoCompression
	o.PackSize, o.Uploads, o.MinLiveShare = 4<<10, 1, 0.9
	s := mustOpen(t, mustDir(t, dir), o)
	defer s.Close()
	v := bytes.Repeat([]byte("v"), 1000)
	for i := range 200 { // 50 packs of 4 values, half of them deleted below
		if _, err := s.Put(key(i), v, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, s)
	for i := 0; i < 200; i += 2 {
		if _, err := s.Delete(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, s)
	hostileFillDisk(t, dir)
	if err := s.Compact(); err == nil {
		t.Fatal("Compact on a full disk returned nil")
	}
	ps, err := s.Packs()
	must(t, err)
	var held int64
	for _, p := range ps {
		if !p.Durable {
			held += p.Bytes
		}
	}
	if bound := int64(o.Uploads+2) * o.PackSize; held > bound {
		t.Fatalf("after one Compact on a full disk, %d bytes of packs wait in memory; Options.Uploads bounds them to %d", held, bound)
	}
	must(t, os.Remove(filepath.Join(dir, "filler")))
}

// TestHostileConcurrentCompacts: two Compacts at once (the Manager's loop
// and `tiermem glacier compact`): when one compacts and deletes a pack the
// other is about to read, the other skips the pack, as it does when it
// finds the pack gone from memory ("compacted meanwhile"), and both succeed.
func TestHostileConcurrentCompacts(t *testing.T) {
	b := &hostileHookBucket{Dir: mustDir(t, t.TempDir())}
	o := hostileOpts()
	o.MinLiveShare = 1
	s := mustOpen(t, b, o)
	defer s.Close()
	for _, k := range []string{"k", "d"} {
		if _, err := s.Put(k, bytes.Repeat([]byte(k), 1000), nil); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, s)
	if _, err := s.Delete("d"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s) // pack 1 is sparse
	var other error
	b.beforeWhole = func() {
		b.beforeWhole = nil
		other = s.Compact() // the other Compact, run to its end while this one is about to read the pack
	}
	err := s.Compact()
	if other != nil {
		t.Fatalf("the inner Compact: %v", other)
	}
	if err != nil {
		t.Fatalf("Compact racing another Compact = %v; want nil (the pack was compacted meanwhile)", err)
	}
	if got, err := get(s, "k"); err != nil || len(got) != 1000 {
		t.Fatalf("k after both Compacts: %d bytes, %v", len(got), err)
	}
}

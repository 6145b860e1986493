package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/memory"
)

// hostileBuild writes a bundle of recs (key, value pairs) at a new path and
// returns the path.
func hostileBuild(t *testing.T, opts *Options, kv ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hostile.bundle")
	if _, err := BuildRecords(path, func(yield func(Record, error) bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if !yield(Record{Key: []byte(kv[i]), Value: []byte(kv[i+1])}, nil) {
				return
			}
		}
	}, opts); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostileLayered opens a Layered store at path and closes it when the test
// ends.
func hostileLayered(t *testing.T, path string, opts *Options) *Layered {
	t.Helper()
	l, err := OpenLayered(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A View's reads see its pinned bundle "and the delta as it is at each
// read", across any number of Merges: what a later Merge folded in is in
// neither the View's bundle nor the live delta, and a View that missed it
// would read an older value, or a deleted key.
func TestHostileViewAfterTwoMergesReadsTheStore(t *testing.T) {
	path := hostileBuild(t, nil, "k", "v1", "gone", "still here")
	l := hostileLayered(t, path, nil)
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	l.Set([]byte("k"), []byte("v2"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	l.Set([]byte("k"), []byte("v3"))
	l.Delete([]byte("gone"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Get(nil, []byte("k")); err != nil || string(got) != "v3" {
		t.Fatalf("store Get(k) = %q, %v; want v3", got, err)
	}
	if got, err := v.Get([]byte("k")); err != nil || string(got) != "v3" {
		t.Errorf("View.Get(k) after two Merges = %q, %v; want v3 (the delta as it is at the read)", got, err)
	}
	if got, err := v.Get([]byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Errorf("View.Get(gone) after it was deleted and merged = %q, %v; want ErrNotFound", got, err)
	}
	for r, err := range v.All() {
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) == "gone" || string(r.Key) == "k" && string(r.Value) != "v3" {
			t.Errorf("View.All after two Merges yields %q = %q", r.Key, r.Value)
		}
	}
}

// View.All reads the delta when the iteration starts, not when All is
// called: an iterator made before a Set and a Delete and ranged after them
// sees both.
func TestHostileViewAllReadsTheDeltaWhenIterated(t *testing.T) {
	path := hostileBuild(t, nil, "old", "value")
	l := hostileLayered(t, path, nil)
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	it := v.All()
	l.Set([]byte("new"), []byte("set before the iteration started"))
	l.Delete([]byte("old"))
	got := map[string]string{}
	for r, err := range it {
		if err != nil {
			t.Fatal(err)
		}
		got[string(r.Key)] = string(r.Value)
	}
	if len(got) != 1 || got["new"] != "set before the iteration started" {
		t.Errorf("an iteration started after Set and Delete yields %q; want only new", got)
	}
}

const hostileChildEnv = "BUNDLE_HOSTILE_CHILD"

// A View's iterator made before Release and ranged after it (the store
// closed, so the bundle is unmapped) yields ErrClosed, as Bundle.All does
// after Close, instead of reading the unmapped index. Run in a child
// process, which would be the one to die of the fault.
func TestHostileViewIteratorAfterRelease(t *testing.T) {
	if os.Getenv(hostileChildEnv) == "iterate-after-release" {
		hostileIterateAfterRelease(t)
		return
	}
	out, err := childtest.Run("TestHostileViewIteratorAfterRelease", hostileChildEnv, "iterate-after-release")
	if err != nil {
		t.Fatalf("ranging a View's iterator after Release: child process failed (%v):\n%s", err, firstLines(out, 4))
	}
}

// A loop over a multi key's Values that closes the bundle in its body gets
// ErrClosed at its next step, as All's does, instead of reading the
// unmapped index. Run in a child process, which would be the one to die.
func TestHostileValuesCloseInLoopBody(t *testing.T) {
	if os.Getenv(hostileChildEnv) == "values-close-in-body" {
		hostileValuesCloseInBody(t)
		return
	}
	out, err := childtest.Run("TestHostileValuesCloseInLoopBody", hostileChildEnv, "values-close-in-body")
	if err != nil {
		t.Fatalf("closing the bundle in the body of a Values loop: child process failed (%v):\n%s", err, firstLines(out, 4))
	}
}

func hostileValuesCloseInBody(t *testing.T) {
	kv := []string{}
	for i := range 5 {
		kv = append(kv, "k", fmt.Sprint("value ", i))
	}
	b, err := Open(hostileBuild(t, &Options{Index: Multi}, kv...))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last error
	for _, err := range b.Values([]byte("k")) {
		if n++; n == 1 {
			b.Close()
		}
		last = err
	}
	if !errors.Is(last, ErrClosed) {
		t.Fatalf("after Close in the loop body Values went on %d times and ended with %v, want ErrClosed", n, last)
	}
}

func hostileIterateAfterRelease(t *testing.T) {
	kv := make([]string, 0, 2000)
	for i := range 1000 {
		kv = append(kv, fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i))
	}
	path := hostileBuild(t, nil, kv...)
	l, err := OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	it := v.All()
	v.Release()
	l.Close() // the last reference: the bundle is unmapped
	var last error
	for _, err := range it {
		last = err
	}
	if !errors.Is(last, ErrClosed) {
		t.Fatalf("ranging a View's All after Release ended with %v, want ErrClosed", last)
	}
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// Merge writes the old bundle's records into the new one with fresh
// checksums, so it checks the old bundle first: a flipped byte in a value is
// ErrCorrupt, never a valid value of the merged bundle that no Verify could
// find again.
func TestHostileMergeRefusesACorruptBundle(t *testing.T) {
	value := "an original value of forty bytes or so!"
	path := hostileBuild(t, nil, "a", value, "b", "bee")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte(value))
	if at < 0 {
		t.Fatal("value not found in the file")
	}
	data[at+3] ^= 0x20 // "an Original ..."
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l := hostileLayered(t, path, nil)
	l.Set([]byte("c"), []byte("sea"))
	_, err = l.Merge()
	if errors.Is(err, ErrCorrupt) {
		return
	}
	b, oerr := Open(path)
	if oerr != nil {
		t.Fatal(oerr)
	}
	defer b.Close()
	got, _ := b.Get([]byte("a"))
	t.Errorf("Merge over a bundle with a flipped value byte returned %v, not ErrCorrupt; "+
		"the merged bundle's Verify = %v and Get(a) = %q", err, b.Verify(), got)
}

// A Close while a Merge runs returns at once, and the Merge returns an error
// with the old bundle in place, as Merge promises on error: its result never
// replaces the bundle after Close returned.
func TestHostileCloseDuringMergeKeepsTheBundle(t *testing.T) {
	path := hostileBuild(t, nil, "k", "old")
	var l *Layered
	merging, closed := make(chan struct{}), make(chan struct{})
	opts := &Options{Progress: func(p Progress) {
		if p.Stage == StageSort {
			close(merging)
			<-closed
		}
	}}
	l = hostileLayered(t, path, opts)
	l.Set([]byte("k"), []byte("new"))
	done := make(chan error)
	go func() {
		_, err := l.Merge()
		done <- err
	}()
	<-merging
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	close(closed)
	merr := <-done
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, _ := b.Get([]byte("k"))
	if merr != nil && !os.SameFile(before, after) {
		t.Errorf("Merge returned %v, yet the bundle at its path was replaced after Close returned (k = %q)", merr, got)
	}
}

// DeltaLen returns "the number of keys changed since the last Merge
// finished": a key changed before a Merge and again while it runs is one.
func TestHostileDeltaLenCountsAKeyOnce(t *testing.T) {
	path := hostileBuild(t, nil, "k", "old")
	var l *Layered
	during := -1
	opts := &Options{Progress: func(p Progress) {
		if p.Stage == StageSort && during < 0 {
			l.Set([]byte("k"), []byte("set during the merge"))
			during = l.DeltaLen()
		}
	}}
	l = hostileLayered(t, path, opts)
	l.Set([]byte("k"), []byte("set before the merge"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	if during != 1 {
		t.Errorf("DeltaLen during a Merge, with one key changed, = %d; want 1", during)
	}
}

// A Merge killed by SIGKILL leaves the old bundle intact, and the next Merge
// of the same path removes everything the killed one left: its output's
// temporary file and the sort runs it spilled, which can be as large as the
// delta.
func TestHostileKilledMergeLeavesNothing(t *testing.T) {
	if dir := os.Getenv(hostileChildEnv + "_DIR"); dir != "" {
		hostileMergeUntilKilled(t, dir)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.bundle")
	if _, err := BuildRecords(path, func(yield func(Record, error) bool) {
		for i := range 1000 {
			yield(Record{Key: fmt.Appendf(nil, "old-%d", i), Value: fmt.Appendf(nil, "old value %d", i)}, nil)
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	cmd := childtest.Command("TestHostileKilledMergeLeavesNothing", hostileChildEnv+"_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	ready := false
	for !ready && lines.Scan() {
		ready = lines.Text() == "MERGING"
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if !ready {
		t.Fatal("the child never reached the write stage of its Merge")
	}
	b, err := Open(path)
	if err != nil {
		t.Fatalf("after a killed Merge: %v", err)
	}
	if err := b.Verify(); err != nil {
		t.Fatalf("after a killed Merge: %v", err)
	}
	if v, err := b.Get([]byte("old-5")); err != nil || string(v) != "old value 5" || b.Len() != 1000 {
		t.Fatalf("after a killed Merge the bundle holds %d records, old-5 = %q, %v", b.Len(), v, err)
	}
	b.Close()
	// The next Merge at the same path, in this process.
	l := hostileLayered(t, path, nil)
	l.Set([]byte("after"), []byte("the crash"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		if e.Name() != "shared.bundle" {
			left = append(left, e.Name())
		}
	}
	if len(left) > 0 {
		t.Errorf("after a killed Merge and a successful one, the bundle's directory still holds %d files: %v", len(left), left[:min(4, len(left))])
	}
}

// hostileMergeUntilKilled is the child: it merges a delta large enough to
// spill sort runs and stops in the write stage until it is killed.
func hostileMergeUntilKilled(t *testing.T, dir string) {
	opts := &Options{MemoryLimit: 1 << 20, Progress: func(p Progress) {
		if p.Stage == StageWrite {
			fmt.Println("MERGING")
			time.Sleep(time.Minute)
		}
	}}
	l, err := OpenLayered(filepath.Join(dir, "shared.bundle"), opts)
	if err != nil {
		t.Fatal(err)
	}
	pad := bytes.Repeat([]byte("x"), 200)
	for i := range 20000 {
		l.Set(fmt.Appendf(nil, "new-%d", i), append(fmt.Appendf(nil, "%d", i), pad...))
	}
	l.Merge()
	t.Fatal("the Merge returned before it was killed")
}

// Two writers of one path, e.g. two processes that each merge or rebuild a
// shared bundle: a build removes only the temporary files of stopped builds,
// never a live one's, so both succeed and the later rename wins.
func TestHostileConcurrentBuildsOfOnePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.bundle")
	records := func(v string) func(yield func(Record, error) bool) {
		return func(yield func(Record, error) bool) {
			yield(Record{Key: []byte("k"), Value: []byte(v)}, nil)
		}
	}
	var second error
	started := false
	opts := &Options{Progress: func(p Progress) {
		if p.Stage == StageWrite && !started {
			started = true
			_, second = BuildRecords(path, records("second"), nil)
		}
	}}
	_, first := BuildRecords(path, records("first"), opts)
	if second != nil {
		t.Fatalf("the second build: %v", second)
	}
	if first != nil {
		t.Errorf("a build whose temporary file another build of the same path removed: %v", first)
	}
}

// Every single-bit flip anywhere in small bundles of each kind (header,
// section table, padding, data, index, guide), with no checksum resealed:
// Open refuses the file or Verify reports ErrCorrupt, and reads before Verify
// never panic: Verify "checks every byte".
func TestHostileEveryBitFlipIsFound(t *testing.T) {
	recs := []Record{
		{Key: []byte("short"), Value: []byte("a value long enough to be deduplicated")},
		{Key: []byte("dup"), Value: []byte("a value long enough to be deduplicated")},
		{Key: []byte("with meta"), Value: []byte("v"), Meta: []byte("meta")},
		{Key: []byte("a key longer than the inline width"), Value: []byte("long key")},
		{Key: []byte("empty value")},
		{Key: []byte("multi"), Value: []byte("one")},
		{Key: []byte("multi"), Value: []byte("two")},
	}
	for i := range 12 {
		recs = append(recs, Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	for _, opts := range []Options{{}, {Index: Multi, Align: 1}, {Index: Approximate, Align: 64}, {Streamed: true}} {
		path := filepath.Join(t.TempDir(), "flip.bundle")
		if _, err := BuildRecords(path, func(yield func(Record, error) bool) {
			for _, r := range recs {
				yield(r, nil)
			}
		}, &opts); err != nil {
			t.Fatal(err)
		}
		clean, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, len(clean))
		for off := range clean {
			for bit := range 8 {
				copy(data, clean)
				data[off] ^= 1 << bit
				what := fmt.Sprintf("%+v: bit %d of byte %d of %d", opts, bit, off, len(data))
				if err := hostileFlipped(data); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
		}
	}
}

// hostileFlipped reads a damaged bundle held in memory and returns what went
// wrong: a panic, an error that is not ErrCorrupt, or a Verify that passed.
func hostileFlipped(data []byte) (failure error) {
	defer func() {
		if r := recover(); r != nil {
			failure = fmt.Errorf("panic: %v", r)
		}
	}()
	b, err := newBundle(memory.Wrap(data).ReadOnly(), "in memory")
	if err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion) {
			return nil
		}
		return fmt.Errorf("Open: %w, not ErrCorrupt", err)
	}
	for _, k := range []string{"short", "dup", "with meta", "a key longer than the inline width", "multi", "k3", "absent"} {
		if _, err := b.GetRecord([]byte(k)); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("GetRecord(%q): %w", k, err)
		}
	}
	for _, err := range b.All() {
		if err != nil && !errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("All: %w", err)
		}
	}
	if err := b.Verify(); !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("Verify = %v, want ErrCorrupt", err)
	}
	return nil
}

// A View's slices of the delta have their capacity clipped to their length,
// as a Bundle's do: two readers that append to the value they got (a
// newline, a suffix) each get a copy, and neither sees the other's bytes.
func TestHostileViewDeltaValueAppendsCopy(t *testing.T) {
	l := hostileLayered(t, filepath.Join(t.TempDir(), "new.bundle"), nil)
	l.Set([]byte("k"), []byte("abc"))
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	first, err := v.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	mine := append(first, '\n')
	second, err := v.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(second, '!')
	if string(mine) != "abc\n" {
		t.Errorf("a reader's append to a View value became %q after another reader appended to the same value", mine)
	}
}

package bundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/childtest"
)

const hostileChildEnv = "BUNDLE_HOSTILE_CHILD"

func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

// A bundle truncated by another process while it is mapped: Verify, the
// whole-file check, reports it as corrupt rather than kill the process
// (SIGBUS). Get and All hand out slices of the mapping, whose reads are
// documented fatal then: bundles are replaced by rename, never truncated.
func TestHostileTruncatedWhileMapped(t *testing.T) {
	if mode := os.Getenv(hostileChildEnv); strings.HasPrefix(mode, "trunc-") {
		recs := randomRecords(20000, 9, true)
		path := build(t, nil, recs)
		b := open(t, path)
		if err := os.Truncate(path, 4096); err != nil {
			t.Fatal(err)
		}
		if err := b.Verify(); !errors.Is(err, bundle.ErrCorrupt) {
			t.Errorf("Verify of a bundle truncated while mapped: %v, want ErrCorrupt", err)
		}
		t.Log("survived")
		return
	} else if mode != "" {
		t.Skip("child of another test")
	}
	for _, mode := range []string{"trunc-verify"} {
		out, err := childtest.Run("TestHostileTruncatedWhileMapped", hostileChildEnv, mode)
		if err != nil {
			t.Errorf("%s: the reader process died (%v):\n%s", mode, err, head(out, 5))
		}
	}
}

// AddStream with a negative size is bad input: it must be refused, not
// written into the bundle as a value of 2^64-1 bytes.
func TestHostileAddStreamNegativeSize(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "neg.bundle")
		b, err := bundle.NewBuilder(path, &bundle.Options{Streamed: streamed})
		if err != nil {
			t.Fatal(err)
		}
		b.Add([]byte("ok"), []byte("fine"))
		addErr := b.AddStream([]byte("neg"), nil, strings.NewReader("abc"), -1)
		if addErr != nil {
			b.Abort()
			if !errors.Is(addErr, bundle.ErrInvalidSize) {
				t.Errorf("streamed=%v: AddStream(size -1) = %v, want ErrInvalidSize", streamed, addErr)
			}
			continue // refused: good
		}
		_, ferr := b.Finish()
		msg := fmt.Sprintf("streamed=%v: AddStream(size -1) = nil, Finish = %v", streamed, ferr)
		if ferr == nil {
			bd, err := bundle.Open(path)
			if err != nil {
				t.Errorf("%s; Open = %v", msg, err)
				continue
			}
			v, gerr := bd.Get([]byte("neg"))
			v2, gerr2 := bd.Get([]byte("ok"))
			msg += fmt.Sprintf("; Get(neg) = %d bytes, %v; Get(ok) = %q, %v; Verify = %v; Info.ValueBytes = %d",
				len(v), gerr, v2, gerr2, bd.Verify(), bd.Info().ValueBytes)
			bd.Close()
		}
		t.Error(msg)
	}
}

// A build that fills the disk fails with an error, leaves no temporary
// files and leaks no descriptors. Needs root (tmpfs).
func TestHostileFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).Run(); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer exec.Command("umount", dir).Run()
	fds := fdCount(t)
	value := bytes.Repeat([]byte("x"), 3000)
	for i, opts := range []bundle.Options{{}, {Streamed: true}, {MemoryLimit: 1 << 20}} {
		path := filepath.Join(dir, fmt.Sprintf("full%d.bundle", i))
		b, err := bundle.NewBuilder(path, &opts)
		if err != nil {
			t.Fatal(err)
		}
		var addErr error
		for j := 0; j < 3000 && addErr == nil; j++ {
			v := append([]byte(fmt.Sprint(j)), value...) // distinct: no dedup
			addErr = b.Add([]byte(fmt.Sprintf("key-%d", j)), v)
		}
		var ferr error
		if addErr != nil {
			b.Abort()
		} else {
			_, ferr = b.Finish()
		}
		if addErr == nil && ferr == nil {
			t.Errorf("opts %d: a build of 9 MB on a 4 MB file system succeeded", i)
		} else {
			t.Logf("opts %d: add error %v, finish error %v", i, addErr, ferr)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			t.Errorf("opts %d: %s left behind", i, e.Name())
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if n := fdCount(t); n != fds {
		t.Errorf("%d descriptors open after the failed builds, %d before", n, fds)
	}
}

// Replacing a bundle by a rebuild (rename) while other processes have it
// open: their mapping keeps the old file's bytes, and Verify passes.
func TestHostileReplacedWhileOpenInOtherProcess(t *testing.T) {
	if arg := os.Getenv(hostileChildEnv); strings.HasPrefix(arg, "replace:") {
		path := strings.TrimPrefix(arg, "replace:")
		b := open(t, path)
		os.WriteFile(path+".ready", nil, 0o644)
		for i := 0; ; i++ {
			if _, err := os.Stat(path + ".go"); err == nil {
				break
			}
			if i > 2000 {
				t.Fatal("parent never replaced the file")
			}
			time.Sleep(5 * time.Millisecond)
		}
		for i := range 2000 {
			v, err := b.Get([]byte(fmt.Sprintf("k%d", i)))
			if err != nil || string(v) != fmt.Sprintf("old value %d", i) {
				t.Fatalf("Get(k%d) = %q, %v after the replace", i, v, err)
			}
		}
		if err := b.Verify(); err != nil {
			t.Fatal(err)
		}
		return
	} else if arg != "" {
		t.Skip("child of another test")
	}
	var recs []rec
	for i := range 2000 {
		recs = append(recs, rec{key: fmt.Sprintf("k%d", i), value: fmt.Sprintf("old value %d", i)})
	}
	path := build(t, nil, recs)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := childtest.Command("TestHostileReplacedWhileOpenInOtherProcess", hostileChildEnv+"=replace:"+path)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(path + ".ready"); err == nil {
			break
		}
		if i > 2000 {
			t.Fatal("children never opened the bundle")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the second child open too
	for i := range recs {
		recs[i].value = fmt.Sprintf("the new, longer value number %d", i)
	}
	recs = recs[:500]
	b, err := bundle.NewBuilder(path, &bundle.Options{Index: bundle.Multi, Align: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		b.Add([]byte(r.key), []byte(r.value))
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+".go", nil, 0o644)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("reader %d: %v\n%s", i, err, head(outs[i].String(), 10))
		}
	}
}

// Keys and values of size 0 and at the limits of a direct entry, the inline
// key width and maxKey round-trip in every index kind.
func TestHostileSizesAtLimits(t *testing.T) {
	big := func(n int, c byte) string { return string(bytes.Repeat([]byte{c}, n)) }
	recs := []rec{
		{key: "", value: ""},
		{key: "v0", value: ""},
		{key: big(15, 'a'), value: "15"},
		{key: big(16, 'b'), value: "16"},
		{key: big(17, 'c'), value: "17"},
		{key: "direct-max", value: big(1<<18-1, 'd')},
		{key: "direct-max+1", value: big(1<<18, 'e')},
		{key: "meta-only", meta: "m"},
		{key: big(16, 'b') + "\x00", value: "16+nul"},
		{key: big(15, 'a') + "\x00", value: "15+nul"},
	}
	for _, opts := range []bundle.Options{{}, {Index: bundle.Multi}, {Align: 1}, {Align: 4096}, {Streamed: true}} {
		path := build(t, &opts, recs)
		b := open(t, path)
		if err := b.Verify(); err != nil {
			t.Fatalf("%+v: Verify: %v", opts, err)
		}
		checkContents(t, b, model(recs, opts.Index == bundle.Multi))
		for _, k := range []string{big(16, 'b')[:15], big(15, 'a') + "\x00\x00", "\x00"} {
			if v, err := b.Get([]byte(k)); !errors.Is(err, bundle.ErrNotFound) {
				t.Errorf("%+v: Get(%q) = %q, %v, want ErrNotFound", opts, k, v, err)
			}
		}
	}
	// The empty bundle.
	path := build(t, nil, nil)
	b := open(t, path)
	if _, err := b.Get(nil); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("Get in an empty bundle: %v", err)
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
	// Key limit.
	bl, err := bundle.NewBuilder(filepath.Join(t.TempDir(), "k.bundle"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Abort()
	if err := bl.Add(make([]byte, 64<<20+1), nil); !errors.Is(err, bundle.ErrTooLarge) {
		t.Fatalf("Add of a key over 64 MiB = %v, want ErrTooLarge", err)
	}
	if err := bl.AddRecord(bundle.Record{Key: []byte("k"), Meta: make([]byte, 64<<20+1)}); !errors.Is(err, bundle.ErrTooLarge) {
		t.Fatalf("Add of a meta over 64 MiB = %v, want ErrTooLarge", err)
	}
}

// A key of 3 MiB with the smallest memory limit (sort runs far smaller than
// the record) still builds and reads back.
func TestHostileKeyLargerThanSortMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bundle")
	key := bytes.Repeat([]byte("K"), 3<<20)
	recs := []bundle.Record{{Key: key, Value: []byte("v")}, {Key: []byte("small"), Value: key}}
	_, err := bundle.BuildRecords(path, func(yield func(bundle.Record, error) bool) {
		for _, r := range recs {
			yield(r, nil)
		}
	}, &bundle.Options{MemoryLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, path)
	if v, err := b.Get(key); err != nil || string(v) != "v" {
		t.Fatalf("Get(big key) = %q, %v", v, err)
	}
	if v, err := b.Get([]byte("small")); err != nil || !bytes.Equal(v, key) {
		t.Fatalf("Get(small) = %d bytes, %v", len(v), err)
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}

// After Close, every read from any goroutine is ErrClosed (no crash, no
// race), and Open/Close leak no descriptor or mapping.
func TestHostileUseAfterClose(t *testing.T) {
	path := build(t, nil, randomRecords(500, 3, true))
	fds := fdCount(t)
	b, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.Get([]byte("key-1")); !errors.Is(err, bundle.ErrClosed) {
				t.Errorf("Get after Close = %v", err)
			}
			if _, err := b.GetRecord([]byte("key-1")); !errors.Is(err, bundle.ErrClosed) {
				t.Errorf("GetRecord after Close = %v", err)
			}
			for _, err := range b.All() {
				if !errors.Is(err, bundle.ErrClosed) {
					t.Errorf("All after Close = %v", err)
				}
			}
			for _, err := range b.Values([]byte("key-1")) {
				if !errors.Is(err, bundle.ErrClosed) {
					t.Errorf("Values after Close = %v", err)
				}
			}
			for _, err := range []error{b.Verify(), b.Load(), b.LoadIndex(), b.Close()} {
				if !errors.Is(err, bundle.ErrClosed) {
					t.Errorf("after Close: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if n := fdCount(t); n != fds {
		t.Errorf("%d descriptors after Open+Close, %d before", n, fds)
	}
}

// Layered: reads, writes, Views and Merge from many goroutines while the
// store is closed: no race, no crash, errors are ErrClosed.
func TestHostileLayeredCloseWhileBusy(t *testing.T) {
	var recs []rec
	for i := range 300 {
		recs = append(recs, rec{key: fmt.Sprintf("k%d", i), value: fmt.Sprintf("v%d", i)})
	}
	path := build(t, nil, recs)
	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := func(err error) bool {
		return err == nil || errors.Is(err, bundle.ErrClosed) || errors.Is(err, bundle.ErrNotFound)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := []byte(fmt.Sprintf("k%d", i%300))
				switch g {
				case 0:
					if err := l.Set(k, []byte("new")); !ok(err) {
						t.Errorf("Set: %v", err)
					}
				case 1:
					if _, err := l.Get(nil, k); !ok(err) {
						t.Errorf("Get: %v", err)
					}
				case 2:
					v, err := l.View()
					if err != nil {
						if !ok(err) {
							t.Errorf("View: %v", err)
						}
						continue
					}
					for _, err := range v.All() {
						if !ok(err) {
							t.Errorf("View.All: %v", err)
						}
					}
					v.Release()
				case 3:
					if i%20 == 0 {
						if _, err := l.Merge(); !ok(err) {
							t.Errorf("Merge: %v", err)
						}
					}
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if _, err := l.Get(nil, []byte("k1")); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
}

// Open of a FIFO (a hostile path) must not block forever.
func TestHostileOpenFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := exec.Command("mkfifo", path).Run(); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		b, err := bundle.Open(path)
		if err == nil {
			b.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Open of a FIFO succeeded")
		}
	case <-time.After(3 * time.Second):
		if f, _ := os.OpenFile(path, os.O_WRONLY, 0); f != nil {
			f.Close()
		}
		<-done
		t.Error("Open of a FIFO blocked for 3 s")
	}
}

// Full disk at every stage of a build: a filler file leaves a little less
// or more room each time. Each build either succeeds with a bundle that
// verifies, or fails with an error and leaves nothing but the filler.
func TestHostileFullDiskSweep(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).Run(); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer exec.Command("umount", dir).Run()
	fds := fdCount(t)
	var recs []rec
	for i := range 4000 {
		recs = append(recs, rec{key: fmt.Sprintf("key-%d", i), value: fmt.Sprintf("%d %s", i, bytes.Repeat([]byte("v"), i%300))})
	}
	filler := filepath.Join(dir, "filler")
	okCount, errCount := 0, 0
	for room := int64(64 << 10); room < 3<<20; room += 160 << 10 {
		for _, opts := range []bundle.Options{{}, {Streamed: true}} {
			if err := os.WriteFile(filler, make([]byte, 4<<20-room), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "b.bundle")
			b, err := bundle.NewBuilder(path, &opts)
			if err != nil {
				t.Fatal(err)
			}
			var berr error
			for _, r := range recs {
				if berr = b.AddRecord(bundle.Record{Key: []byte(r.key), Value: []byte(r.value)}); berr != nil {
					break
				}
			}
			if berr != nil {
				b.Abort()
			} else {
				_, berr = b.Finish()
			}
			if berr == nil {
				okCount++
				bd, err := bundle.Open(path)
				if err != nil {
					t.Fatalf("room %d: built, but Open: %v", room, err)
				}
				if err := bd.Verify(); err != nil {
					t.Fatalf("room %d: built, but Verify: %v", room, err)
				}
				bd.Close()
				os.Remove(path)
			} else {
				errCount++
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if e.Name() != "filler" {
					t.Errorf("room %d, %+v: %s left behind (build error %v)", room, opts, e.Name(), berr)
					os.Remove(filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	t.Logf("%d builds succeeded, %d failed", okCount, errCount)
	if n := fdCount(t); n != fds {
		t.Errorf("%d descriptors open after the builds, %d before", n, fds)
	}
}

// Layered.Merge on a full disk: an error, the delta kept, the old bundle
// in place; after room is made, a Merge folds everything in.
func TestHostileLayeredMergeFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).Run(); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer exec.Command("umount", dir).Run()
	path := filepath.Join(dir, "l.bundle")
	var recs []rec
	for i := range 1000 {
		recs = append(recs, rec{key: fmt.Sprintf("k%d", i), value: fmt.Sprintf("old %d", i)})
	}
	if _, err := bundle.Build(path, func(yield func([]byte, []byte) bool) {
		for _, r := range recs {
			yield([]byte(r.key), []byte(r.value))
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 1000 {
		l.Set([]byte(fmt.Sprintf("new%d", i)), append([]byte(fmt.Sprintf("%06d", i)), bytes.Repeat([]byte{byte(i)}, 2994)...))
	}
	l.Delete([]byte("k5"))
	if _, err := l.Merge(); err == nil {
		t.Fatal("Merge of 3 MB into a 2 MB file system succeeded")
	} else {
		t.Logf("Merge: %v", err)
	}
	if v, err := l.Get(nil, []byte("new7")); err != nil || len(v) != 3000 {
		t.Fatalf("after the failed Merge, Get(new7) = %d bytes, %v", len(v), err)
	}
	if _, err := l.Get(nil, []byte("k5")); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("after the failed Merge, the delete of k5 is lost: %v", err)
	}
	if v, err := l.Get(nil, []byte("k6")); err != nil || string(v) != "old 6" {
		t.Fatalf("after the failed Merge, Get(k6) = %q, %v", v, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after the failed Merge the directory holds %v", names)
	}
}

// Many values per key across many sort runs (smallest memory limit): Multi
// keeps them in the order added (Get returns the first), Exact keeps the
// last, in sorted and streamed builds.
func TestHostileOrderAcrossRuns(t *testing.T) {
	const keys, per = 50, 40
	pad := string(bytes.Repeat([]byte("p"), 1500)) // ~2.5 MB of records: several runs
	var recs []rec
	for j := range per {
		for i := range keys {
			recs = append(recs, rec{key: fmt.Sprintf("key%d", i), value: fmt.Sprintf("%d:%d:%s", i, j, pad[:1000+(i*j)%500])})
		}
	}
	for _, opts := range []bundle.Options{
		{Index: bundle.Multi, MemoryLimit: 1 << 20},
		{Index: bundle.Multi, MemoryLimit: 1 << 20, Streamed: true},
		{MemoryLimit: 1 << 20},
		{MemoryLimit: 1 << 20, Streamed: true},
	} {
		path := build(t, &opts, recs)
		b := open(t, path)
		if err := b.Verify(); err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		checkContents(t, b, model(recs, opts.Index == bundle.Multi))
	}
}

// A short AddStream value is refused with ErrShortValue and leaves the
// build usable (sorted build).
func TestHostileShortStreamThenContinue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.bundle")
	b, err := bundle.NewBuilder(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddStream([]byte("short"), nil, strings.NewReader("abc"), 10); !errors.Is(err, bundle.ErrShortValue) {
		t.Fatalf("AddStream short = %v", err)
	}
	if err := b.AddStream([]byte("good"), []byte("m"), strings.NewReader("0123456789"), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Finish(); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("second Finish = %v", err)
	}
	if err := b.Add([]byte("x"), nil); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Add after Finish = %v", err)
	}
	bd := open(t, path)
	if err := bd.Verify(); err != nil {
		t.Fatal(err)
	}
	if _, err := bd.Get([]byte("short")); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("Get(short) = %v", err)
	}
	if r, err := bd.GetRecord([]byte("good")); err != nil || string(r.Value) != "0123456789" || string(r.Meta) != "m" {
		t.Fatalf("GetRecord(good) = %q %q %v", r.Value, r.Meta, err)
	}
}

// View slices stay valid across Merges until Release.
func TestHostileViewAcrossMerges(t *testing.T) {
	path := build(t, nil, []rec{{key: "a", value: "alpha value, long enough"}, {key: "b", value: "beta"}})
	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	a, err := v.Get([]byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l.Set([]byte("a"), []byte(fmt.Sprint("new ", i)))
		if _, err := l.Merge(); err != nil {
			t.Fatal(err)
		}
	}
	if string(a) != "alpha value, long enough" {
		t.Fatalf("View slice changed to %q", a)
	}
	v.Release()
	v.Release()
	if _, err := v.Get([]byte("a")); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Get after Release = %v", err)
	}
	if got, err := l.Get(nil, []byte("a")); err != nil || string(got) != "new 2" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

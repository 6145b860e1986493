package tiermem_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/tier/object"
)

// The crash tests of glacier's writes under Durability Always: a child
// process writes and is killed (SIGKILL), and the parent reopens the
// directory and checks what it finds.

const (
	hostileGlacierDirEnv  = "TIERMEM_HOSTILE_GLACIER_DIR"
	hostileGlacierDataEnv = "TIERMEM_HOSTILE_GLACIER_DATA"
)

// glacierCrashOptions keeps glacier in the directory gdir, with no retry
// of a failed upload, and runs no passes but those the test asks for.
func glacierCrashOptions(gdir string) *tiermem.Options {
	return &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: gdir, Object: &object.Options{Retries: -1, Backoff: time.Millisecond}}}
}

// fillPages fills dir's file system with one-page files named
// fill-N and returns how many it made.
func fillPages(dir string) int {
	page := make([]byte, 4096)
	n := 0
	for ; ; n++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("fill-", n)), page, 0o644); err != nil {
			os.Remove(filepath.Join(dir, fmt.Sprint("fill-", n)))
			return n
		}
	}
}

// TestHostileGlacierChild is the child of
// TestHostileFailedGlacierStoreNeverComesBackAfterACrash: it stores "k" in
// glacier, then with the glacier disk full stores a new value there, which
// fails. Then it frees one page at a time and runs a pass, until a pass
// uploads a new pack (the first passes still fail: the room is short of a
// pack and its index). It prints "failed ERR" and waits to be killed.
func TestHostileGlacierChild(t *testing.T) {
	gdir := os.Getenv(hostileGlacierDirEnv)
	if gdir == "" {
		t.Skip("run by TestHostileFailedGlacierStoreNeverComesBackAfterACrash")
	}
	say := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	m, err := tiermem.Open(os.Getenv(hostileGlacierDataEnv), glacierCrashOptions(gdir))
	if err != nil {
		say("error open: %v", err)
		return
	}
	if err := m.Store("k", hostileValue(5, 0, 20<<10), tiermem.InTier(tiermem.Glacier)); err != nil {
		say("error first store: %v", err)
		return
	}
	fillDir := filepath.Join(gdir, "fill")
	must(t, os.Mkdir(fillDir, 0o755))
	filled := fillPages(fillDir)
	// packs returns the names of the packs and indexes the bucket holds:
	// a pass that uploads one adds a name (compaction may delete an older
	// pack at once, so their count may stay the same).
	packs := func() (names map[string]bool, n, idx int) {
		names = map[string]bool{}
		es, _ := os.ReadDir(filepath.Join(gdir, "pack"))
		for _, e := range es {
			switch {
			case strings.HasSuffix(e.Name(), ".pack"):
				n++
			case strings.HasSuffix(e.Name(), ".index"), strings.HasSuffix(e.Name(), ".idx"):
				idx++
			default:
				continue
			}
			names[e.Name()] = true
		}
		return
	}
	before, p0, i0 := packs()
	err = m.Store("k", hostileValue(5, 1, 20<<10), tiermem.InTier(tiermem.Glacier))
	if err == nil {
		say("error a Store succeeded on the full glacier disk")
		return
	}
	failed := strings.ReplaceAll(err.Error(), "\n", " ")
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, hostileValue(5, 0, 20<<10)) {
		say("error after the failed Store, k: %v", err)
		return
	}
	// Some room comes back (an operator deletes a file): the next passes
	// upload what they can.
	for free := 1; free < 40; free++ {
		filled--
		os.Remove(filepath.Join(fillDir, fmt.Sprint("fill-", filled)))
		merr := m.Migrate()
		now, p, i := packs()
		if uploaded := func() bool {
			for name := range now {
				if !before[name] && strings.HasSuffix(name, ".pack") {
					return true
				}
			}
			return false
		}(); uploaded {
			say("failed %s", failed)
			say("log %d pages freed: packs %d→%d, indexes %d→%d, pass: %v", free, p0, p, i0, i, merr)
			time.Sleep(time.Minute)
			return
		}
	}
	say("error no pass uploaded a pack")
}

// TestHostileFailedGlacierStoreNeverComesBackAfterACrash: with Durability
// Always, Store("k", v2, InTier(Glacier)) over k's glacier value v1 fails
// on a full glacier disk. The error says "the key keeps the value it had",
// and k reads v1. A little room comes back and a pass runs; then the
// process is killed. The next Open finds v1: a failed Store never changes
// what the next Open finds. (The failed Store's frame once stayed in a
// pending pack that a later pass uploaded, or uploaded without its index,
// which Open rebuilds, while its undo sat in a later pack that did not
// fit: the undo now takes the frame out of the pack never uploaded, and a
// pack whose index fails is deleted again.)
func TestHostileFailedGlacierStoreNeverComesBackAfterACrash(t *testing.T) {
	gdir := tmpfs.Mount(t, "1m")
	dir := t.TempDir()
	cmd := childtest.Command("TestHostileGlacierChild", hostileGlacierDirEnv+"="+gdir, hostileGlacierDataEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	var failed string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
		}
		if after, ok := strings.CutPrefix(line, "failed "); ok {
			failed = after
		}
		if after, ok := strings.CutPrefix(line, "log "); ok {
			t.Log(after)
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if failed == "" {
		t.Fatal("the child ended without a failed Store")
	}
	t.Logf("the Store failed with: %s", failed)
	must(t, os.RemoveAll(filepath.Join(gdir, "fill"))) // room again, as after an operator frees the disk
	m, err := tiermem.Open(dir, glacierCrashOptions(gdir))
	must(t, err)
	defer m.Close()
	got, err := m.Retrieve("k")
	switch {
	case err != nil:
		t.Fatalf("after the kill, k: %v", err)
	case bytes.Equal(got, hostileValue(5, 1, 20<<10)):
		t.Fatalf("after the kill, k holds the value of the Store that failed (%q), not the value it had", failed)
	case !bytes.Equal(got, hostileValue(5, 0, 20<<10)):
		t.Fatalf("after the kill, k holds %d unknown bytes", len(got))
	}
}

const hostileDeleteDirEnv = "TIERMEM_HOSTILE_DELETE_DIR"

// TestHostileDeleteChild is the child of
// TestHostileDeleteNeverBringsBackAnOlderGlacierValue: with Durability
// Always, four workers each cycle through their keys: Store v1 into
// glacier, Store v2 into cold (which drops the glacier copy), Delete. Two
// more store other keys into glacier all the time, so that glacier syncs
// run beside them. Each prints "try ID" before a call and "ack ID"
// after it returned nil, where ID names the key and step.
func TestHostileDeleteChild(t *testing.T) {
	dir := os.Getenv(hostileDeleteDirEnv)
	if dir == "" {
		t.Skip("run by TestHostileDeleteNeverBringsBackAnOlderGlacierValue")
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1})
	if err != nil {
		fmt.Println("error open:", err)
		return
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Printf(format+"\n", args...)
		mu.Unlock()
	}
	round, _ := strconv.Atoi(os.Getenv(modelCrashRoundEnv))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for gen := 0; ; gen++ {
				for k := range 4 {
					key := fmt.Sprintf("r%d-w%d-k%d", round, w, k)
					for step := 1; step <= 3; step++ {
						id := deleteStepID(round, w, k, gen, step)
						say("try %d", id)
						var err error
						switch step {
						case 1:
							err = m.Store(key, modelValue(id), tiermem.InTier(tiermem.Glacier))
						case 2:
							err = m.Store(key, modelValue(id), tiermem.InTier(tiermem.Cold))
						case 3:
							err = m.Delete(key)
						}
						if err != nil {
							say("error %s step %d: %v", key, step, err)
							return
						}
						say("ack %d", id)
					}
				}
			}
		})
	}
	for s := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				m.Store(fmt.Sprint("other", s, "-", i%50), modelValue(int64(i)), tiermem.InTier(tiermem.Glacier))
			}
		})
	}
	wg.Wait()
}

// deleteStepID is the id of a step of TestHostileDeleteChild: the value
// it stores (steps 1 and 2) or the Delete (step 3).
func deleteStepID(round, w, k, gen, step int) int64 {
	return ((int64(round)*10+int64(w))*10+int64(k))*10_000_000 + int64(gen)*10 + int64(step)
}

// TestHostileDeleteNeverBringsBackAnOlderGlacierValue: with Durability
// Always, a key's value v1 lies in glacier; Store(k, v2, InTier(Cold))
// replaces it (dropping the glacier copy); Delete(k). The child is killed
// at a random moment. Whatever the moment, k must read as v2 or as absent
// after the reopen (absent once the Delete returned), never as v1, which
// an acknowledged Store replaced: the glacier record that v1 left is
// durable before the cold tombstone that stops v2 from hiding v1, and a
// Delete waits for it also while a glacier sync that took it is in flight
// (it once read v1 in every run).
func TestHostileDeleteNeverBringsBackAnOlderGlacierValue(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var bad []string
	for round := 0; round < 20 && len(bad) == 0; round++ { // stops at the first round that finds one
		cmd := childtest.Command("TestHostileDeleteChild", hostileDeleteDirEnv+"="+dir, fmt.Sprint(modelCrashRoundEnv, "=", round))
		stdout, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		last := map[string]int64{}    // key → the last step acknowledged
		pending := map[string]int64{} // key → the step in flight
		keyOf := func(id int64) string {
			rest := id / 10_000_000
			return fmt.Sprintf("r%d-w%d-k%d", rest/100, rest/10%10, rest%10)
		}
		sc := bufio.NewScanner(stdout)
		delay := time.Duration(30+rng.IntN(200)) * time.Millisecond
		var kill *time.Timer // started at the first acknowledgement
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 {
				continue
			}
			id, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "try":
				pending[keyOf(id)] = id
			case "ack":
				last[keyOf(id)] = id
				delete(pending, keyOf(id))
				if kill == nil {
					kill = time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
				}
			default:
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child: %s", sc.Text())
			}
		}
		cmd.Wait()
		m, err := tiermem.Open(dir, &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1})
		must(t, err)
		for key, id := range last {
			allowed := map[int64]bool{}
			switch id % 10 {
			case 1, 2:
				allowed[id] = true
			case 3:
				allowed[0] = true
			}
			if p, ok := pending[key]; ok {
				switch p % 10 {
				case 1, 2:
					allowed[p] = true
				case 3:
					allowed[0] = true
				}
			}
			got := int64(0)
			v, err := m.Retrieve(key)
			switch {
			case errors.Is(err, tiermem.ErrNotFound):
			case err != nil:
				bad = append(bad, fmt.Sprintf("round %d: %s: %v", round, key, err))
				continue
			default:
				if got, err = modelValueID(v); err != nil {
					bad = append(bad, fmt.Sprintf("round %d: %s: %v", round, key, err))
					continue
				}
			}
			if !allowed[got] {
				what := map[int64]string{1: "stored in glacier", 2: "stored in cold", 3: "deleted"}
				inFlight := "nothing"
				if p, ok := pending[key]; ok {
					inFlight = fmt.Sprintf("step %d (%s)", p%10, what[p%10])
				}
				bad = append(bad, fmt.Sprintf("round %d: %s reads step %d's value (%s), but step %d (%s) was acknowledged after it; in flight at the kill: %s",
					round, key, got%10, what[got%10], id%10, what[id%10], inFlight))
			}
		}
		must(t, m.Close())
	}
	if len(bad) > 0 {
		t.Fatalf("after SIGKILL and reopen with Durability Always, %d keys read an older value:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// faultBucket passes requests to a Bucket, but fails the Puts and Deletes
// its fail function picks (as a 503 would): a bucket that takes a pack and
// refuses its index, or a later pack.
type faultBucket struct {
	object.Bucket
	mu   sync.Mutex
	fail func(op, name string) bool // nil: none fails
}

func (b *faultBucket) failing(op, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil && b.fail(op, name) {
		return fmt.Errorf("injected: %s %s: 503 Slow Down", op, name)
	}
	return nil
}

func (b *faultBucket) set(fail func(op, name string) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = fail
}

func (b *faultBucket) Put(ctx context.Context, name string, data []byte) error {
	if err := b.failing("put", name); err != nil {
		return err
	}
	return b.Bucket.Put(ctx, name, data)
}

func (b *faultBucket) Delete(ctx context.Context, name string) error {
	if err := b.failing("delete", name); err != nil {
		return err
	}
	return b.Bucket.Delete(ctx, name)
}

// TestHostileFailedGlacierStoreNeverComesBackOnAFailingBucket: with
// Durability Always, a Store into glacier over k's glacier value v1 fails
// (the bucket refuses every upload) and says k keeps v1. Then the bucket
// takes packs but refuses every index and every delete, and the second
// pack after it too, and a pass runs: the pack that held the failed
// Store's value is in the bucket without its index, as after a crash
// between the two, and Open scans it. A crash then (another Manager
// opening the bucket) must find v1, on any bucket, without a full disk.
func TestHostileFailedGlacierStoreNeverComesBackOnAFailingBucket(t *testing.T) {
	mem := object.NewMem()
	fb := &faultBucket{Bucket: mem}
	opts := func(b object.Bucket) *tiermem.Options {
		s, err := object.Open(b, &object.Options{Retries: -1, Backoff: time.Millisecond})
		must(t, err)
		return &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Store: s}}
	}
	m, err := tiermem.Open(t.TempDir(), opts(fb))
	must(t, err)
	defer func() {
		fb.set(nil)
		must(t, m.Close())
	}()
	v1, v2 := hostileValue(6, 0, 20<<10), hostileValue(6, 1, 20<<10)
	must(t, m.Store("k", v1, tiermem.InTier(tiermem.Glacier)))
	fb.set(func(op, name string) bool { return op == "put" })
	if err := m.Store("k", v2, tiermem.InTier(tiermem.Glacier)); err == nil {
		t.Fatal("a Store into glacier succeeded while the bucket refuses every upload")
	}
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("after the failed Store, k: %d bytes, %v; want v1", len(got), err)
	}
	fb.set(func(op, name string) bool {
		return op == "delete" || strings.HasSuffix(name, ".idx") || strings.Contains(name, "0000000000000003.")
	})
	if err := m.Migrate(); err == nil {
		t.Fatal("a pass succeeded while the bucket refuses every index")
	}
	m2, err := tiermem.Open(t.TempDir(), opts(mem)) // as after a crash: what the bucket holds
	must(t, err)
	defer m2.Close()
	got, err := m2.Retrieve("k")
	switch {
	case err != nil:
		t.Fatalf("after the crash, k: %v", err)
	case bytes.Equal(got, v2):
		t.Fatal("after the crash, k holds the value of the Store that failed, not the value it had")
	case !bytes.Equal(got, v1):
		t.Fatalf("after the crash, k holds %d unknown bytes", len(got))
	}
}

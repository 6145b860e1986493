package bundle_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/childtest"
)

// TestHostileTwoStoresMergingOnePath: two Layered stores of one path (two
// processes sharing a bundle, or two OpenLayered calls) merge at once.
// Guarantee: a Merge that returns nil has its own changes in its store and
// in the file at the path; one that lost the race returns ErrConflict and
// keeps its delta, and its next Merge folds it into the winner's bundle, so
// that the file ends with both stores' changes. Before, both built at one
// fixed name (path.merging): A renamed B's file over the path and adopted
// it, A's Merge returned nil, and A's change was in neither its store nor
// the file.
func TestHostileTwoStoresMergingOnePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.bundle")
	if _, err := bundle.Build(path, seqOf(map[string]string{"base": "v0"}), nil); err != nil {
		t.Fatal(err)
	}
	bBuilt, bGo := make(chan struct{}), make(chan struct{})
	var bOnce sync.Once
	var storeB *bundle.Layered
	bDone := make(chan error, 1)
	optsA := &bundle.Options{Progress: func(p bundle.Progress) {
		if p.Stage != bundle.StageDone {
			return
		}
		// A's merged file is complete; B merges now and stops before
		// its swap.
		go func() {
			_, err := storeB.Merge()
			bDone <- err
		}()
		<-bBuilt
	}}
	optsB := &bundle.Options{Progress: func(p bundle.Progress) {
		if p.Stage == bundle.StageDone {
			bOnce.Do(func() {
				close(bBuilt)
				<-bGo
			})
		}
	}}
	storeA, err := bundle.OpenLayered(path, optsA)
	if err != nil {
		t.Fatal(err)
	}
	defer storeA.Close()
	if storeB, err = bundle.OpenLayered(path, optsB); err != nil {
		t.Fatal(err)
	}
	defer storeB.Close()
	if err := storeA.Set([]byte("from-a"), []byte("A's value")); err != nil {
		t.Fatal(err)
	}
	if err := storeB.Set([]byte("from-b"), []byte("B's value")); err != nil {
		t.Fatal(err)
	}
	_, errA := storeA.Merge()
	close(bGo)
	errB := <-bDone
	if errA != nil {
		t.Fatalf("A's Merge, the first to swap: %v", errA)
	}
	if v, err := storeA.Get(nil, []byte("from-a")); err != nil {
		t.Errorf("A's Merge returned nil, then A's Get(from-a) = %q, %v: the acknowledged change is lost", v, err)
	}
	if !errors.Is(errB, bundle.ErrConflict) {
		t.Fatalf("B's Merge, whose bundle A replaced meanwhile: %v, want ErrConflict", errB)
	}
	if _, err := storeB.Get(nil, []byte("from-b")); err != nil {
		t.Fatalf("B's Merge failed, and its change is gone from its delta: %v", err)
	}
	if _, err := storeB.Merge(); err != nil {
		t.Fatalf("B's next Merge: %v", err)
	}
	b := open(t, path)
	for _, k := range []string{"base", "from-a", "from-b"} {
		if _, err := b.Get([]byte(k)); err != nil {
			t.Errorf("after both Merges, the file has no %s: %v", k, err)
		}
	}
}

// TestHostileStoresMergeOnePathInTurn: store B opened a path, then store A
// merged it. Guarantee: B's Merge folds its delta into A's bundle, not into
// the one B opened, so that A's change survives it, and B reads it after.
func TestHostileStoresMergeOnePathInTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.bundle")
	var stores [2]*bundle.Layered
	for i := range stores {
		l, err := bundle.OpenLayered(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		stores[i] = l
	}
	for i, l := range stores {
		if err := l.Set([]byte("from-"+itoa(i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Merge(); err != nil {
			t.Fatalf("Merge of store %d: %v", i, err)
		}
	}
	if _, err := stores[1].Get(nil, []byte("from-0")); err != nil {
		t.Errorf("store 1 merged after store 0 and does not read store 0's change: %v", err)
	}
	b := open(t, path)
	for i := range stores {
		if _, err := b.Get([]byte("from-" + itoa(i))); err != nil {
			t.Errorf("the file has no from-%d: %v", i, err)
		}
	}
}

// seqOf yields a map's records.
func seqOf(m map[string]string) func(func([]byte, []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		for k, v := range m {
			if !yield([]byte(k), []byte(v)) {
				return
			}
		}
	}
}

// TestHostileViewAllDeltaValuesAreClipped: two readers take one delta value
// from View.All and each appends to it. Guarantee: as with every slice the
// package returns, an append copies it and never writes into the delta,
// where the other reader sees it (and races with it). Before, All yielded
// the delta's values with spare capacity, and reader 1 read back reader 2's
// byte.
func TestHostileViewAllDeltaValuesAreClipped(t *testing.T) {
	l, err := bundle.OpenLayered(filepath.Join(t.TempDir(), "s.bundle"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Set([]byte("k"), []byte("abc")); err != nil {
		t.Fatal(err)
	}
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	value := func() []byte {
		for r, err := range v.All() {
			if err != nil {
				t.Fatal(err)
			}
			return r.Value
		}
		t.Fatal("All yielded nothing")
		return nil
	}
	first := append(value(), '\n')
	second := append(value(), '!')
	if string(first) != "abc\n" {
		t.Errorf("reader 1 appended a newline to a value from View.All and reads back %q (reader 2's append wrote into it); cap %d > len 3", first, cap(second))
	}
}

// mergeKillEnv names the store a child merges and then dies in.
const mergeKillEnv = "BUNDLE_HOSTILE2_MERGE_KILL"

// TestHostileMergeKilledBeforeSwapLeavesNothing: a process merges a store and is
// SIGKILLed after the merged file is complete but before it is swapped in.
// Guarantee: the old bundle stays, the killed change is not in it, and the
// next OpenLayered removes the dead Merge's files (its complete copy of the
// bundle and its work directory). Before, the copy stayed at the fixed name
// path.merging, which nothing but a later Merge removed.
func TestHostileMergeKilledBeforeSwapLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.bundle")
	recs := map[string]string{}
	for i := range 2000 {
		recs[strings.Repeat("k", 20)+string(rune('a'+i%26))+itoa(i)] = strings.Repeat("v", 100)
	}
	if _, err := bundle.Build(path, seqOf(recs), nil); err != nil {
		t.Fatal(err)
	}
	out, err := childtest.Run("TestHostileMergeKillChild", mergeKillEnv, path)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child was not killed: %v\n%s", err, out)
	}
	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Get(nil, []byte("from-child")); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("the killed merge's change is visible: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "s.bundle" {
			info, _ := e.Info()
			t.Errorf("after the next OpenLayered, %s (%d bytes) is left beside the bundle", e.Name(), info.Size())
		}
	}
}

// TestHostileMergeKillChild is the child of TestHostileMergeKilledBeforeSwapLeavesNothing.
func TestHostileMergeKillChild(t *testing.T) {
	path := os.Getenv(mergeKillEnv)
	if path == "" {
		t.Skip("a child of TestHostileMergeKilledBeforeSwapLeavesNothing")
	}
	l, err := bundle.OpenLayered(path, &bundle.Options{Progress: func(p bundle.Progress) {
		if p.Stage == bundle.StageDone {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set([]byte("from-child"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	l.Merge()
	t.Fatal("not killed")
}

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		if i /= 10; i == 0 {
			return s
		}
	}
}

// Environment of the children of TestHostileReadersWhileMergersAreKilled.
const (
	stageReaderEnv = "BUNDLE_HOSTILE2_STAGE_READER" // path of the bundle a reader child reads
	stageStopEnv   = "BUNDLE_HOSTILE2_STAGE_STOP"   // the file whose creation stops it
	stageMergerEnv = "BUNDLE_HOSTILE2_STAGE_MERGER" // path,stage,generation of a merger child
)

const stageKeys = 300

// stageSet sets every key of a store to generation gen's value.
func stageSet(t *testing.T, l *bundle.Layered, gen string) {
	for i := range stageKeys {
		if err := l.Set([]byte("key-"+itoa(i)), []byte(gen+"-"+itoa(i)+strings.Repeat("v", i%40))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Set([]byte("gen"), []byte(gen)); err != nil {
		t.Fatal(err)
	}
}

// TestHostileReadersWhileMergersAreKilled: two reader processes open, read
// and verify a bundle in a loop while merger processes are SIGKILLed at
// each stage of a Merge of its path (Add, Sort, Write, Sync, Done), and
// merges that complete replace it. Guarantee: many processes read one
// bundle while its mergers crash: every bundle a reader opens is one whole
// generation, and after the last Merge nothing but the bundle is left in
// its directory.
func TestHostileReadersWhileMergersAreKilled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.bundle")
	stop := filepath.Join(t.TempDir(), "stop")
	l, err := bundle.OpenLayered(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	stageSet(t, l, "g0")
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	type child struct {
		cmd *exec.Cmd
		out *strings.Builder
	}
	var readers []child
	for range 2 {
		cmd := childtest.Command("TestHostileStageReaderChild", stageReaderEnv+"="+path, stageStopEnv+"="+stop)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		readers = append(readers, child{cmd, &out})
	}
	for s, stage := range []bundle.Stage{bundle.StageAdd, bundle.StageSort, bundle.StageWrite, bundle.StageSync, bundle.StageDone} {
		gen := "g" + itoa(2*s+1)
		out, err := childtest.Run("TestHostileStageMergerChild", stageMergerEnv, path+","+itoa(int(stage))+","+gen)
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("merger killed at %v: %v\n%s", stage, err, out)
		}
		stageSet(t, l, "g"+itoa(2*s+2))
		if _, err := l.Merge(); err != nil {
			t.Fatalf("Merge after a merger was killed at %v: %v", stage, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, r := range readers {
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("reader %d: %v\n%s", i, err, r.out)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "shared.bundle" {
			t.Errorf("after the last Merge, %s is left beside the bundle", e.Name())
		}
	}
}

// TestHostileStageReaderChild reads the bundle until the stop file exists.
func TestHostileStageReaderChild(t *testing.T) {
	path := os.Getenv(stageReaderEnv)
	if path == "" {
		t.Skip("a child of TestHostileReadersWhileMergersAreKilled")
	}
	for round := 0; ; round++ {
		if _, err := os.Stat(os.Getenv(stageStopEnv)); err == nil && round > 0 {
			return
		}
		b, err := bundle.Open(path)
		if err != nil {
			t.Fatalf("round %d: Open: %v", round, err)
		}
		gen, err := b.Get([]byte("gen"))
		if err != nil {
			t.Fatalf("round %d: Get(gen): %v", round, err)
		}
		for i := range stageKeys {
			want := string(gen) + "-" + itoa(i) + strings.Repeat("v", i%40)
			if v, err := b.Get([]byte("key-" + itoa(i))); err != nil || string(v) != want {
				t.Fatalf("round %d: a bundle of generation %s has key-%d = %q, %v", round, gen, i, v, err)
			}
		}
		if round%8 == 0 {
			if err := b.Verify(); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		b.Close()
	}
}

// TestHostileStageMergerChild merges a new generation into the store and
// kills itself at the stage it is given.
func TestHostileStageMergerChild(t *testing.T) {
	arg := strings.Split(os.Getenv(stageMergerEnv), ",")
	if len(arg) != 3 {
		t.Skip("a child of TestHostileReadersWhileMergersAreKilled")
	}
	stage := bundle.Stage(arg[1][0] - '0')
	l, err := bundle.OpenLayered(arg[0], &bundle.Options{MemoryLimit: 1 << 20, Progress: func(p bundle.Progress) {
		if p.Stage == stage {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	stageSet(t, l, arg[2])
	l.Merge()
	t.Fatal("not killed")
}

// TestHostileBuildSweepsOnlyBuildsFiles: beside the bundle "report" lie the
// user's directory report.work-drafts/ and report.work-4242/ (the shape of a
// work directory, but without its marker), the user's file
// report.tmp-backup, and what a killed build left: report.tmp- and 16 hex
// digits, and a marked work directory. Guarantee: Build("report") removes
// what builds made and nothing else. Before, a build removed, recursively,
// every unlocked entry whose name began with report.tmp- or report.work-:
// the user's directory went with everything in it.
func TestHostileBuildSweepsOnlyBuildsFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report")
	var mine []string
	for _, d := range []string{"report.work-drafts", "report.work-4242"} {
		p := filepath.Join(dir, d)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "chapter1.txt"), []byte("months of work"), 0o644); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, p)
	}
	backup := filepath.Join(dir, "report.tmp-backup")
	if err := os.WriteFile(backup, []byte("yesterday's report"), 0o644); err != nil {
		t.Fatal(err)
	}
	mine = append(mine, backup)
	leftOutput := filepath.Join(dir, "report.tmp-0123456789abcdef")
	leftWork := filepath.Join(dir, "report.work-77")
	if err := os.Mkdir(leftWork, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{leftOutput, filepath.Join(leftWork, ".bundle-work"), filepath.Join(leftWork, "run-1")} {
		if err := os.WriteFile(f, []byte("left by a killed build"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bundle.Build(path, seqOf(map[string]string{"k": "v"}), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range mine {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Build(%s) removed %s, which no build made: %v", path, p, err)
		}
	}
	for _, p := range []string{leftOutput, leftWork} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Build(%s) left %s, which a killed build left: %v", path, p, err)
		}
	}
}

// TestHostileMergeThroughSymlink: a store opened by a symbolic link to its
// bundle. Guarantee: each Merge succeeds (the first replaces the link by
// the merged bundle, as a rename does), rather than ErrConflict for ever
// because the link and the bundle are different files.
func TestHostileMergeThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "real.bundle"), filepath.Join(dir, "link.bundle")
	if _, err := bundle.Build(target, seqOf(map[string]string{"base": "v0"}), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	l, err := bundle.OpenLayered(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 2 {
		if err := l.Set([]byte("k"+itoa(i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Merge(); err != nil {
			t.Fatalf("Merge %d: %v", i, err)
		}
	}
	b := open(t, link)
	for _, k := range []string{"base", "k0", "k1"} {
		if _, err := b.Get([]byte(k)); err != nil {
			t.Errorf("after two Merges, the file has no %s: %v", k, err)
		}
	}
}

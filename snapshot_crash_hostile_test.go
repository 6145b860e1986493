package tiermem_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
)

const snapRevDirEnv = "TIERMEM_REVIEW_SNAP_DIR"

// TestSnapshotHostileSnapshotCrashChild is the child of
// TestSnapshotHostileCrashDuringSnapshot: with Durability Always it stores
// keys, acknowledging each, while another goroutine takes snapshots into
// <dir>/dump.tmsnap (where `tiermem serve` puts BGSAVE's) until killed.
func TestSnapshotHostileSnapshotCrashChild(t *testing.T) {
	dir := os.Getenv(snapRevDirEnv)
	if dir == "" {
		t.Skip("run by TestSnapshotHostileCrashDuringSnapshot")
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Durability: tiermem.Always, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 2 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}, MigrateInterval: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	out := make(chan string, 1024)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for l := range out {
			fmt.Fprintln(w, l)
			if len(out) == 0 {
				w.Flush()
			}
		}
	}()
	for i := range 300 { // a few MB, so that a snapshot takes a while
		key := fmt.Sprintf("base-%d", i)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%3))); err != nil {
			out <- fmt.Sprint("error ", err)
			time.Sleep(time.Second)
			os.Exit(3)
		}
		out <- "ack " + key
	}
	snaps := 0
	tiermem.AfterSnapshotInstant(func() {
		if snaps++; snaps == 3 { // the first two left a file at the path
			out <- "mid-snapshot"
			time.Sleep(10 * time.Second) // killed meanwhile, writers going on
		}
	})
	go func() {
		for i := 0; ; i++ {
			out <- "snap-start"
			if _, err := m.Snapshot(filepath.Join(dir, "dump.tmsnap"), nil); err != nil {
				out <- fmt.Sprint("error ", err)
				return
			}
			out <- "snap-done"
		}
	}()
	for i := 0; ; i++ {
		key := fmt.Sprintf("base-%d", i%300)
		if i%2 == 1 {
			key = fmt.Sprintf("new-%d", i)
		}
		out <- "try " + key
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%3))); err != nil {
			out <- fmt.Sprint("error ", err)
			time.Sleep(time.Second)
			os.Exit(3)
		}
		out <- "ack " + key
	}
}

// TestSnapshotHostileCrashDuringSnapshot: a process killed while a snapshot is
// being written loses no acknowledged Store (Durability Always), the
// directory reopens, the snapshot file at the path is either absent or a
// complete one that verifies ("the file appears at path only when
// complete"), and the temporary files the killed snapshot left in the
// directory (the file written beside the path, the pre-images, the sort
// runs: each as large as the data) do not stay there for ever: the next
// Open or the next Snapshot to the same path removes them.
func TestSnapshotHostileCrashDuringSnapshot(t *testing.T) {
	dir := t.TempDir()
	cmd := childtest.Command("TestSnapshotHostileSnapshotCrashChild", snapRevDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	lines := make(chan string, 4096)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	acked := map[string]bool{}
	starts := 0
	deadline := time.After(60 * time.Second)
	killed := false
	for !killed {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the child exited")
			}
			switch {
			case strings.HasPrefix(l, "error"):
				t.Fatalf("child: %s", l)
			case strings.HasPrefix(l, "ack "):
				acked[l[4:]] = true
			case l == "snap-start":
				starts++
			case l == "mid-snapshot":
				time.Sleep(100 * time.Millisecond)
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		case <-deadline:
			cmd.Process.Signal(syscall.SIGKILL)
			t.Fatal("the child took no snapshot in 60 s")
		}
	}
	for l := range lines {
		if strings.HasPrefix(l, "ack ") {
			acked[l[4:]] = true
		}
	}
	cmd.Wait()

	path := filepath.Join(dir, "dump.tmsnap")
	if f, err := tiermem.OpenSnapshot(path); err == nil {
		if err := f.Verify(); err != nil {
			t.Errorf("the snapshot file at the path after the kill: %v", err)
		}
		f.Close()
	} else if !os.IsNotExist(err) {
		t.Errorf("the snapshot file at the path after the kill: %v", err)
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 2 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	defer m.Close()
	for key := range acked {
		v, err := m.Retrieve(key)
		if err != nil {
			t.Fatalf("acknowledged %s after the kill: %v", key, err)
		}
		if string(v) != string(valueFor(key)) {
			t.Fatalf("acknowledged %s reads other bytes after the kill", key)
		}
	}
	t.Logf("%d keys acknowledged", len(acked))
	left := snapRevTempFiles(t, dir)
	t.Logf("left by the killed snapshot: %v", left)
	_, err = m.Snapshot(path, nil)
	must(t, err)
	if left := snapRevTempFiles(t, dir); len(left) > 0 {
		t.Errorf("after reopening and a new snapshot to the same path, the killed snapshot's temporary files are still in %s: %v", dir, left)
	}
}

// snapRevTempFiles lists the files in dir that a snapshot writes only
// while it runs.
func snapRevTempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.Contains(n, ".tmp-") || strings.HasPrefix(n, "tiermem-snapshot-") || strings.HasPrefix(n, "extsort-") || strings.HasPrefix(n, "bundle-") {
			info, _ := e.Info()
			out = append(out, fmt.Sprintf("%s (%d bytes)", n, info.Size()))
		}
	}
	return out
}

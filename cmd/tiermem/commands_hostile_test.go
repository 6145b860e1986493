package main

// A hostile operator against the tiermem command: each test runs the built
// binary (hostileBin, cli_hostile_test.go) and checks what a user relies on.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileDemoSIGTERMRemovesTempDir: demo without --dir keeps its cold
// tier in "a temporary one, removed afterwards" (its --help); a SIGTERM or
// Ctrl-C during the migration example's wait removes it too (it was once
// left, with the Managers' data in it, in $TMPDIR).
func TestHostileDemoSIGTERMRemovesTempDir(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(hostileBin(t), "demo", "--scale", "0.01", "--wait", "8s", "--progress", "never")
	cmd.Env = append(cleanEnv(), "TMPDIR="+tmp)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer cmd.Process.Kill()
	waiting := make(chan struct{})
	go func() { // the demo's output, to its end
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Waiting for automatic migration") {
				close(waiting)
			}
		}
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	select {
	case <-waiting:
	case <-exited:
		t.Fatal("the demo ended before its wait for migration")
	case <-time.After(8 * time.Second):
		t.Fatal("the demo never reached its wait for migration")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the demo still runs 10s after SIGTERM")
	}
	var left []string
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != tmp {
			left = append(left, strings.TrimPrefix(p, tmp+"/"))
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("after SIGTERM (exit %d) the demo left in $TMPDIR: %v", cmd.ProcessState.ExitCode(), left)
	}
}

// restoreSetup writes a snapshot of n keys of 4 KiB (incompressible, so
// that the cold tier writes all of it) and a target directory holding ten
// other keys, for a restore to replace them.
func restoreSetup(t *testing.T) (file, target string, n int) {
	t.Helper()
	n = 16000
	src := t.TempDir()
	m, err := tiermem.Open(src, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 4096) // incompressible, so that the cold tier writes all of it
	x := uint64(88172645463325252)
	for i := range n {
		for j := 0; j < len(val); j += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(val[j:], x)
		}
		if err := m.Store(fmt.Sprintf("snap%07d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "s.snap")
	if r := hostileExec(t, nil, "snapshot", "create", "--dir", src, "--out", file, "--progress", "never"); r.code != 0 {
		t.Fatalf("create: %s", r.stderr)
	}
	target = t.TempDir()
	m, err = tiermem.Open(target, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := m.Store(fmt.Sprintf("old%d", i), []byte("precious")); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return file, target, n
}

// restoreHalfWay starts tiermem snapshot restore of file into target and
// returns once it has written 8 MiB there (the test is skipped if it was
// done before): the process, its exit and its standard error.
func restoreHalfWay(t *testing.T, file, target string) (*exec.Cmd, <-chan error, *bytes.Buffer) {
	t.Helper()
	before := dirBytes(target)
	cmd := exec.Command(hostileBin(t), "snapshot", "restore", "--dir", target, "--from", file, "--progress", "never")
	cmd.Env = cleanEnv()
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for dirBytes(target) < before+8<<20 { // the restore is writing the snapshot's keys
		select {
		case <-exited:
			t.Skip("the restore was done before it had written 8 MiB")
		case <-time.After(2 * time.Millisecond):
		}
	}
	return cmd, exited, stderr
}

// TestHostileSnapshotRestoreSIGTERMLeavesNoHalfManager: snapshot restore
// --mode replace clears the Manager, then stores the snapshot's keys. A
// SIGTERM (or Ctrl-C, or a deploy's timeout) in between must not leave a
// directory that the next command opens as a sound Manager holding
// neither the old keys nor the snapshot's: the restore goes on to its end
// (a second signal stops it, saying what it leaves).
func TestHostileSnapshotRestoreSIGTERMLeavesNoHalfManager(t *testing.T) {
	file, target, n := restoreSetup(t)
	cmd, exited, stderr := restoreHalfWay(t, file, target)
	cmd.Process.Signal(syscall.SIGTERM)
	<-exited

	m, err := tiermem.Open(target, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		return // the half-restored directory is refused: good
	}
	defer m.Close()
	_, oldErr := m.Retrieve("old0")
	_, firstErr := m.Retrieve("snap0000000")
	_, lastErr := m.Retrieve(fmt.Sprintf("snap%07d", n-1))
	if oldErr != nil && (firstErr != nil || lastErr != nil) {
		t.Errorf("SIGTERM mid-restore (exit %d, stderr %q): the directory opens as a sound Manager with the old keys gone "+
			"(old0: %v) and only part of the snapshot (first key: %v, last key: %v)",
			cmd.ProcessState.ExitCode(), strings.TrimSpace(stderr.String()), oldErr, firstErr, lastErr)
	}
}

// dirBytes is the size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestHostileServeEmptyDirNamesTheSetting: TIERMEM_DIR= (or --dir "", or
// `dir ""` in the config file) is refused naming the setting, not with
// "creating : mkdir : no such file or directory", which names nothing.
func TestHostileServeEmptyDirNamesTheSetting(t *testing.T) {
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"TIERMEM_DIR="}, nil, "TIERMEM_DIR"},
		{nil, []string{"--dir", ""}, "--dir"},
	} {
		args := append([]string{"serve", "--addr", freeAddr(t), "--http", "", "--no-glacier"}, c.args...)
		r := hostileExec(t, c.env, args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %q: exit %d, stderr %q; want exit 1 and an error naming %s", c.env, c.args, r.code, strings.TrimSpace(r.stderr), c.want)
		}
	}
}

// TestHostilePlotFullDiskKeepsThePreviousPicture: plot --out onto a disk
// that fills up fails, and leaves the previous, whole picture where it was
// (plot once truncated it first); the new one is written beside it and
// renamed, as the bundle and snapshot commands do.
func TestHostilePlotFullDiskKeepsThePreviousPicture(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", full).Run() })
	var samples []string
	for i := range 200 {
		ts := time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339Nano)
		samples = append(samples, hostileSample(ts, int64(time.Second), "0.5", fmt.Sprint(i%100), `{"samples":0}`))
	}
	in := writeFile(t, t.TempDir(), "a.json", []byte(hostileDoc(samples...)))
	probe := filepath.Join(t.TempDir(), "probe.svg")
	if r := hostileExec(t, nil, "plot", "--from", in, "--out", probe, "--panels", "all"); r.code != 0 {
		t.Fatalf("plot: exit %d, %s", r.code, r.stderr)
	}
	fi, err := os.Stat(probe)
	if err != nil || fi.Size() < 16<<10 {
		t.Fatalf("the picture is too small to outgrow the room left: %v, %v", fi, err)
	}
	// The previous picture, 4 KiB, then a disk filled to the last block.
	out := filepath.Join(full, "analytics.svg")
	old := bytes.Repeat([]byte("<!-- the previous picture -->\n"), 4096/31)
	writeFile(t, full, "analytics.svg", old)
	filler, err := os.Create(filepath.Join(full, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Close()
	r := hostileExec(t, nil, "plot", "--from", in, "--out", out, "--panels", "all")
	if r.code == 0 {
		t.Fatalf("a %d-byte picture written onto a full disk: exit 0", fi.Size())
	}
	after, _ := os.ReadFile(out)
	if !bytes.Equal(after, old) {
		t.Errorf("plot failed on a full disk (exit %d: %s) and left %s as %d bytes of the new picture; the previous one (%d bytes) is gone",
			r.code, strings.TrimSpace(r.stderr), out, len(after), len(old))
	}
}

// TestHostileServeShutdownWaitZeroExitsZero: --shutdown-wait 0 is accepted
// ("want a positive duration, or 0") and serve's help promises that
// SIGTERM stops it with exit status 0. With no client connected at all,
// the stop must not be reported as a failure ("tiermem: context deadline
// exceeded", exit 1), which makes systemd and Kubernetes log a crash.
func TestHostileServeShutdownWaitZeroExitsZero(t *testing.T) {
	cmd, _, _, out := startServeChild(t, "TIERMEM_SHUTDOWN_WAIT=0s")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("an idle serve --shutdown-wait 0 after SIGTERM: %v; it printed:\n%s", err, out.String())
	}
}

// TestHostileServeTinyAnalyticsIntervalRefused: --analytics-interval 1ns
// (a typo for 1s) is refused naming the flag; it was once accepted, and an
// idle server then spent a whole CPU core taking samples.
func TestHostileServeTinyAnalyticsIntervalRefused(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	var out bytes.Buffer
	cmd := startHostile(t, &out, "serve", "--dir", dir, "--addr", addr, "--http", "", "--no-glacier", "--analytics-interval", "1ns")
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	select {
	case <-exited:
		if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(out.String(), "--analytics-interval") {
			t.Errorf("exit %d without naming --analytics-interval: %s", cmd.ProcessState.ExitCode(), out.String())
		}
		return // refused: good
	case <-time.After(time.Second):
	}
	before := cpuTicks(t, cmd.Process.Pid)
	time.Sleep(2 * time.Second)
	used := cpuTicks(t, cmd.Process.Pid) - before // clock ticks, 100 a second
	if used > 100 {
		t.Errorf("an idle serve --analytics-interval 1ns used %.0f%% of a CPU core for 2s", float64(used)/2)
	}
}

// cpuTicks returns the user and system clock ticks process pid has used.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	var utime, stime int64
	fmt.Sscan(fields[11], &utime) // field 14 of stat
	fmt.Sscan(fields[12], &stime) // field 15
	return utime + stime
}

// TestHostileServeTwoOnOneDir: a second serve on the --dir of a running one
// is refused with exit 1 and a message saying the directory is in use; the
// first keeps serving and its data survives.
func TestHostileServeTwoOnOneDir(t *testing.T) {
	first, dir, addr, out := startServeChild(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := bufio.NewReader(c)
	fmt.Fprint(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nfirst\r\n")
	if line, err := rd.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("SET: %q, %v", line, err)
	}
	r := hostileExec(t, nil, "serve", "--dir", dir, "--addr", freeAddr(t), "--http", "", "--no-glacier", "--cold", "256MiB")
	if r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("a second serve on the same --dir: exit %d, stderr %q", r.code, r.stderr)
	}
	fmt.Fprint(c, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	if line, err := rd.ReadString('\n'); err != nil || line != "$5\r\n" {
		t.Fatalf("GET after the second serve: %q, %v", line, err)
	}
	first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err != nil {
		t.Fatalf("first serve after SIGTERM: %v\n%s", err, out.String())
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, err := m.Retrieve("k"); err != nil || string(v) != "first" {
		t.Errorf("k after both: %q, %v", v, err)
	}
}

// TestHostileSnapshotCreateOverItsOwnStore: snapshot create --out naming a
// file of the Manager directory it snapshots (a segment of DIR/cold, as a
// tab-completed path easily gives) is refused; it once renamed the
// snapshot over the live segment, and the directory no longer opened.
func TestHostileSnapshotCreateOverItsOwnStore(t *testing.T) {
	dir := hostileManagerDir(t, 200)
	segs, err := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment in %s/cold: %v", dir, err)
	}
	r := hostileExec(t, nil, "snapshot", "create", "--dir", dir, "--out", segs[0], "--progress", "never")
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatalf("snapshot create --out %s: exit %d (%s); the Manager no longer opens: %v",
			segs[0], r.code, strings.TrimSpace(r.stdout+r.stderr), err)
	}
	defer m.Close()
	if v, err := m.Retrieve("key000007"); err != nil || !strings.HasPrefix(string(v), "value-000007-") {
		t.Errorf("after snapshot create --out %s (exit %d): key000007 = %q, %v", segs[0], r.code, v, err)
	}
	if r.code == 0 {
		t.Errorf("snapshot create --out onto the store's own segment: exit 0")
	}
}

// TestHostileGlacierMissingURLDir: a mistyped --url naming a local
// directory is refused (no such directory), as a mistyped --dir is; glacier
// ls once created it and printed "0 packs", and glacier verify said every
// pack was sound, while the real packs sat elsewhere.
func TestHostileGlacierMissingURLDir(t *testing.T) {
	dir := hostileManagerDir(t, 5)
	missing := filepath.Join(t.TempDir(), "typo", "packs")
	for _, sub := range []string{"ls", "verify"} {
		r := hostileExec(t, nil, "glacier", sub, "--dir", dir, "--url", missing)
		_, statErr := os.Stat(missing)
		if r.code == 0 || statErr == nil {
			t.Errorf("glacier %s --url <missing directory>: exit %d, directory created: %v; stdout %q",
				sub, r.code, statErr == nil, strings.TrimSpace(r.stdout))
		}
		os.RemoveAll(filepath.Dir(missing))
	}
}

// TestHostileSimEmptyTrace: a trace file with no request (an empty file, a
// wrong path to an empty log) is an error saying so, not a table of 0.00
// hit rates with exit status 0.
func TestHostileSimEmptyTrace(t *testing.T) {
	tr := writeFile(t, t.TempDir(), "empty.lirs", nil)
	r := hostileExec(t, nil, "sim", "--trace", tr, "--format", "lirs", "--progress", "never")
	if r.code == 0 {
		t.Errorf("sim of an empty trace: exit 0, stdout:\n%s", r.stdout)
	}
}

// TestHostileSnapshotRestoreKilledIsRefused: a restore SIGKILLed half way
// (no signal to catch) leaves part of the snapshot where the old keys were,
// and the directory says so: Open (serve's, snapshot create's) refuses it
// with ErrRestoreIncomplete, and the restore run again finishes it.
func TestHostileSnapshotRestoreKilledIsRefused(t *testing.T) {
	file, target, n := restoreSetup(t)
	cmd, exited, _ := restoreHalfWay(t, file, target)
	cmd.Process.Kill()
	<-exited
	o := &tiermem.Options{MigrateInterval: -1}
	if m, err := tiermem.Open(target, o); !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		if err == nil {
			m.Close()
		}
		t.Fatalf("Open of a directory whose restore was killed half way = %v, want ErrRestoreIncomplete", err)
	}
	if r := hostileExec(t, nil, "serve", "--dir", target, "--addr", freeAddr(t), "--http", "", "--no-glacier"); r.code != 1 ||
		!strings.Contains(r.stderr, "did not finish") {
		t.Errorf("serve on it: exit %d, stderr %q; want exit 1 saying the restore did not finish", r.code, strings.TrimSpace(r.stderr))
	}
	if r := hostileExec(t, nil, "snapshot", "restore", "--dir", target, "--from", file, "--progress", "never"); r.code != 0 {
		t.Fatalf("the restore run again: exit %d: %s", r.code, r.stderr)
	}
	m, err := tiermem.Open(target, o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, key := range []string{"snap0000000", fmt.Sprintf("snap%07d", n-1)} {
		if _, err := m.Retrieve(key); err != nil {
			t.Errorf("%s after the restore ran again: %v", key, err)
		}
	}
}

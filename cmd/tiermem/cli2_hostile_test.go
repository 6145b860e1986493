package main

// Hostile tests of the command as an operator uses it, second round: each
// states a guarantee the operator relies on and what went wrong before it
// held. Most run the real binary (hostileBin, hostileExec) and check its
// exit status, what it prints and what it leaves on disk.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileRepairOfALiveStoreSaysNothingFalse: repair of a store another
// process holds is refused (exit 1) and prints no report, since it read
// nothing; the error says the store was not repaired. Before, stdout said
// "0 segment files, 0 intact records" and "no damage found" of a store it
// never read: a script or an operator saw a sound, empty store.
func TestHostileRepairOfALiveStoreSaysNothingFalse(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(filepath.Join(dir, "cold"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 10 {
		if _, err := s.Put(fmt.Sprintf("k%d", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"repair", dir}, {"repair", "--dry-run", dir}} {
		r := hostileExec(t, nil, args...)
		if r.code == 0 {
			t.Fatalf("%q of a store in use: exit 0\n%s", args, r.stdout)
		}
		if r.stdout != "" || !strings.Contains(r.stderr, "not repaired") {
			t.Errorf("%q of a store in use (exit %d, %q): want no report and \"not repaired\"; stdout:\n%s",
				args, r.code, strings.TrimSpace(r.stderr), r.stdout)
		}
	}
}

// TestHostileUnknownSubcommandFails: a mistyped subcommand of a command
// group (glacier verfy, cluster stauts, snapshot crate, bundle verfy) is an
// error naming it and the group's subcommands, exit 1, as the root command
// refuses `tiermem nope`; the group alone still prints its help, exit 0.
// Before, the group printed its help and exited 0, so that `tiermem glacier
// verfy --dir D && deploy` deployed without anything having been verified.
func TestHostileUnknownSubcommandFails(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		subs string
	}{
		{[]string{"glacier", "verfy", "--dir", dir}, "compact, ls, verify"},
		{[]string{"cluster", "stauts"}, "get, put, rm, status, sweep"},
		{[]string{"snapshot", "crate"}, "create, get, info, restore, verify"},
		{[]string{"bundle", "verfy", filepath.Join(dir, "x.bundle")}, "build, get, info, verify"},
	} {
		r := hostileExec(t, nil, c.args...)
		want := fmt.Sprintf("unknown command %q", c.args[1])
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, c.subs) {
			t.Errorf("%q: exit %d, stderr %q, stdout starts %q; want exit 1, %s and its commands (%s)",
				c.args, r.code, strings.TrimSpace(r.stderr), firstLine(r.stdout), want, c.subs)
		}
	}
	for _, group := range []string{"glacier", "cluster", "snapshot", "bundle"} {
		if r := hostileExec(t, nil, group); r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
			t.Errorf("tiermem %s: exit %d, stderr %q; want its help, exit 0", group, r.code, strings.TrimSpace(r.stderr))
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestHostileSnapshotCreateOnANonManagerDir: snapshot create and glacier ls
// refuse an existing directory that is not a Manager's (no cold/: the
// parent of the data directory, $HOME, a typo that happens to exist) and
// leave it as it was. Before, they made a Manager in it (cold/, glacier/, a
// segment and a LOCK) and reported a sound Manager with no keys, exit 0:
// an empty snapshot took the place of a backup.
func TestHostileSnapshotCreateOnANonManagerDir(t *testing.T) {
	parent := t.TempDir()
	data := hostileManagerDir(t, 5)
	if err := os.Rename(data, filepath.Join(parent, "tiermem-data")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.snap")
	for _, args := range [][]string{
		{"snapshot", "create", "--dir", parent, "--out", out, "--progress", "never"},
		{"glacier", "ls", "--dir", parent},
	} {
		r := hostileExec(t, nil, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "not a Manager's directory") {
			t.Errorf("%q on the data directory's parent: exit %d, stdout %q, stderr %q; want a refusal",
				args, r.code, strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
		}
	}
	if made, _ := filepath.Glob(filepath.Join(parent, "*")); len(made) != 1 {
		t.Errorf("the parent holds %q, want only tiermem-data", made)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a snapshot was written: %v", err)
	}
}

// TestHostileRestoreIntoANewDirFailsCleanly: snapshot restore into a
// directory that does not exist yet leaves no directory behind when it
// fails: a snapshot that does not exist (a typo) is refused before the
// directory is made, and a damaged one removes the directory the restore
// made. Before, both left a new, empty Manager (cold/, glacier/, a segment,
// a LOCK), which the next serve --dir opened as a sound store with no keys.
func TestHostileRestoreIntoANewDirFailsCleanly(t *testing.T) {
	target := filepath.Join(t.TempDir(), "new-data")
	r := hostileExec(t, nil, "snapshot", "restore", "--dir", target, "--from", filepath.Join(t.TempDir(), "typo.snap"), "--progress", "never")
	if r.code == 0 {
		t.Fatalf("restore of a missing snapshot: exit 0")
	}
	if made := madeUnder(target); made != nil {
		t.Errorf("restore of a missing snapshot failed (%q) but made --dir: %q", strings.TrimSpace(r.stderr), made)
	}

	file := filepath.Join(t.TempDir(), "damaged.snap")
	m, err := tiermem.Open(hostileManagerDir(t, 20), &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Snapshot(file, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "value-000007")
	if i < 0 {
		t.Fatal("no value in the snapshot")
	}
	b[i] ^= 0x20
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = hostileExec(t, nil, "snapshot", "restore", "--dir", target, "--from", file, "--progress", "never")
	if r.code == 0 {
		t.Fatalf("restore of a damaged snapshot: exit 0")
	}
	if made := madeUnder(target); made != nil {
		t.Errorf("restore of a damaged snapshot failed (%q) but left --dir: %q", strings.TrimSpace(r.stderr), made)
	}
}

// madeUnder lists what lies under dir, nil when it does not exist.
func madeUnder(dir string) []string {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	made := []string{}
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error {
		made = append(made, strings.TrimPrefix(p, dir))
		return nil
	})
	return made
}

// TestHostileClusterEmptyNodes: --nodes "" (an unset $NODES in a script),
// "," or " " is refused naming --nodes, before any node is dialled. Before,
// "" and "," dialled localhost:6379, a node the operator never named (the
// default is 127.0.0.1:7000), and the error named that node, not the flag.
func TestHostileClusterEmptyNodes(t *testing.T) {
	for _, nodes := range []string{"", ",", " ", "host-without-port"} {
		r := hostileExec(t, nil, "cluster", "status", "--nodes", nodes, "--timeout", "3s")
		if r.code == 0 || strings.Contains(r.stderr, "6379") || !strings.Contains(r.stderr, "--nodes") {
			t.Errorf("cluster status --nodes %q: exit %d, %q; want a refusal naming --nodes, without dialling localhost:6379",
				nodes, r.code, strings.TrimSpace(r.stderr))
		}
	}
}

// TestHostileBundleInfoVerifyFailedExitsNonZero: bundle info --verify of a
// corrupt bundle prints the info with "checksums FAILED: ..." and exits 1,
// as bundle verify does. Before, it exited 0, so that `tiermem bundle info
// --verify f.bundle && ship f.bundle` shipped it.
func TestHostileBundleInfoVerifyFailedExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", []byte("a\tapple\nb\tbanana\n"))
	out := filepath.Join(dir, "f.bundle")
	if r := hostileExec(t, nil, "bundle", "build", "--in", in, "--out", out, "--progress", "never"); r.code != 0 {
		t.Fatalf("build: %s", r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "banana")
	if i < 0 {
		t.Fatal("no value in the bundle")
	}
	b[i] ^= 0x20
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileExec(t, nil, "bundle", "info", "--verify", out)
	if !strings.Contains(r.stdout, "FAILED") {
		t.Fatalf("info --verify of a damaged bundle did not report it:\n%s", r.stdout)
	}
	if r.code != 1 {
		t.Errorf("bundle info --verify: the report says FAILED, but the exit status is %d", r.code)
	}
}

// TestHostileRestoreSignals: what SIGINT and SIGTERM do to snapshot
// restore depends on whether it has begun changing the directory, and
// holds until the command ends.
//
// During verify, which reads the whole snapshot before anything is
// changed, a signal stops the restore at once (exit 130) and says nothing
// was changed: the old keys are all there. Before, the first Ctrl-C said
// "stopping it half-way would leave part of the snapshot in place of the
// keys it replaces" and a second "the directory holds part of the snapshot;
// run the restore again": both false, and following the advice replaced the
// keys the operator wanted to keep.
//
// After Restore returns, the command prints "restored N keys" and still
// runs for seconds: the Close that writes the restored hot and warm keys to
// disk and removes the RESTORING mark. A first Ctrl-C then lets that Close
// finish (exit 0, the directory opens with every key). Before, no handler
// was left by then: the signal killed it silently, and the directory stayed
// marked as an unfinished restore, which every later Open refuses.
func TestHostileRestoreSignals(t *testing.T) {
	src := t.TempDir()
	m, err := tiermem.Open(src, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 64<<10) // incompressible: verify reads it all, Close writes it all
	x := uint64(88172645463325252)
	const n = 4000 // 250 MiB in the hot tier
	for i := range n {
		for j := 0; j < len(val); j += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(val[j:], x)
		}
		if err := m.Store(fmt.Sprintf("k%05d", i), val, tiermem.InTier(tiermem.Hot)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "hot.snap")
	if _, err := m.Snapshot(file, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	open := func(dir string) (*tiermem.Manager, error) {
		return tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}})
	}
	start := func(t *testing.T, target string) (*exec.Cmd, io.ReadCloser, *strings.Builder) {
		cmd := exec.Command(hostileBin(t), "snapshot", "restore", "--dir", target, "--from", file, "--progress", "never")
		cmd.Env = cleanEnv()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr := new(strings.Builder)
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		return cmd, stdout, stderr
	}

	t.Run("DuringVerify", func(t *testing.T) {
		target := hostileManagerDir(t, 10)
		cmd, stdout, stderr := start(t, target)
		go io.Copy(io.Discard, stdout)
		maps := fmt.Sprintf("/proc/%d/maps", cmd.Process.Pid)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if b, _ := os.ReadFile(maps); strings.Contains(string(b), file) {
				break // the snapshot is mapped: Restore runs, and verifies it first
			}
			if time.Now().After(deadline) {
				t.Fatal("the restore never mapped the snapshot")
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		time.Sleep(20 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		m, oerr := open(target)
		if errors.Is(oerr, tiermem.ErrRestoreIncomplete) {
			t.Skip("the signals came after the restore began changing the directory")
		}
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer m.Close()
		v, gerr := m.Retrieve("key000009")
		if gerr != nil {
			t.Fatalf("the old keys are gone: %v", gerr)
		}
		if said := stderr.String(); strings.Contains(said, "holds part of the snapshot") || strings.Contains(said, "would leave part of the snapshot") {
			t.Errorf("two SIGINTs while the restore verified the snapshot (%v): it said\n%s"+
				"but the directory is untouched (no RESTORING mark; key000009 reads %d bytes)", err, said, len(v))
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "before the restore changed anything") {
			t.Errorf("SIGINT while the restore verified the snapshot: %v, stderr %q; want exit 130, saying nothing was changed", err, stderr.String())
		}
	})

	t.Run("DuringClose", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "restored")
		cmd, stdout, stderr := start(t, target)
		sc := bufio.NewScanner(stdout)
		var said string
		for sc.Scan() {
			if said = sc.Text(); strings.HasPrefix(said, "restored ") {
				break
			}
		}
		if !strings.HasPrefix(said, "restored ") {
			cmd.Wait()
			t.Fatalf("the restore printed no \"restored\" line: %q", stderr.String())
		}
		cmd.Process.Signal(syscall.SIGINT) // the operator's Ctrl-C once the restore says it is done
		go io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			t.Errorf("SIGINT after %q: %v, stderr %q; want the work finished and exit 0", said, err, stderr.String())
		}
		m, err := open(target)
		if err != nil {
			t.Fatalf("the restore said %q, one SIGINT came, and the directory does not open: %v", said, err)
		}
		defer m.Close()
		if _, err := m.Retrieve(fmt.Sprintf("k%05d", n-1)); err != nil {
			t.Errorf("last key after the restore: %v", err)
		}
	})
}

// TestHostileSimHugeSizeOnASmallTrace: sim's memory does not grow with
// --sizes past the trace: a replay holds at most as many entries as the
// trace has requests (a cache that holds every key never evicts, so the
// hit ratio is the same). Before, a size of 10^9 entries (a zero too many)
// on a trace of four requests made every replay, on every CPU, allocate a
// map for 10^9 keys: 1.2 GB of RSS at 5*10^7, and at 10^9 "fatal error:
// out of memory" with a runtime trace.
func TestHostileSimHugeSizeOnASmallTrace(t *testing.T) {
	dir := t.TempDir()
	tr := writeFile(t, dir, "small.lirs", []byte("1\n2\n3\n1\n"))
	cmd := exec.Command("sh", "-c", `ulimit -v 3000000 && exec "$0" "$@"`, hostileBin(t),
		"sim", "--trace", tr, "--format", "lirs", "--sizes", "4,1000000000", "--policies", "lru,s3fifo,adaptive,opt", "--progress", "never")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^ *1000000000( +25\.00){4}$`).Match(out) {
		t.Errorf("sim --sizes 4,1000000000 on a 4-request trace, under 3 GB of address space: %v\n%s", err, firstLines(string(out), 4))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestHostileServeSIGHUPKeepsAcknowledgedWrites: serve stops on SIGHUP (a
// closed terminal or ssh session, where the README's quick start runs it)
// as on SIGTERM: gracefully, the Manager closed, every acknowledged write
// on disk, exit 0. Before, SIGHUP kept Go's default action and killed it at
// once (exit 129): with the default --durability none, every write held in
// the hot tier was gone at the next start.
func TestHostileServeSIGHUPKeepsAcknowledgedWrites(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	var log strings.Builder
	cmd := startHostile(t, &log, "serve", "--dir", dir, "--addr", addr, "--http", "", "--no-glacier", "--cold", "256MiB")
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	fmt.Fprint(c, "*3\r\n$3\r\nSET\r\n$5\r\nacked\r\n$5\r\nvalue\r\n")
	if line, err := rd.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("SET: %q, %v", line, err)
	}
	c.Close()
	cmd.Process.Signal(syscall.SIGHUP)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGHUP: %v, log %q; want exit 0", err, strings.TrimSpace(log.String()))
	}
	m, oerr := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if oerr != nil {
		t.Fatal(oerr)
	}
	defer m.Close()
	if v, gerr := m.Retrieve("acked"); gerr != nil || string(v) != "value" {
		t.Errorf("serve after SIGHUP, log %q: the acknowledged key reads %q, %v", strings.TrimSpace(log.String()), v, gerr)
	}
}

// TestHostilePlotSamplesOutOfOrder: plot draws an analytics file whose
// sample times go back (the wall clock stepped back under NTP, or a VM
// resumed; the file keeps wall times) in time order, its axis from the
// earliest sample. Before, it drew them in file order, with a time axis
// from -600 to 0 labelled "Time since the first sample" and lines doubling
// back on themselves, exit 0.
func TestHostilePlotSamplesOutOfOrder(t *testing.T) {
	doc := hostileDoc(
		hostileSample("2026-01-01T00:10:00Z", 1e9, "0.5", "10", `{}`),
		hostileSample("2026-01-01T00:10:01Z", 1e9, "0.5", "20", `{}`),
		hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "30", `{}`),
		hostileSample("2026-01-01T00:00:01Z", 1e9, "0.5", "40", `{}`),
	)
	dir := t.TempDir()
	in := writeFile(t, dir, "a.json", []byte(doc))
	out := filepath.Join(dir, "a.svg")
	r := hostileExec(t, nil, "plot", "--from", in, "--out", out)
	if r.code != 0 {
		t.Fatalf("plot of samples whose times go back: exit %d, %q", r.code, strings.TrimSpace(r.stderr))
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(svg), ">-600<") || strings.Contains(string(svg), ">-300<") || strings.Contains(string(svg), ">-10<") {
		t.Errorf("plot of samples whose times go back: the axis \"Time since the first sample\" is labelled before the first sample")
	}
}

// TestHostileRepairReportLostOnWriteError: repair's report is the only
// record of what it dropped (the damaged regions, the keys lost): once it
// has repaired, the damage is gone and a second run reports nothing. When
// the report cannot be written (repair DIR > report.txt on a full disk),
// the exit status is 1 and stderr says the store was repaired but its
// report lost. Before, the exit status was 0 and the report empty.
func TestHostileRepairReportLostOnWriteError(t *testing.T) {
	dir := corruptColdStore(t)
	full := devFull(t)
	cmd := exec.Command(hostileBin(t), "repair", dir)
	cmd.Env = cleanEnv()
	cmd.Stdout = full
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil || !strings.Contains(stderr.String(), "repaired, but the report") {
		again := hostileExec(t, nil, "repair", "--dry-run", dir)
		t.Errorf("repair with its report unwritable: %v, stderr %q; want exit 1 saying the report is lost. A second run says only:\n%s",
			err, stderr.String(), again.stdout)
	}
}

// devFull opens /dev/full, where every write fails with ENOSPC.
func devFull(t *testing.T) *os.File {
	t.Helper()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { full.Close() })
	return full
}

// TestHostileOutputWriteErrorsFail: every command that prints a report
// exits 1, saying so, when standard output cannot be written, so that
// `tiermem snapshot verify f > ok.txt && ship f` does not go on with no
// record of the check. Before, glacier ls, snapshot verify, bundle verify,
// snapshot create and cluster status ignored their write errors, exit 0.
func TestHostileOutputWriteErrorsFail(t *testing.T) {
	dir := hostileManagerDir(t, 5)
	snap := filepath.Join(t.TempDir(), "a.snap")
	if r := hostileExec(t, nil, "snapshot", "create", "--dir", dir, "--out", snap, "--progress", "never"); r.code != 0 {
		t.Fatalf("snapshot create: %s", r.stderr)
	}
	full := devFull(t)
	for _, args := range [][]string{
		{"glacier", "ls", "--dir", dir},
		{"snapshot", "verify", snap},
		{"snapshot", "info", snap},
		{"bundle", "verify", snap},
		{"bundle", "info", snap},
		{"snapshot", "create", "--dir", dir, "--out", filepath.Join(t.TempDir(), "b.snap"), "--progress", "never"},
	} {
		cmd := exec.Command(hostileBin(t), args...)
		cmd.Env = cleanEnv()
		cmd.Stdout = full
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "no space left") {
			t.Errorf("%q with stdout on a full disk: %v, stderr %q; want exit 1 naming the write error", args, err, stderr.String())
		}
	}
}

// TestHostileServeUnknownVariableRefused: serve refuses a TIERMEM_*
// variable that names none of its settings, naming it and the closest
// setting, as a config file line naming no flag is refused. Before, it was
// ignored without a word: TIERMEM_REQUIRE_PASS=secret (the flags' dashes
// become underscores; requirepass has none) started a server that answered
// every client without a password.
func TestHostileServeUnknownVariableRefused(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	r := hostileExec(t, []string{"TIERMEM_REQUIRE_PASS=secret"}, "serve", "--dir", dir, "--addr", addr, "--http", "", "--no-glacier", "--cold", "256MiB")
	if r.code != 1 || !strings.Contains(r.stderr, "TIERMEM_REQUIRE_PASS") || !strings.Contains(r.stderr, "did you mean TIERMEM_REQUIREPASS") {
		t.Errorf("serve with TIERMEM_REQUIRE_PASS=secret: exit %d, stderr %q; want a refusal naming it and TIERMEM_REQUIREPASS", r.code, strings.TrimSpace(r.stderr))
	}
}

// TestHostileServeKnowsTheProjectsVariables: the TIERMEM_* variables that
// other commands, the project's scripts and cmd/tiermem's tests read are
// no error for serve (a shell that exported TIERMEM_REDIS_PASSWORD for
// cluster, or TIERMEM_BIN for benchmarks/serve/redisbench.sh, which starts
// serve with it), and every TIERMEM_* name the repository uses outside
// other packages' tests is a setting of serve or one of those: a variable
// added to a script or a command without an entry in otherVariables would
// stop serve wherever it is set.
func TestHostileServeKnowsTheProjectsVariables(t *testing.T) {
	for name := range otherVariables {
		t.Setenv(name, "x")
	}
	if _, err := resolved(t, "--dir", t.TempDir()); err != nil {
		t.Errorf("serve with every variable of otherVariables set: %v", err)
	}

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	deliberate := map[string]bool{"TIERMEM_REQUIRE_PASS": true} // the misspelling the tests above use
	serve := serveCommand(nil)
	serve.InitDefaultHelpFlag() // TIERMEM_HELP: help is a flag of serve when it runs
	flags := serve.Flags()
	name := regexp.MustCompile(`TIERMEM_[A-Z0-9_]*[A-Z0-9]`)
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := e.Name()
		if e.IsDir() {
			if path != root && strings.HasPrefix(base, ".") && base != ".ci" {
				return filepath.SkipDir // .git, and notes
			}
			return nil
		}
		ownTest := filepath.Dir(path) == filepath.Join(root, "cmd", "tiermem")
		if strings.HasSuffix(base, "_test.go") && !ownTest {
			return nil // other packages' tests set their variables on their own test binaries
		}
		ext := filepath.Ext(base)
		if ext != ".go" && ext != ".sh" && ext != ".md" && base != "Makefile" && filepath.Base(filepath.Dir(path)) != ".ci" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range name.FindAllString(string(b), -1) {
			flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(v, "TIERMEM_"), "_", "-"))
			if _, other := otherVariables[v]; !other && !deliberate[v] && flags.Lookup(flag) == nil {
				t.Errorf("%s: %s is neither a setting of serve nor in otherVariables (env.go): serve refuses it", path, v)
				deliberate[v] = true // said once
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostileClusterHelpHidesThePassword: cluster --help never shows the
// password of $TIERMEM_REDIS_PASSWORD, which the commands read when they
// run. Before, the variable was --password's default, and help printed it
// in clear (`(default "hunter2")`) to anyone looking at the screen, a
// shared terminal recording or a CI log.
func TestHostileClusterHelpHidesThePassword(t *testing.T) {
	for _, args := range [][]string{{"cluster", "--help"}, {"cluster", "status", "--help"}} {
		r := hostileExec(t, []string{"TIERMEM_REDIS_PASSWORD=hunter2-secret"}, args...)
		if strings.Contains(r.stdout+r.stderr, "hunter2-secret") {
			t.Errorf("%q prints the password of $TIERMEM_REDIS_PASSWORD: %q", args, grepLine(r.stdout, "hunter2-secret"))
		}
	}
}

func grepLine(s, sub string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestHostileClusterBadFlagsNamed: a cluster flag out of its range
// (--timeout 0 or below, --chunk-size outside 64 KiB to 32 MiB,
// --replication-factor below 1) is refused naming the flag, before any
// node is dialled. Before, --timeout 0 failed every command at once with
// "context deadline exceeded", naming neither the flag nor the reason, and
// --chunk-size -5 was reported as "ChunkSize -5", the Go field.
func TestHostileClusterBadFlagsNamed(t *testing.T) {
	for _, c := range []struct{ flag, value string }{
		{"--timeout", "0"}, {"--timeout", "-1s"}, {"--chunk-size", "-5"}, {"--chunk-size", "1GiB"}, {"--replication-factor", "0"},
	} {
		r := hostileExec(t, nil, "cluster", "status", "--nodes", "127.0.0.1:1", c.flag, c.value)
		if r.code == 0 || !strings.Contains(r.stderr, c.flag) {
			t.Errorf("cluster status %s %s: exit %d, %q; want an error naming %s", c.flag, c.value, r.code, strings.TrimSpace(r.stderr), c.flag)
		}
	}
}

// TestHostileServeZeroBudgetRefused: a tier budget of 0 (--hot 0, hot 0 in
// the config file, TIERMEM_WARM=0, --cold 0) is refused, naming where it
// was given, as CONFIG SET tiermem-hot-budget 0 is ("it needs at least 1");
// leaving the setting out gives the default. Before, 0 silently meant the
// default, a quarter of the machine's RAM for the hot tier: the opposite of
// what the operator asked for.
func TestHostileServeZeroBudgetRefused(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "zero.conf", []byte("# budgets\nhot 0\n"))
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--hot", "0"}, `"--hot"`},
		{nil, []string{"--cold", "0B"}, `"--cold"`},
		{[]string{"TIERMEM_WARM=0"}, nil, "TIERMEM_WARM"},
		{nil, []string{"--config", conf}, "zero.conf:2: hot"},
	} {
		args := append([]string{"serve", "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", ""}, c.args...)
		r := hostileExec(t, c.env, args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "at least one byte") {
			t.Errorf("%v %q: exit %d, %q; want a refusal naming %s", c.env, c.args, r.code, strings.TrimSpace(r.stderr), c.want)
		}
	}
}

// TestHostileServeNoGlacierHidesNoGlacierKeys: serve --no-glacier on a
// directory whose glacier tier holds packs (a directory served with the
// default glacier before, or a config file that gained no-glacier true) is
// refused, saying how many packs DIR/glacier holds and how to go on.
// Before, it started without a word and every key in glacier read as
// missing (GET nil, DBSIZE 0, DEL 0); they came back at the next serve
// without the flag, even those the operator had deleted meanwhile.
func TestHostileServeNoGlacierHidesNoGlacierKeys(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store("archived", []byte("precious")); err != nil {
		t.Fatal(err)
	}
	if err := m.Move("archived", tiermem.Glacier); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	r := hostileExec(t, nil, "serve", "--dir", dir, "--addr", freeAddr(t), "--http", "", "--no-glacier", "--cold", "256MiB")
	if r.code != 1 || !strings.Contains(r.stderr, "holds 1 pack") || !strings.Contains(r.stderr, "serve without --no-glacier") {
		t.Errorf("serve --no-glacier on a directory with a key in glacier: exit %d, %q; want a refusal naming the pack", r.code, strings.TrimSpace(r.stderr))
	}
}

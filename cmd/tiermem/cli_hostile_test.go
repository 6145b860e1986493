package main

// Hostile-user tests of the tiermem binary: each runs the real, built
// command against temporary directories and checks its exit status and what
// it prints.

import (
	"bufio"
	"bytes"
	"context"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

var (
	hostileBinOnce sync.Once
	hostileBinPath string
	hostileBinErr  error
)

// TestMain removes the binary hostileBin built.
func TestMain(m *testing.M) {
	code := m.Run()
	if hostileBinPath != "" {
		os.RemoveAll(filepath.Dir(hostileBinPath))
	}
	os.Exit(code)
}

// hostileBin builds the command once per test binary and returns its path.
func hostileBin(t *testing.T) string {
	t.Helper()
	hostileBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tiermem-hostile-bin")
		if err != nil {
			hostileBinErr = err
			return
		}
		hostileBinPath = filepath.Join(dir, "tiermem")
		out, err := exec.Command("go", "build", "-o", hostileBinPath, ".").CombinedOutput()
		if err != nil {
			hostileBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hostileBinErr != nil {
		t.Fatal(hostileBinErr)
	}
	return hostileBinPath
}

// hostileResult is what one run of the binary did.
type hostileResult struct {
	stdout, stderr string
	code           int // -1: killed by a signal
}

// hostileExec runs the binary with args (env added to the test's
// environment, with every TIERMEM_* variable of the test's own removed),
// stdin empty, and a deadline.
func hostileExec(t *testing.T, env []string, args ...string) hostileResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostileBin(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := hostileResult{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%q: still running after 20s", args)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Errorf("%q: a stack trace:\n%s", args, r.stderr)
	}
	return r
}

// startHostile starts the binary with args in a clean environment, its
// stdout and stderr going to out. The caller waits for it or kills it.
func startHostile(t *testing.T, out io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(hostileBin(t), args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIERMEM_") {
			env = append(env, kv)
		}
	}
	return env
}

// hostileManagerDir writes n keys into a fresh Manager directory and closes it.
func hostileManagerDir(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := m.Store(fmt.Sprintf("key%06d", i), []byte(fmt.Sprintf("value-%06d-%090d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---------------------------------------------------------------- config

// TestHostileConfigLongLineNumber: a too-long line after comments and blank
// lines must be reported at its own line number.
func TestHostileConfigLongLineNumber(t *testing.T) {
	dir := t.TempDir()
	conf := "# comment 1\n# comment 2\n\n\nlog-format json\nrequirepass " + strings.Repeat("a", 70000) + "\n"
	path := writeFile(t, dir, "long.conf", []byte(conf))
	r := hostileExec(t, nil, "serve", "--config", path, "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "")
	if r.code == 0 {
		t.Fatalf("a 70000-byte line was accepted")
	}
	if !strings.Contains(r.stderr, "long.conf:6:") {
		t.Errorf("the long line is line 6; the error says:\n%s", r.stderr)
	}
}

// TestHostileConfigBOM: a config file saved with a UTF-8 byte order mark
// (Windows editors) must be read like the same file without it.
func TestHostileConfigBOM(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "bom.conf", []byte("\ufefflog-format xml\n"))
	r := hostileExec(t, nil, "serve", "--config", path, "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "")
	if r.code == 0 {
		t.Fatal("log-format xml accepted")
	}
	if !strings.Contains(r.stderr, `log-format: "xml"`) {
		t.Errorf("want the error about the value xml, as without the BOM; got:\n%s", r.stderr)
	}
}

// TestHostileConfigCRLFAndQuoting: CRLF line endings and a quoted value
// with an escaped quote are read; a bad value names file:line.
func TestHostileConfigCRLFAndQuoting(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "crlf.conf", []byte("# c\r\nrequirepass \"a \\\"b\\\" c\"\r\n\r\ndurability sometimes\r\n"))
	r := hostileExec(t, nil, "serve", "--config", path, "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "")
	if r.code == 0 || !strings.Contains(r.stderr, "crlf.conf:4:") || !strings.Contains(r.stderr, `"sometimes"`) {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	path = writeFile(t, dir, "dup.conf", []byte("log-format xml\nlog-format json\nbogus-key 1\n"))
	r = hostileExec(t, nil, "serve", "--config", path, "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "")
	if r.code == 0 || !strings.Contains(r.stderr, "dup.conf:1:") {
		t.Errorf("duplicate key with a bad first value: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestHostileEnvBadValues: every bad TIERMEM_* value is refused, naming the
// variable, with exit status 1.
func TestHostileEnvBadValues(t *testing.T) {
	dir := t.TempDir()
	for _, kv := range []string{"TIERMEM_HOT=lots", "TIERMEM_NO_GLACIER=maybe", "TIERMEM_MAX_CLIENTS=1e3",
		"TIERMEM_DURABILITY=sometimes", "TIERMEM_SHUTDOWN_WAIT=forever", "TIERMEM_CONFIG=" + filepath.Join(dir, "missing.conf")} {
		r := hostileExec(t, []string{kv}, "serve", "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "")
		name := strings.SplitN(kv, "=", 2)[0]
		if r.code != 1 || (!strings.Contains(r.stderr, name) && name != "TIERMEM_CONFIG") {
			t.Errorf("%s: exit %d, stderr:\n%s", kv, r.code, r.stderr)
		}
	}
}

// ---------------------------------------------------------------- serve

// TestHostileServeBadLimitsRefused: negative limits and timeouts are bad
// input and must be refused, naming the flag. The TLS files given do not
// exist, so that a serve which accepts the limits stops at once, on them.
func TestHostileServeBadLimitsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][2]string{
		{"--max-clients", "-1"}, {"--max-multibulk-len", "-5"}, {"--shutdown-wait", "-1s"},
		{"--idle-timeout", "-5s"}, {"--write-timeout", "-1s"},
	} {
		r := hostileExec(t, nil, "serve", c[0], c[1], "--dir", filepath.Join(dir, "d"), "--addr", freeAddr(t), "--http", "",
			"--tls-cert", filepath.Join(dir, "no.pem"), "--tls-key", filepath.Join(dir, "no.key"))
		if r.code == 0 || !strings.Contains(r.stderr, c[0]) {
			t.Errorf("%s %s: accepted (the error is about something else): %s", c[0], c[1], strings.TrimSpace(r.stderr))
		}
	}
}

// TestHostileServeEmptyAddr: --addr "" (or TIERMEM_ADDR= or `addr ""` in
// the config file) must not make a server documented as "loopback only by
// default" listen on every interface.
func TestHostileServeEmptyAddr(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(hostileBin(t), "serve", "--addr", "", "--http", "", "--dir", dir, "--no-glacier", "--shutdown-wait", "1s")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				if cmd.ProcessState.ExitCode() == 0 {
					t.Error(`--addr "": exit 0 without serving`)
				}
				return // refused: good
			}
			if m := regexp.MustCompile(`resp=(\S+)`).FindStringSubmatch(l); m != nil {
				host, _, _ := net.SplitHostPort(m[1])
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					t.Errorf(`--addr "": serving RESP on %s, every interface, not refused: %s`, m[1], l)
				}
				cmd.Process.Signal(syscall.SIGTERM)
				cmd.Wait()
				return
			}
		case <-deadline:
			t.Fatal("neither refused nor serving after 10s")
		}
	}
}

// TestHostileServeDurabilityFromConfigSurvivesKill9: durability always set
// in the config file (not a flag or variable): every SET acknowledged
// before a SIGKILL is there after a restart.
func TestHostileServeDurabilityFromConfigSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	conf := writeFile(t, t.TempDir(), "t.conf", []byte("durability always\r\nno-glacier true\nhttp \"\"\nhot 1MiB\nwarm 1MiB\n"))
	var out bytes.Buffer
	cmd := startHostile(t, &out, "serve", "--config", conf, "--addr", addr, "--dir", dir)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	acked := 0
	for i := range 300 {
		k, v := fmt.Sprintf("k%d", i), strings.Repeat(fmt.Sprintf("%07d", i), 200)
		fmt.Fprintf(c, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
		line, err := rd.ReadString('\n')
		if err != nil || line != "+OK\r\n" {
			t.Fatalf("SET %s: %q, %v", k, line, err)
		}
		acked++
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	c.Close()
	m, err := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range acked {
		k, want := fmt.Sprintf("k%d", i), strings.Repeat(fmt.Sprintf("%07d", i), 200)
		if v, err := m.Retrieve(k); err != nil || string(v) != want {
			t.Fatalf("%s acknowledged before SIGKILL: %d bytes, %v", k, len(v), err)
		}
	}
}

// ---------------------------------------------------------------- snapshot, glacier, repair

// TestHostileSnapshotCreateMissingDir: a mistyped --dir must be an error,
// not an empty snapshot of a directory the command just created.
func TestHostileSnapshotCreateMissingDir(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "typo")
	out := filepath.Join(tmp, "s.snap")
	r := hostileExec(t, nil, "snapshot", "create", "--dir", missing, "--out", out, "--progress", "never")
	_, statErr := os.Stat(missing)
	if r.code == 0 || statErr == nil {
		t.Errorf("snapshot create --dir <missing>: exit %d, %s created: %v; stdout: %s", r.code, missing, statErr == nil, strings.TrimSpace(r.stdout))
	}
}

// TestHostileGlacierLsMissingDir: the same for glacier ls.
func TestHostileGlacierLsMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	r := hostileExec(t, nil, "glacier", "ls", "--dir", missing)
	_, statErr := os.Stat(missing)
	if r.code == 0 || statErr == nil {
		t.Errorf("glacier ls --dir <missing>: exit %d, directory created: %v; stdout: %s", r.code, statErr == nil, strings.TrimSpace(r.stdout))
	}
}

// TestHostileRepairMissingDir: repair of a directory that does not exist
// must not first report "no damage found".
func TestHostileRepairMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	r := hostileExec(t, nil, "repair", missing)
	if r.code == 0 {
		t.Fatal("repair of a missing directory: exit 0")
	}
	if strings.Contains(r.stdout, "no damage found") {
		t.Errorf("repair of a missing directory says %q before failing with: %s", "no damage found", strings.TrimSpace(r.stderr))
	}
}

// TestHostileRepairDryRunChangesNothing: --dry-run "changes nothing", and a
// directory that holds no cold store is not a store to call sound.
func TestHostileRepairDryRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "notes.txt", []byte("mine\n"))
	r := hostileExec(t, nil, "repair", "--dry-run", dir)
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 1 {
		t.Errorf("repair --dry-run of a directory holding notes.txt left %v in it", names)
	}
	if r.code == 0 && strings.Contains(r.stdout, "no damage found") {
		t.Errorf("a directory with no cold store in it is reported sound, exit 0:\n%s", r.stdout)
	}
}

// TestHostileSnapshotDamagedFiles: truncated, bit-flipped, empty and
// not-a-snapshot files are refused by info, get, verify and restore with an
// error naming the damage and exit status 1; restore leaves the target as it
// was.
func TestHostileSnapshotDamagedFiles(t *testing.T) {
	src := hostileManagerDir(t, 500)
	tmp := t.TempDir()
	file := filepath.Join(tmp, "good.snap")
	if r := hostileExec(t, nil, "snapshot", "create", "--dir", src, "--out", file, "--progress", "never"); r.code != 0 {
		t.Fatalf("create: %s", r.stderr)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	i := bytes.Index(flipped, []byte("value-000100-"))
	if i < 0 {
		t.Fatal("value not found in the file")
	}
	flipped[i+20] ^= 0x01
	cases := map[string][]byte{
		"truncated-half": good[:len(good)/2], "truncated-tail": good[:len(good)-3], "header-only": good[:128],
		"empty": nil, "flipped": flipped, "text": []byte("hello\n"),
	}
	target := hostileManagerDir(t, 3)
	for name, b := range cases {
		p := writeFile(t, tmp, name+".snap", b)
		for _, args := range [][]string{
			{"snapshot", "verify", p}, {"snapshot", "get", p, "key000100"},
			{"snapshot", "restore", "--dir", target, "--from", p, "--progress", "never"},
		} {
			r := hostileExec(t, nil, args...)
			if r.code != 1 || !strings.Contains(r.stderr, "corrupt") {
				t.Errorf("%s: %s: exit %d, stderr %q", name, args[1], r.code, r.stderr)
			}
		}
		if name != "flipped" {
			if r := hostileExec(t, nil, "snapshot", "info", p); r.code != 1 {
				t.Errorf("%s: info: exit %d", name, r.code)
			}
		}
	}
	m, err := tiermem.Open(target, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, err := m.Retrieve("key000002"); err != nil || !strings.HasPrefix(string(v), "value-000002-") {
		t.Errorf("target after refused restores: %q, %v", v, err)
	}
}

// TestHostileReadOnlyDir: a read-only directory is a clear error, exit 1,
// for serve, snapshot create and bundle build.
func TestHostileReadOnlyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	ro := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
		t.Skipf("mount: %v %s", err, out)
	}
	defer exec.Command("umount", ro).Run()
	src := hostileManagerDir(t, 10)
	in := writeFile(t, t.TempDir(), "in.tsv", []byte("a\t1\nb\t2\n"))
	for _, args := range [][]string{
		{"serve", "--dir", ro, "--addr", freeAddr(t), "--http", ""},
		{"snapshot", "create", "--dir", src, "--out", filepath.Join(ro, "s.snap"), "--progress", "never"},
		{"bundle", "build", "--in", in, "--out", filepath.Join(ro, "b.bundle"), "--progress", "never"},
	} {
		r := hostileExec(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "read-only file system") {
			t.Errorf("%s: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
	}
}

// TestHostileSnapshotFullDisk: snapshot create onto a full tmpfs fails with
// "no space left", exit 1, and leaves no file behind.
func TestHostileSnapshotFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	src := hostileManagerDir(t, 30000) // ~3.5 MiB of values
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("mount: %v %s", err, out)
	}
	defer exec.Command("umount", full).Run()
	r := hostileExec(t, nil, "snapshot", "create", "--dir", src, "--out", filepath.Join(full, "s.snap"), "--progress", "never")
	if r.code != 1 || !strings.Contains(r.stderr, "no space left") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(full); len(ents) != 0 {
		t.Errorf("left behind on the full disk: %v", ents)
	}
}

// ---------------------------------------------------------------- signals, progress

// bigJSONL writes n JSON-lines records of incompressible-looking values.
func bigJSONL(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "in.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	x := uint64(88172645463325252)
	for i := range n {
		fmt.Fprintf(w, `{"key":"k%d","value":"`, i)
		for range 25 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			fmt.Fprintf(w, "%016x", x)
		}
		w.WriteString("\"}\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// TestHostileProgressQuietInPipe: with --progress auto and stderr a pipe,
// a long build draws no bar (no carriage returns, no bar glyphs).
func TestHostileProgressQuietInPipe(t *testing.T) {
	tmp := t.TempDir()
	in := bigJSONL(t, tmp, 60000)
	r := hostileExec(t, nil, "bundle", "build", "--in", in, "--out", filepath.Join(tmp, "b.bundle"))
	if r.code != 0 {
		t.Fatalf("build: %s", r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr is a pipe, yet it got %q", r.stderr[:min(200, len(r.stderr))])
	}
}

// ---------------------------------------------------------------- other commands

// TestHostileSimEmptyPolicies: --policies "" asks for nothing; that is bad
// input, not an empty table with exit 0.
func TestHostileSimEmptyPolicies(t *testing.T) {
	tr := writeFile(t, t.TempDir(), "t.lirs", []byte("1\n2\n3\n1\n"))
	r := hostileExec(t, nil, "sim", "--trace", tr, "--format", "lirs", "--policies", "", "--progress", "never")
	if r.code == 0 {
		t.Errorf("--policies \"\": exit 0, stdout %q", r.stdout)
	}
}

// TestHostileDemoScaleNaN: --scale NaN must be refused as --scale, not
// reach the Manager as a negative budget.
func TestHostileDemoScaleNaN(t *testing.T) {
	r := hostileExec(t, nil, "demo", "--scale", "NaN", "--wait", "0", "--progress", "never", "--dir", t.TempDir())
	if r.code == 0 || !strings.Contains(r.stderr, "--scale") {
		t.Errorf("--scale NaN: exit %d, stderr %q", r.code, strings.TrimSpace(r.stderr))
	}
}

// TestHostileArgErrorsExit1: unknown commands and flags, missing required
// flags and wrong argument counts exit 1 with a message and no trace.
func TestHostileArgErrorsExit1(t *testing.T) {
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"nope"}, {"serve", "--nope"}, {"serve", "extra"}, {"snapshot", "create"}, {"snapshot", "info"},
		{"snapshot", "get", "a"}, {"bundle", "build", "--in", "x"}, {"repair"}, {"report"}, {"plot"},
		{"sim", "--trace", "x"}, {"glacier", "ls"}, {"snapshot", "restore", "--dir", tmp, "--from", filepath.Join(tmp, "none"), "--mode", "sideways"},
		{"report", "--from", tmp}, {"plot", "--from", "-", "--out", "x.gif"}, {"snapshot", "info", tmp},
	} {
		r := hostileExec(t, nil, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "tiermem:") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestHostileServeListenErrorsNameTheFlag: a bad or busy --http or --addr
// is reported with the flag's name, so that the user knows which of the
// two listeners failed.
func TestHostileServeListenErrorsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	busy := freeAddr(t)
	for _, c := range []struct {
		flag string
		args []string
	}{
		{"--http", []string{"--addr", freeAddr(t), "--http", "bogus"}},
		{"--addr", []string{"--addr", busy, "--http", busy}}, // HTTP takes the port first; RESP then fails
	} {
		r := hostileExec(t, nil, append([]string{"serve", "--dir", filepath.Join(dir, "d"), "--no-glacier"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.flag) {
			t.Errorf("%q: exit %d, the error does not name %s: %s", c.args, r.code, c.flag, strings.TrimSpace(r.stderr))
		}
	}
}

// ---------------------------------------------------------------- signals

// TestHostileBundleBuildSIGTERMRemovesTemps: SIGTERM while bundle build
// sorts (its input still open, so the stop comes mid-build) removes the
// sort runs it spilled beside --out (in its work directory) and its
// unfinished output, and exits
// 143. Before, about 40 run files (75 MB) were left per stopped build.
func TestHostileBundleBuildSIGTERMRemovesTemps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.bundle")
	cmd := exec.Command(hostileBin(t), "bundle", "build", "--in", "-", "--format", "tsv", "--memory", "1MiB", "--out", out, "--progress", "never")
	cmd.Env = cleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	go func() { // 16 MiB of records, then the input stays open
		line := []byte(strings.Repeat("v", 100) + "\n")
		w := bufio.NewWriter(stdin)
		for i := range 150000 {
			fmt.Fprintf(w, "key%08d\t", i)
			w.Write(line)
		}
		w.Flush()
	}()
	deadline := time.Now().Add(15 * time.Second)
	for len(runFiles(t, dir)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no sort run beside --out after 15 s: %v", runFiles(t, dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit status %d (%v), want 143; stderr: %s", code, err, stderr.String())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left beside --out after SIGTERM: %v; stderr: %s", names, stderr.String())
	}
}

// runFiles returns the names under dir of the sort runs (beside --out, or
// in a bundle build's work directory there) and unfinished outputs.
func runFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && (strings.HasPrefix(e.Name(), "extsort-run-") || strings.Contains(e.Name(), ".tmp-")) {
			names = append(names, e.Name())
		}
		return nil
	})
	return names
}

// TestHostileSnapshotCreateSIGTERMRemovesTemps: the same for snapshot
// create, whose sort runs and unfinished snapshot lie beside --out. The
// stop comes once a run appears; a snapshot done before is skipped.
func TestHostileSnapshotCreateSIGTERMRemovesTemps(t *testing.T) {
	data := hostileManagerDir(t, 60000)
	dir := t.TempDir()
	cmd := exec.Command(hostileBin(t), "snapshot", "create", "--dir", data, "--out", filepath.Join(dir, "s.snap"),
		"--memory", "1MiB", "--progress", "never")
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for len(runFiles(t, dir)) == 0 {
		select {
		case <-exited:
			t.Skip("the snapshot was done before a sort run appeared")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-exited
	if code := cmd.ProcessState.ExitCode(); code != 143 && code != 0 {
		t.Errorf("exit status %d, want 143 (or 0 had it just finished); stderr: %s", code, stderr.String())
	}
	if left := runFiles(t, dir); len(left) != 0 {
		t.Errorf("left beside --out after SIGTERM: %v; stderr: %s", left, stderr.String())
	}
}

// TestHostileBundleGetOfAFlippedBit: bundle get of a bundle whose value has
// one bit flipped is an error naming the damage, exit 1, never the flipped
// value (a program's Get reads the mapping unchecked; the command checks
// the file first).
func TestHostileBundleGetOfAFlippedBit(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", []byte("k1\tthe-first-value-0123456789\nk2\tanother-value\n"))
	out := filepath.Join(dir, "b.bundle")
	if r := hostileExec(t, nil, "bundle", "build", "--in", in, "--out", out, "--progress", "never"); r.code != 0 {
		t.Fatalf("bundle build: %d %s", r.code, r.stderr)
	}
	if r := hostileExec(t, nil, "bundle", "get", out, "k1"); r.code != 0 || r.stdout != "the-first-value-0123456789\n" {
		t.Fatalf("bundle get of the intact bundle: %d %q %s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte("the-first-value"))
	if at < 0 {
		t.Fatal("the value is not in the file")
	}
	b[at+4] ^= 0x01 // "the-" then 'f' becomes 'g'
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileExec(t, nil, "bundle", "get", out, "k1")
	if r.code == 0 || strings.Contains(r.stdout, "value") || !strings.Contains(r.stderr, "corrupt") {
		t.Errorf("bundle get of a flipped bit: exit %d, stdout %q, stderr %s", r.code, r.stdout, strings.TrimSpace(r.stderr))
	}
}

// TestHostileErrorsSpeakFlags: errors name the flag or the file as the user
// gave it, once: a directory given as a snapshot, a cold policy with no
// glacier, a TIERMEM_HELP left in the environment (help is asked for on the
// command line only), and no "tiermem: tiermem:".
func TestHostileErrorsSpeakFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"snapshot", "info", dir}, "is a directory"},
		{nil, []string{"bundle", "get", dir, "k"}, "is a directory"},
		{nil, []string{"serve", "--no-glacier", "--cold-policy", "lru", "--dir", filepath.Join(dir, "d"), "--http", ""}, "--cold-policy lru with --no-glacier"},
		{[]string{"TIERMEM_HELP=yes"}, []string{"serve", "--max-clients", "0", "--dir", filepath.Join(dir, "d")}, "--max-clients 0"},
	} {
		r := hostileExec(t, c.env, c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "tiermem: tiermem:") {
			t.Errorf("%v %q: exit %d, stderr %q; want exit 1 and %q once prefixed", c.env, c.args, r.code, strings.TrimSpace(r.stderr), c.want)
		}
	}
}

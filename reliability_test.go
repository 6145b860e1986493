package tiermem_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/tiermem/tiermem/tier/object"
)

// valueFor returns the bytes stored under key in the crash test: derived
// from the key, so that any key found can be checked.
func valueFor(key string) []byte {
	h := uint64(14695981039346656037)
	for i := range len(key) {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(h, 7))
	n := 100 + rng.IntN(20000)
	if strings.Contains(key, "-s") { // streamed (crashStreamEnv): large enough for a mapping of its own in warm, and staged in cold
		n = 64<<10 + rng.IntN(150<<10)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(rng.Uint32())
	}
	return v
}

const crashDirEnv = "TIERMEM_CRASH_DIR"

// crashGlacierEnv, set in the child's environment, gives it a cold budget
// of 1 MiB, so that its Stores keep demoting batches to glacier (and
// store a quarter of the keys there directly).
const crashGlacierEnv = "TIERMEM_CRASH_GLACIER"

// TestCrashChild is the child of TestCrashLosesNothingAcknowledged: it stores
// keys with Durability Always until it is killed, printing "try KEY" before
// each Store and "ack KEY" once it returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashLosesNothingAcknowledged")
	}
	if os.Getenv(crashCloseEnv) != "" {
		storeAndCloseForever(dir, os.Getenv("TIERMEM_CRASH_ROUND"))
	}
	cold, tiers := int64(1<<30), 3
	if os.Getenv(crashGlacierEnv) != "" {
		cold, tiers = 1<<20, 4
	}
	durability, switched := tiermem.Always, os.Getenv(crashSwitchEnv) != ""
	if switched {
		durability = tiermem.None
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Durability: durability, Hot: tiermem.TierOptions{Size: 256 << 10},
		Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: cold},
		Glacier: tiermem.GlacierOptions{Object: &object.Options{PackSize: 256 << 10, Compression: object.ZstdFastest}}})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	round := os.Getenv("TIERMEM_CRASH_ROUND")
	start := 0
	if switched {
		start = storeThenSwitch(m, out, round)
	}
	streamed, headers := os.Getenv(crashStreamEnv) != "", os.Getenv(crashHeaderEnv) != ""
	for i := start; ; i++ {
		key := fmt.Sprintf("r%s-k%d", round, i)
		store := func() error { return m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%tiers))) }
		if headers {
			key = fmt.Sprintf("r%s-h%d", round, i)
			store = func() error {
				if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%tiers))); err != nil {
					return err
				}
				return m.Expire(key, time.Hour)
			}
		}
		if streamed {
			key = fmt.Sprintf("r%s-s%d", round, i)
			store = func() error {
				v := valueFor(key)
				return m.StoreFrom(key, bytes.NewReader(v), int64(len(v)), tiermem.InTier(tiermem.Tier(i%tiers)))
			}
		}
		fmt.Fprintln(out, "try", key)
		out.Flush()
		if err := store(); err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(3)
		}
		fmt.Fprintln(out, "ack", key)
		out.Flush()
	}
}

// crashStreamEnv, set in the child's environment, makes it store every
// value with StoreFrom, values of 64 to 214 KiB: into hot and warm they are
// read straight into the tier's memory (warm: a mapping of their own), into
// cold staged beside the log.
const crashStreamEnv = "TIERMEM_CRASH_STREAM"

// crashHeaderEnv, set in the child's environment, makes it give every
// value it stores a TTL (Expire) before it acknowledges it: the header
// changes in the tier's entry, in the log's copy first for hot and warm.
// Its keys are named r<round>-h<i>, which checkAfterCrash checks for a TTL.
const crashHeaderEnv = "TIERMEM_CRASH_HEADER"

// crashCloseEnv, set in the child's environment, makes it store values in
// the hot and warm tiers with Durability None and Close, again and again,
// acknowledging a batch once its Close returned (with None a value is
// durable from the Close after it on): the kills land in the middle of
// Closes writing memory to the cold log.
const crashCloseEnv = "TIERMEM_CRASH_CLOSE"

// storeAndCloseForever is the child's loop under crashCloseEnv.
func storeAndCloseForever(dir, round string) {
	out := bufio.NewWriter(os.Stdout)
	fail := func(what string, err error) {
		fmt.Fprintln(out, "error", what, err)
		out.Flush()
		os.Exit(3)
	}
	for batch := 0; ; batch++ {
		m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 4 << 20},
			Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
		if err != nil {
			fail("open", err)
		}
		var keys []string
		for i := range 300 {
			key := fmt.Sprintf("r%s-c%d-%d", round, batch, i)
			fmt.Fprintln(out, "try", key)
			if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%2))); err != nil {
				fail("store", err)
			}
			keys = append(keys, key)
		}
		out.Flush()
		if err := m.Close(); err != nil {
			fail("close", err)
		}
		for _, key := range keys {
			fmt.Fprintln(out, "ack", key)
		}
		out.Flush()
	}
}

// crashSwitchEnv, set in the child's environment, makes it open with
// Durability None, store keys in memory, and switch to Always with
// SetDurability before it acknowledges them.
const crashSwitchEnv = "TIERMEM_CRASH_SWITCH"

// storeThenSwitch stores 40 keys in the hot and warm tiers with None, then
// sets Always and acknowledges them: SetDurability has made them durable.
// It returns the next key's number.
func storeThenSwitch(m *tiermem.Manager, out *bufio.Writer, round string) int {
	const n = 40
	for i := range n {
		key := fmt.Sprintf("r%s-k%d", round, i)
		fmt.Fprintln(out, "try", key)
		if err := m.Store(key, valueFor(key), tiermem.InTier(tiermem.Tier(i%2))); err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(3)
		}
	}
	out.Flush()
	if err := m.SetDurability(tiermem.Always); err != nil {
		fmt.Fprintln(out, "error", err)
		out.Flush()
		os.Exit(3)
	}
	for i := range n {
		fmt.Fprintf(out, "ack r%s-k%d\n", round, i)
	}
	out.Flush()
	return n
}

// TestCrashAfterSetDurabilityLosesNothing kills the child after it stored
// values in memory with None and switched to Always: every value it
// acknowledged, those stored before the switch too, is back after the kill.
func TestCrashAfterSetDurabilityLosesNothing(t *testing.T) {
	_, acked := crashRounds(t, 15, crashSwitchEnv+"=1")
	if acked < 15*40 {
		t.Errorf("%d keys acknowledged over 15 rounds: the switch's keys were not all counted", acked)
	}
}

// TestCrashWhileStreamingLosesNothing kills a child streaming values
// (StoreFrom) into the hot, warm and cold tiers with Durability Always, 15
// times: every acknowledged value is back, and a cut-off one is absent or
// whole.
func TestCrashWhileStreamingLosesNothing(t *testing.T) {
	crashRounds(t, 15, crashStreamEnv+"=1")
}

// TestCrashWhileClosingLosesNothingAcknowledged kills a child that stores
// batches in hot and warm with Durability None and closes after each, 15
// times: every value of a batch whose Close returned is back, and a value
// of a batch whose Close was cut off is absent or whole, never torn.
func TestCrashWhileClosingLosesNothingAcknowledged(t *testing.T) {
	crashRounds(t, 15, crashCloseEnv+"=1")
}

// TestCrashAfterHeaderChangesLosesNothing kills a child that stores values
// in hot, warm and cold with Durability Always and gives each a TTL before
// acknowledging it, 15 times: every acknowledged value is back with its
// TTL.
func TestCrashAfterHeaderChangesLosesNothing(t *testing.T) {
	crashRounds(t, 15, crashHeaderEnv+"=1")
}

// TestCrashLosesNothingAcknowledged kills a child process storing with
// Durability Always at random moments, 50 times, and checks after each kill
// that every acknowledged key is back, byte for byte, and that a key whose
// Store was cut off is either absent or whole.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	crashRounds(t, 50)
}

// TestCrashWhileDemotingToGlacierLosesNothing is the same with a cold
// budget of 1 MiB: the kills land between a batch's upload to glacier and
// its delete from cold, and during Stores straight into glacier.
func TestCrashWhileDemotingToGlacierLosesNothing(t *testing.T) {
	dir, acked := crashRounds(t, 25, crashGlacierEnv+"=1")
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	// A quarter of the keys were stored in glacier; more there means demotions.
	if u := m.Usage(); u[tiermem.Glacier].Items < int64(acked)*2/5 {
		t.Errorf("glacier holds %d of %d keys: the kills did not land among demotions", u[tiermem.Glacier].Items, acked)
	}
}

// crashRounds kills the child rounds times, each time after a random
// 10–100 ms, and checks every acknowledged key after each kill.
func crashRounds(t *testing.T, rounds int, env ...string) (dir string, acks int) {
	dir = t.TempDir()
	rng := rand.New(rand.NewPCG(2026, 11))
	acked := map[string]bool{}
	for round := range rounds {
		tried, ack := crashOnce(t, dir, round, time.Duration(10+rng.IntN(90))*time.Millisecond, env...)
		for _, key := range ack {
			acked[key] = true
		}
		checkAfterCrash(t, dir, round, acked, tried)
	}
	t.Logf("%d keys acknowledged over %d kills", len(acked), rounds)
	if len(acked) < rounds {
		t.Errorf("only %d keys acknowledged over %d rounds: the child barely ran", len(acked), rounds)
	}
	return dir, len(acked)
}

// crashOnce runs the child for about d, kills it with SIGKILL and returns
// the keys it tried and those it acknowledged.
func crashOnce(t *testing.T, dir string, round int, d time.Duration, env ...string) (tried, acked []string) {
	t.Helper()
	cmd := childtest.Command("TestCrashChild", crashDirEnv+"="+dir, fmt.Sprint("TIERMEM_CRASH_ROUND=", round))
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitForFirstAck(t, lines, &tried, &acked)
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	for line := range lines {
		collect(t, line, &tried, &acked)
	}
	cmd.Wait()
	return tried, acked
}

// waitForFirstAck reads the child's output until its first acknowledgement,
// so that every round stores something before the kill.
func waitForFirstAck(t *testing.T, lines <-chan string, tried, acked *[]string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for len(*acked) == 0 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the child exited before storing anything")
			}
			collect(t, line, tried, acked)
		case <-deadline:
			t.Fatal("the child stored nothing in 30 s")
		}
	}
}

func collect(t *testing.T, line string, tried, acked *[]string) {
	switch verb, key, _ := strings.Cut(line, " "); verb {
	case "try":
		*tried = append(*tried, key)
	case "ack":
		*acked = append(*acked, key)
	case "error", "open:":
		t.Fatalf("child: %s", line)
	}
}

// checkAfterCrash reopens the Manager and checks the keys.
func checkAfterCrash(t *testing.T, dir string, round int, acked map[string]bool, tried []string) {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1,
		Cold: tiermem.TierOptions{Size: 1 << 30}})
	if err != nil {
		t.Fatalf("round %d: Open after the kill: %v", round, err)
	}
	defer m.Close()
	for key := range acked {
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, valueFor(key)) {
			t.Fatalf("round %d: acknowledged %s: %d bytes, %v", round, key, len(got), err)
		}
		if _, i, _ := strings.Cut(key, "-h"); i != "" {
			if at, err := m.ExpireTime(key); err != nil || at.IsZero() {
				t.Fatalf("round %d: acknowledged %s came back without the TTL it was given: %v", round, key, err)
			}
		}
	}
	for _, key := range tried {
		got, err := m.Retrieve(key)
		if err == nil && !bytes.Equal(got, valueFor(key)) {
			t.Fatalf("round %d: %s came back torn (%d bytes)", round, key, len(got))
		}
		if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("round %d: %s: %v", round, key, err)
		}
	}
}

// segments returns the cold tier's segment files, oldest first.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	must(t, err)
	if len(files) == 0 {
		entries, _ := os.ReadDir(filepath.Join(dir, "cold"))
		t.Fatalf("no segment files in %s/cold: %v", dir, entries)
	}
	sort.Strings(files)
	return files
}

// storeColdAndClose stores n keys of valueFor bytes in the cold tier of a new
// Manager in dir and closes it.
func storeColdAndClose(t *testing.T, dir string, n int) {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 1 << 30}})
	must(t, err)
	for i := range n {
		key := fmt.Sprint("key", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Close())
}

func TestFlippedByteIsCorruptForThatKeyOnly(t *testing.T) {
	dir := t.TempDir()
	storeColdAndClose(t, dir, 20)
	seg := segments(t, dir)[0]
	data, err := os.ReadFile(seg)
	must(t, err)
	victim := valueFor("key7")
	at := bytes.Index(data, victim[40:80])
	if at < 0 {
		t.Fatal("the value of key7 is not in the segment")
	}
	data[at+10] ^= 0x40
	must(t, os.WriteFile(seg, data, 0o644))

	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 1 << 30}})
	must(t, err)
	defer m.Close()
	if _, err := m.Retrieve("key7"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("the flipped value: %v, want ErrCorrupt", err)
	}
	for i := range 20 {
		if key := fmt.Sprint("key", i); i != 7 {
			got, err := m.Retrieve(key)
			if err != nil || !bytes.Equal(got, valueFor(key)) {
				t.Errorf("%s: %v", key, err)
			}
		}
	}
}

// TestTruncatedSegmentKeepsCompleteRecords: the tail segment cut short as
// a crash leaves it (unsealed, no hint file) keeps its complete records and
// drops the cut one; cut after a clean Close sealed it, the same cut is
// damage, ErrCorrupt at Open (its lost records may have been newer values).
func TestTruncatedSegmentKeepsCompleteRecords(t *testing.T) {
	dir := t.TempDir()
	storeColdAndClose(t, dir, 20)
	seg := segments(t, dir)
	last := seg[len(seg)-1]
	st, err := os.Stat(last)
	must(t, err)
	must(t, os.Truncate(last, st.Size()-int64(len(valueFor("key19"))/2)))
	for _, hint := range must2(filepath.Glob(filepath.Join(dir, "cold", "*.hint"))) {
		os.Remove(hint) // a crash before the hint was written
	}
	opts := &tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 1 << 30}}
	if _, err := tiermem.Open(dir, opts); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Open with the sealed tail segment cut: %v, want ErrCorrupt", err)
	}
	unsealSegment(t, last) // as a crash leaves it: sealing comes with the hint file
	m, err := tiermem.Open(dir, opts)
	must(t, err)
	defer m.Close()
	for i := range 19 {
		key := fmt.Sprint("key", i)
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, valueFor(key)) {
			t.Errorf("%s, a complete record: %v", key, err)
		}
	}
	if _, err := m.Retrieve("key19"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("the cut record: %v, want ErrNotFound", err)
	}
}

// unsealSegment clears the seal from the header of cold segment file path
// (docs/cold-format.md: flags bit 1, the record count at byte 24), as a
// segment is before it gets its hint file.
func unsealSegment(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	h := make([]byte, 32)
	_, err = f.ReadAt(h, 0)
	must(t, err)
	h[12] &^= 1 << 1
	clear(h[24:28])
	binary.LittleEndian.PutUint32(h[28:], uint32(xxh3.Hash(h[:28])))
	_, err = f.WriteAt(h, 0)
	must(t, err)
}

func must2[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFullDiskFailsCleanlyAndRecovers(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 64 << 10}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	tiermem.SetColdFS(&o, fault)
	m := open(t, &o)
	must(t, m.Store("before", []byte("safe"), tiermem.InTier(tiermem.Cold)))
	fault.SetSpace(1000)
	big := make([]byte, 100<<10) // incompressible
	for i := range big {
		big[i] = byte(i*7919>>5) ^ byte(i*31)
	}
	copy(big, valueFor("big"))
	err := m.Store("big", big, tiermem.InTier(tiermem.Cold))
	if !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Store on a full disk = %v, want ErrNoSpace", err)
	}
	// Demotions into the full cold tier fail the Store that needs room, too.
	for i := range 3 {
		if err := m.Store(fmt.Sprint("hot", i), valueFor(fmt.Sprint("hot", i)), tiermem.InTier(tiermem.Hot)); err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
			t.Fatalf("a Store needing demotion: %v", err)
		}
	}
	if got, err := m.Retrieve("before"); err != nil || string(got) != "safe" {
		t.Fatalf("earlier data after the full disk: %q, %v", got, err)
	}
	fault.SetSpace(-1)
	must(t, m.Store("big", big, tiermem.InTier(tiermem.Cold)))
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, big) {
		t.Errorf("after space returned: %v", err)
	}
}

// TestFlippedKeyFailsOpenClosed is issue 9's reproduction through the
// Manager: overwrite a cold key, flip a bit in the newest record's key,
// remove the hint files (a crash's state): Open fails with ErrCorrupt
// naming the file and offset, never serving the older value; after a
// repair the key reads its newest value (a one-bit flip is corrected) or
// not at all, never the older one.
func TestFlippedKeyFailsOpenClosed(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.Store("victim", []byte("old value"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("victim", []byte("new value"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("after", []byte("a later record"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Close())
	seg := segments(t, dir)[0]
	data, err := os.ReadFile(seg)
	must(t, err)
	at := bytes.LastIndex(data, []byte("victim"))
	data[at+2] ^= 0x04
	must(t, os.WriteFile(seg, data, 0o644))
	for _, hint := range must2(filepath.Glob(filepath.Join(dir, "cold", "*.hint"))) {
		os.Remove(hint)
	}
	_, err = tiermem.Open(dir, &o)
	if !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(seg)) {
		t.Fatalf("Open over a flipped key = %v, want ErrCorrupt naming %s", err, filepath.Base(seg))
	}
	if _, err := disk.Repair(filepath.Join(dir, "cold"), nil); err != nil {
		t.Fatal(err)
	}
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	if got, err := m.Retrieve("victim"); err == nil && string(got) != "new value" {
		t.Errorf("after repair the damaged key reads %q, want the newest value or none, never the older one", got)
	}
	if got, err := m.Retrieve("after"); err != nil || string(got) != "a later record" {
		t.Errorf("an intact record after repair: %q, %v", got, err)
	}
}

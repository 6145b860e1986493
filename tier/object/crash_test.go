package object_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// The crash test runs a child process (this test binary again) that puts
// keys in batches from several goroutines, as the Manager demotes: Put a
// batch, Sync, and only then print the keys (the cold tier would delete
// them now). It also deletes some keys (printed once a Sync followed) and
// compacts. The parent SIGKILLs it at a random moment, reopens the store
// and checks that every printed key is there byte for byte, every printed
// delete holds, and no key reads anything but its own value.

const (
	crashDirEnv   = "TIERMEM_OBJECT_CRASH_DIR"
	crashRoundEnv = "TIERMEM_OBJECT_CRASH_ROUND"
	crashWriters  = 3
	crashBatch    = 8
)

var crashOptions = &object.Options{PackSize: 32 << 10, Compression: object.ZstdFastest}

// crashValue is the value stored under key: 50 to 4050 bytes that follow
// from the key.
func crashValue(key string) []byte {
	h := fnv.New32a()
	h.Write([]byte(key))
	n := 50 + int(h.Sum32()%4000)
	return bytes.Repeat([]byte(key), n/len(key)+1)[:n]
}

// TestCrashChild is the child's body; it only runs under crashDirEnv.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("the child of TestCrashKill")
	}
	b, err := object.OpenDir(dir)
	if err == nil {
		var s *object.Store
		if s, err = object.Open(b, crashOptions); err == nil {
			crashWrite(s)
		}
	}
	fmt.Println("open:", err)
	os.Exit(2)
}

// crashWrite runs the child's writers and never returns.
func crashWrite(s *object.Store) {
	var out sync.Mutex
	say := func(lines []string) {
		out.Lock()
		defer out.Unlock()
		fmt.Print(strings.Join(lines, "")) // one write(2) per batch
	}
	fmt.Println("ready")
	for g := range crashWriters {
		go func() {
			for batch := 0; ; batch++ {
				say(crashBatchOf(s, g, batch))
			}
		}()
	}
	select {}
}

// crashBatchOf puts a batch, deletes one key of the previous batch, syncs
// (compacting every fifth batch) and returns the lines to print.
func crashBatchOf(s *object.Store, g, batch int) []string {
	var lines []string
	for i := range crashBatch {
		key := fmt.Sprintf("r%s-w%d-%d-%d", os.Getenv(crashRoundEnv), g, batch, i)
		if _, err := s.Put(key, crashValue(key), []byte(key)); err != nil {
			crashFail("put", err)
		}
		lines = append(lines, "ok "+key+"\n")
	}
	if batch > 0 {
		key := fmt.Sprintf("r%s-w%d-%d-%d", os.Getenv(crashRoundEnv), g, batch-1, batch%crashBatch)
		if _, err := s.Delete(key); err != nil {
			crashFail("delete", err)
		}
		lines = append(lines, "del "+key+"\n")
	}
	sync := s.Sync
	if batch%5 == 4 {
		sync = s.Compact
	}
	if err := sync(); err != nil {
		crashFail("sync", err)
	}
	return lines
}

func crashFail(what string, err error) {
	fmt.Println(what+":", err)
	os.Exit(3)
}

func TestCrashKill(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	rounds := 20
	if testing.Short() {
		rounds = 8
	}
	dir := t.TempDir()
	acked, deleted := map[string]bool{}, map[string]bool{}
	for round := range rounds {
		err := runAndKill(dir, round, time.Duration(20+rand.IntN(200))*time.Millisecond, acked, deleted)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkCrashRecovery(t, dir, round, acked, deleted)
	}
	t.Logf("%d acknowledged keys, %d acknowledged deletes over %d kills", len(acked), len(deleted), rounds)
}

// runAndKill starts the child, kills it after d of writing and records
// what it acknowledged.
func runAndKill(dir string, round int, d time.Duration, acked, deleted map[string]bool) error {
	cmd := childtest.Command("TestCrashChild", crashDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashRoundEnv, round))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		return fmt.Errorf("child did not start: %q", lines.Text())
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for lines.Scan() {
		if err := record(lines.Text(), acked, deleted); err != nil {
			cmd.Process.Kill()
			return err
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	return nil
}

// record notes one line of the child's.
func record(line string, acked, deleted map[string]bool) error {
	if key, ok := strings.CutPrefix(line, "ok "); ok {
		acked[key] = true
		return nil
	}
	if key, ok := strings.CutPrefix(line, "del "); ok {
		delete(acked, key)
		deleted[key] = true
		return nil
	}
	return fmt.Errorf("child says %q", line)
}

// checkCrashRecovery reopens dir and checks what was acknowledged, and
// every key present.
func checkCrashRecovery(t *testing.T, dir string, round int, acked, deleted map[string]bool) {
	t.Helper()
	s, err := object.Open(mustDir(t, dir), crashOptions)
	if err != nil {
		t.Fatalf("round %d: Open after the kill: %v", round, err)
	}
	defer s.Close()
	for key := range acked {
		got, meta, err := s.GetMeta(key, nil)
		if errors.Is(err, tier.ErrNotFound) && deleteTarget(key) {
			continue // the next batch's delete, done but not acknowledged
		}
		if err != nil || !bytes.Equal(got, crashValue(key)) || string(meta) != key {
			t.Fatalf("round %d: acknowledged %q: %d bytes, meta %q, %v", round, key, len(got), meta, err)
		}
	}
	for key := range deleted {
		if _, err := get(s, key); !errors.Is(err, tier.ErrNotFound) {
			t.Fatalf("round %d: %q, deleted and synced, reads %v", round, key, err)
		}
	}
	var keys []string
	must(t, s.Scan(func(key string, _ []byte, _ int64) error { keys = append(keys, key); return nil }))
	for _, key := range keys {
		if got, err := get(s, key); err != nil || !bytes.Equal(got, crashValue(key)) {
			t.Fatalf("round %d: %q reads %d bytes, %v", round, key, len(got), err)
		}
	}
}

// deleteTarget reports whether key is the one the writer's next batch
// deletes (see crashBatchOf).
func deleteTarget(key string) bool {
	var round, g, batch, i int
	if _, err := fmt.Sscanf(key, "r%d-w%d-%d-%d", &round, &g, &batch, &i); err != nil {
		return false
	}
	return i == (batch+1)%crashBatch
}

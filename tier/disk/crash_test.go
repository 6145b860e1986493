package disk_test

import (
	"bufio"
	"bytes"
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
	"github.com/tiermem/tiermem/tier/disk"
)

// The crash test runs a child process (this test binary again) that stores
// keys with SyncAlways from several goroutines and prints each key once Put
// has returned; the parent SIGKILLs it at a random moment, reopens the
// store and checks that every printed key is there, byte for byte, and that
// no key reads back anything but the value it was stored with.

const (
	crashDirEnv   = "TIERMEM_DISK_CRASH_DIR"
	crashRoundEnv = "TIERMEM_DISK_CRASH_ROUND"
	crashRounds   = 50
	crashWriters  = 4
)

var crashOptions = &disk.Options{Sync: disk.SyncAlways, SegmentSize: 256 << 10}

// crashValue is the value stored under key: 50 to 2050 bytes that follow
// from the key.
func crashValue(key string) []byte {
	h := fnv.New32a()
	h.Write([]byte(key))
	n := 50 + int(h.Sum32()%2000)
	return bytes.Repeat([]byte(key), n/len(key)+1)[:n]
}

// TestCrashChild is the child's body; it only runs under crashDirEnv.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("the child of TestCrashKill")
	}
	s, err := disk.Open(dir, crashOptions)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	fmt.Println("ready")
	for g := range crashWriters {
		go func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("r%s-w%d-%d", os.Getenv(crashRoundEnv), g, i)
				if _, err := s.Put(key, crashValue(key), nil); err != nil {
					fmt.Println("put:", err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Println("ok", key) // one write(2): once it returns, the parent can read it
				out.Unlock()
			}
		}()
	}
	select {}
}

func TestCrashKill(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	var acked []string
	for round := range crashRounds {
		keys, err := runAndKill(dir, round, time.Duration(10+rand.IntN(91))*time.Millisecond)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		acked = append(acked, keys...)
		checkCrashRecovery(t, dir, round, acked)
	}
	t.Logf("%d acknowledged keys over %d kills", len(acked), crashRounds)
}

// runAndKill starts the child, kills it after d of writing and returns the
// keys it acknowledged.
func runAndKill(dir string, round int, d time.Duration) ([]string, error) {
	cmd := childtest.Command("TestCrashChild", crashDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashRoundEnv, round))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("child did not start: %q", lines.Text())
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var keys []string
	for lines.Scan() {
		key, ok := strings.CutPrefix(lines.Text(), "ok ")
		if !ok {
			return nil, fmt.Errorf("child says %q", lines.Text())
		}
		keys = append(keys, key)
	}
	io.Copy(io.Discard, stdout)
	cmd.Wait()
	return keys, nil
}

// checkCrashRecovery reopens dir and checks every acknowledged key, and
// every key present.
func checkCrashRecovery(t *testing.T, dir string, round int, acked []string) {
	t.Helper()
	s, err := disk.Open(dir, crashOptions)
	if err != nil {
		t.Fatalf("round %d: Open after the kill: %v", round, err)
	}
	defer s.Close()
	for _, key := range acked {
		got, err := s.Get(key, nil)
		if err != nil || !bytes.Equal(got, crashValue(key)) {
			t.Fatalf("round %d: acknowledged %q: %d bytes, %v", round, key, len(got), err)
		}
	}
	err = s.Scan(func(key string, _ []byte, _ int64) error {
		got, err := s.Get(key, nil)
		if err != nil || !bytes.Equal(got, crashValue(key)) {
			return fmt.Errorf("%q reads %d bytes, %v", key, len(got), err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: a torn record surfaced: %v", round, err)
	}
}

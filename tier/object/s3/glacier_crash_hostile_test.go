package s3_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

const (
	hostileCrashDirEnv      = "TIERMEM_HOSTILE_CRASH_DIR"
	hostileCrashURLEnv      = "TIERMEM_HOSTILE_CRASH_URL"
	hostileCrashScenarioEnv = "TIERMEM_HOSTILE_CRASH_SCENARIO"
)

// hostileCrashOptions open a Manager over the S3 prefix url, with small
// budgets, small packs, no loop and Durability d.
func hostileCrashOptions(url string, d tiermem.Durability) *tiermem.Options {
	return &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1, Durability: d,
		Glacier: tiermem.GlacierOptions{URL: url, Object: &object.Options{PackSize: 64 << 10,
			Compression: object.ZstdFastest, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}},
	}
}

// TestGlacierHostileCrashChild is no test of its own: the crash tests of
// this file run it in a child process, which plays one scenario against
// the S3 server and exits without Close, as a crash would.
func TestGlacierHostileCrashChild(t *testing.T) {
	dir, url := os.Getenv(hostileCrashDirEnv), os.Getenv(hostileCrashURLEnv)
	if dir == "" || url == "" {
		t.Skip("run by the crash tests of this file")
	}
	s3test.Endpoint(t) // sets the test credentials
	fail := func(format string, args ...any) {
		fmt.Printf("child error: "+format+"\n", args...)
		os.Exit(3)
	}
	m, err := tiermem.Open(dir, hostileCrashOptions(url, tiermem.Always))
	if err != nil {
		fail("open: %v", err)
	}
	v1, v2 := []byte("version one, long gone"), []byte("version two, then deleted")
	switch s := os.Getenv(hostileCrashScenarioEnv); s {
	case "store-cold-then-delete":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Glacier)); err != nil { // durable in the bucket
			fail("%v", err)
		}
		if err := m.Store("k", v2, tiermem.InTier(tiermem.Cold)); err != nil {
			fail("%v", err)
		}
		if err := m.Delete("k"); err != nil {
			fail("%v", err)
		}
	case "move-to-cold-then-delete":
		if err := m.Store("k", v1, tiermem.InTier(tiermem.Glacier)); err != nil {
			fail("%v", err)
		}
		if err := m.Move("k", tiermem.Cold); err != nil {
			fail("%v", err)
		}
		if err := m.Delete("k"); err != nil {
			fail("%v", err)
		}
	default:
		fail("unknown scenario %q", s)
	}
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		fail("k before the crash: %v", err)
	}
	fmt.Println("ack")
	os.Exit(0) // a crash: no Close
}

// hostileCrash runs a scenario in a child process against a fresh S3
// prefix and returns the directory and the URL it left.
func hostileCrash(t *testing.T, scenario string) (dir, url string) {
	t.Helper()
	ep := s3test.Endpoint(t)
	dir, url = t.TempDir(), s3test.URL(t)
	cmd := childtest.Command("TestGlacierHostileCrashChild", hostileCrashDirEnv+"="+dir, hostileCrashURLEnv+"="+url,
		hostileCrashScenarioEnv+"="+scenario, "TIERMEM_S3_ENDPOINT="+ep)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ack") {
		t.Fatalf("child %s: %v\n%s", scenario, err, out)
	}
	return dir, url
}

// checkDeletedAfterCrash reopens dir over url and wants k absent.
func checkDeletedAfterCrash(t *testing.T, dir, url, what string) {
	t.Helper()
	m, err := tiermem.Open(dir, hostileCrashOptions(url, tiermem.Always))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		tr, _ := m.Tier("k")
		t.Fatalf("%s, all with Durability Always, then a crash: k reads %q (from %v), %v; "+
			"want ErrNotFound: an acknowledged Delete was undone and an older value came back", what, got, tr, err)
	}
}

// TestGlacierHostileDeleteAfterStoreOverGlacierKeySurvivesCrash: with
// Durability Always, k is stored into glacier (durable in the bucket),
// then stored again into cold (the glacier copy is dropped with a
// tombstone that only the next glacier Sync uploads), then deleted. The
// Delete finds no glacier copy, so it does not sync glacier; the cold log
// records the delete durably. After a crash the old glacier frame is the
// only record of k, and k comes back with the first value.
func TestGlacierHostileDeleteAfterStoreOverGlacierKeySurvivesCrash(t *testing.T) {
	dir, url := hostileCrash(t, "store-cold-then-delete")
	checkDeletedAfterCrash(t, dir, url, "Store k into glacier, Store k into cold, Delete k")
}

// TestGlacierHostileDeleteAfterMoveFromGlacierSurvivesCrash: the same with
// a Move from glacier to cold in place of the second Store.
func TestGlacierHostileDeleteAfterMoveFromGlacierSurvivesCrash(t *testing.T) {
	dir, url := hostileCrash(t, "move-to-cold-then-delete")
	checkDeletedAfterCrash(t, dir, url, "Store k into glacier, Move k to cold, Delete k")
}

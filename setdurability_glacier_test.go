package tiermem_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
)

const (
	switchCrashDirEnv      = "TIERMEM_SWITCH_CRASH_DIR"
	switchCrashScenarioEnv = "TIERMEM_SWITCH_CRASH_SCENARIO"
)

func switchCrashOptions() *tiermem.Options {
	return &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
}

// TestSetDurabilityChild is no test of its own: the tests below run it
// in a child process, which plays a scenario with Durability None, calls
// SetDurability(Always), prints "ack" and exits without Close, as a crash
// (SIGKILL) would.
func TestSetDurabilityChild(t *testing.T) {
	dir := os.Getenv(switchCrashDirEnv)
	if dir == "" {
		t.Skip("run by the SetDurability crash tests")
	}
	fail := func(err error) {
		fmt.Println("child error:", err)
		os.Exit(3)
	}
	m, err := tiermem.Open(dir, switchCrashOptions())
	if err != nil {
		fail(err)
	}
	switch os.Getenv(switchCrashScenarioEnv) {
	case "store-in-glacier":
		if err := m.Store("k", []byte("version one, acknowledged"), tiermem.InTier(tiermem.Glacier)); err != nil {
			fail(err)
		}
	case "delete-from-glacier":
		if err := m.Store("k", []byte("deleted"), tiermem.InTier(tiermem.Glacier)); err != nil {
			fail(err)
		}
		if err := m.Migrate(); err != nil { // the glacier copy is durable
			fail(err)
		}
		if err := m.Delete("k"); err != nil {
			fail(err)
		}
	}
	if err := m.SetDurability(tiermem.Always); err != nil {
		fail(err)
	}
	fmt.Println("ack")
	os.Exit(0) // a crash: no Close
}

func switchCrash(t *testing.T, scenario string) *tiermem.Manager {
	t.Helper()
	dir := t.TempDir()
	cmd := childtest.Command("TestSetDurabilityChild", switchCrashDirEnv+"="+dir, switchCrashScenarioEnv+"="+scenario)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ack") {
		t.Fatalf("child %s: %v\n%s", scenario, err, out)
	}
	m, err := tiermem.Open(dir, switchCrashOptions())
	must(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// TestSetDurabilityMakesGlacierStoresDurable: "when it returns, every
// value stored before it is on disk", glacier's too: a value stored straight
// into glacier with None (durable "at the next migration pass or Close")
// survives a crash after SetDurability(Always) returned.
func TestSetDurabilityMakesGlacierStoresDurable(t *testing.T) {
	m := switchCrash(t, "store-in-glacier")
	got, err := m.Retrieve("k")
	if err != nil || string(got) != "version one, acknowledged" {
		t.Fatalf("stored into glacier with None, then SetDurability(Always) returned nil, then a crash: k reads %q, %v", got, err)
	}
}

// TestSetDurabilityMakesGlacierDeletesDurable: likewise a Delete of a
// glacier key made with None stays deleted after SetDurability(Always) and
// a crash.
func TestSetDurabilityMakesGlacierDeletesDurable(t *testing.T) {
	m := switchCrash(t, "delete-from-glacier")
	if got, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("deleted with None, then SetDurability(Always) returned nil, then a crash: k reads %q, %v (want ErrNotFound)", got, err)
	}
}

package machine_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/machine"
)

// TestHostileRSSWithManyGroups: RSS reported ok false ("/proc cannot tell")
// in a process with 20,000 supplementary groups, whose /proc/self/status has
// a "Groups:" line over bufio.Scanner's 64 KiB limit before VmHWM and VmRSS.
// RSS now reads the file whole and splits it into whole lines. It needs root
// to set the groups.
func TestHostileRSSWithManyGroups(t *testing.T) {
	if os.Getenv("MACHINE_GROUPS_CHILD") == "1" {
		if _, _, ok := machine.RSS(); !ok {
			os.Stdout.WriteString("RSS: ok false\n")
			os.Exit(3)
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("setting supplementary groups needs root")
	}
	groups := make([]uint32, 20000)
	for i := range groups {
		groups[i] = uint32(1_000_000 + i)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileRSSWithManyGroups$")
	cmd.Env = append(os.Environ(), "MACHINE_GROUPS_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: groups}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with 20000 supplementary groups: %v: %s", err, out)
	}
}

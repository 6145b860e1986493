package procstatus_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/procstatus"
)

// manyGroups is enough supplementary groups of seven digits for the
// "Groups:" line of /proc/self/status, which comes before every Vm* and
// Rss* line, to pass bufio.Scanner's 64 KiB limit.
const manyGroups = 20000

// TestHostileManyGroupsHideEveryField: in a process with many supplementary
// groups (a server run under an account in thousands of LDAP groups), the
// "Groups:" line of /proc/self/status is longer than 64 KiB. A
// bufio.Scanner stopped there with ErrTooLong, unchecked, and Bytes
// reported ErrNoField for VmRSS, which the file has. Bytes now splits the
// file into whole lines however long. It needs root to set the groups.
func TestHostileManyGroupsHideEveryField(t *testing.T) {
	if os.Getenv("PROCSTATUS_GROUPS_CHILD") == "1" {
		v, err := procstatus.Bytes("VmRSS")
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(3)
		}
		if v[0] <= 0 {
			os.Stdout.WriteString("VmRSS not positive\n")
			os.Exit(3)
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("setting supplementary groups needs root")
	}
	groups := make([]uint32, manyGroups)
	for i := range groups {
		groups[i] = uint32(1_000_000 + i)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileManyGroupsHideEveryField$")
	cmd.Env = append(os.Environ(), "PROCSTATUS_GROUPS_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: groups}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "error: ") {
			t.Fatalf("with %d supplementary groups, Bytes(\"VmRSS\") failed: %s", manyGroups, out)
		}
		t.Skipf("could not run the child with %d groups: %v: %s", manyGroups, err, out)
	}
}

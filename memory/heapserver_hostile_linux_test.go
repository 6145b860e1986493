package memory_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/memory"
)

// A HeapServer asked for more than the machine has (here 4x its RAM and
// swap, below the 1 TiB bound) returns ErrTooLarge naming the size and the
// machine's memory, as an OffHeapServer returns an error for the same size,
// where a Go slice that large would be a fatal out-of-memory error. Child
// process, so that such a crash is observed rather than suffered.
func TestHostileHeapServerRequestLargerThanMachine(t *testing.T) {
	if mode := os.Getenv(hostileChild); strings.HasPrefix(mode, "heap-machine:") {
		n, _ := strconv.ParseInt(strings.TrimPrefix(mode, "heap-machine:"), 10, 64)
		_, err := memory.NewHeapServer().Request(memory.WritableMemory{}, n)
		if !errors.Is(err, memory.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(n)) {
			t.Errorf("Request(%d) = %v, want ErrTooLarge naming the size", n, err)
		}
		return
	} else if mode != "" {
		t.Skip("child of another test")
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Skip(err)
	}
	machine := (int64(si.Totalram) + int64(si.Totalswap)) * int64(si.Unit)
	size := 4 * machine
	if size > 1<<40 {
		t.Skip("machine too large to ask for 4x its memory under the 1 TiB bound")
	}
	out, err := childtest.Run("TestHostileHeapServerRequestLargerThanMachine", hostileChild, "heap-machine:"+fmt.Sprint(size))
	if err != nil {
		t.Fatalf("HeapServer.Request(%d bytes, 4x the machine's memory) failed or killed the process (%v):\n%.600s", size, err, out)
	}
	_, err = memory.NewHeapServer().Request(memory.WritableMemory{}, size)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(machine)) {
		t.Errorf("the error does not name the machine's %d bytes: %v", machine, err)
	}
}

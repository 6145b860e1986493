package machine

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// AvailableRAM returns the bytes of memory the system can give without
// swapping (MemAvailable), or 4 GiB where it cannot tell.
func AvailableRAM() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 4 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 4 << 30
}

// FreeDisk returns the bytes free for unprivileged use under dir, or 16 GiB
// where it cannot tell.
func FreeDisk(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 16 << 30
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// RSS returns this process's resident memory and the most it has had
// (VmRSS and VmHWM), in bytes, or ok false if /proc cannot tell.
func RSS() (now, peak int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		switch {
		case err != nil:
		case fields[0] == "VmRSS:":
			now, found = kb<<10, found+1
		case fields[0] == "VmHWM:":
			peak, found = kb<<10, found+1
		}
	}
	return now, peak, found == 2
}

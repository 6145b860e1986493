package observe

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeRoot writes files (path relative to the root: text) under a new
// directory and returns it.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	mountinfoV2 = "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	mountinfoV1 = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"35 31 0:32 /docker /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
)

func TestCgroupMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 in a container", map[string]string{
			"proc/self/cgroup":                 "0::/\n",
			"proc/self/mountinfo":              mountinfoV2,
			"sys/fs/cgroup/memory.max":         "1073741824\n",
			"sys/fs/cgroup/memory.high":        "max\n",
			"sys/fs/cgroup/cgroup.controllers": "memory\n",
		}, 1 << 30},
		{"v2 no limit", map[string]string{
			"proc/self/cgroup":    "0::/user.slice/session-1.scope\n",
			"proc/self/mountinfo": mountinfoV2,
			"sys/fs/cgroup/user.slice/session-1.scope/memory.max": "max\n",
			"sys/fs/cgroup/user.slice/memory.max":                 "max\n",
		}, 0},
		{"v2 a parent's limit is lower", map[string]string{
			"proc/self/cgroup":                               "0::/app.slice/web.service\n",
			"proc/self/mountinfo":                            mountinfoV2,
			"sys/fs/cgroup/app.slice/web.service/memory.max": "4294967296\n",
			"sys/fs/cgroup/app.slice/memory.max":             "2147483648\n",
		}, 2 << 30},
		{"v1 with the hierarchy's root mounted", map[string]string{
			"proc/self/cgroup":                               "4:memory:/docker/abc\n3:cpu:/docker/abc\n0::/\n",
			"proc/self/mountinfo":                            mountinfoV1,
			"sys/fs/cgroup/memory/abc/memory.limit_in_bytes": "536870912\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes":     "9223372036854771712\n",
		}, 512 << 20},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup":                           "4:memory:/docker\n",
			"proc/self/mountinfo":                        mountinfoV1,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, 0},
		{"no cgroup files", map[string]string{}, 0},
		{"garbage", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"proc/self/mountinfo":      mountinfoV2,
			"sys/fs/cgroup/memory.max": "-5\n",
		}, 0},
	} {
		if got := cgroupMemoryLimit(fakeRoot(t, c.files)); got != c.want {
			t.Errorf("%s: cgroupMemoryLimit = %d, want %d", c.name, got, c.want)
		}
	}
}

// The memory the optimizer rates heaps against is the container's where
// its cgroup limit is below the machine's.
func TestPhysicalMemoryIsAtMostTheCgroupLimit(t *testing.T) {
	ram := physicalMemory()
	if limit := cgroupMemoryLimit("/"); limit > 0 && ram > limit {
		t.Errorf("physicalMemory = %d, above the cgroup limit %d", ram, limit)
	}
	t.Logf("physicalMemory %s, cgroup limit %s", bytesString(ram), bytesString(cgroupMemoryLimit("/")))
}

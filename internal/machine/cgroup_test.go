package machine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/machine"
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

// cgroupTrees are fake file trees of a process in cgroups, with the memory
// they allow.
var cgroupTrees = []struct {
	name  string
	files map[string]string
	want  machine.CgroupMemory
}{
	{"v2 in a container", map[string]string{
		"proc/self/cgroup":                 "0::/\n",
		"proc/self/mountinfo":              mountinfoV2,
		"sys/fs/cgroup/memory.max":         "1073741824\n",
		"sys/fs/cgroup/memory.current":     "268435456\n",
		"sys/fs/cgroup/memory.high":        "max\n",
		"sys/fs/cgroup/cgroup.controllers": "memory\n",
	}, machine.CgroupMemory{Limit: 1 << 30, Free: 768 << 20}},
	{"v2 page cache is reclaimable", map[string]string{
		"proc/self/cgroup":             "0::/\n",
		"proc/self/mountinfo":          mountinfoV2,
		"sys/fs/cgroup/memory.max":     "1073741824\n",
		"sys/fs/cgroup/memory.current": "1073741824\n",
		"sys/fs/cgroup/memory.stat":    "anon 268435456\nfile 805306368\nactive_file 0\ninactive_file 805306368\n",
	}, machine.CgroupMemory{Limit: 1 << 30, Free: 768 << 20}},
	{"v2 at the limit", map[string]string{
		"proc/self/cgroup":             "0::/\n",
		"proc/self/mountinfo":          mountinfoV2,
		"sys/fs/cgroup/memory.max":     "1073741824\n",
		"sys/fs/cgroup/memory.current": "1073745920\n",
	}, machine.CgroupMemory{Limit: 1 << 30, Free: 0}},
	{"v2 no limit", map[string]string{
		"proc/self/cgroup":    "0::/user.slice/session-1.scope\n",
		"proc/self/mountinfo": mountinfoV2,
		"sys/fs/cgroup/user.slice/session-1.scope/memory.max": "max\n",
		"sys/fs/cgroup/user.slice/memory.max":                 "max\n",
	}, machine.CgroupMemory{}},
	{"v2 a parent's limit is lower", map[string]string{
		"proc/self/cgroup":                               "0::/app.slice/web.service\n",
		"proc/self/mountinfo":                            mountinfoV2,
		"sys/fs/cgroup/app.slice/web.service/memory.max": "4294967296\n",
		"sys/fs/cgroup/app.slice/memory.max":             "2147483648\n",
	}, machine.CgroupMemory{Limit: 2 << 30, Free: 2 << 30}},
	{"v2 a parent's siblings use its headroom", map[string]string{
		"proc/self/cgroup":                                   "0::/app.slice/web.service\n",
		"proc/self/mountinfo":                                mountinfoV2,
		"sys/fs/cgroup/app.slice/web.service/memory.max":     "2147483648\n",
		"sys/fs/cgroup/app.slice/web.service/memory.current": "104857600\n",
		"sys/fs/cgroup/app.slice/memory.max":                 "4294967296\n",
		"sys/fs/cgroup/app.slice/memory.current":             "3221225472\n",
	}, machine.CgroupMemory{Limit: 2 << 30, Free: 1 << 30}},
	{"v1 with the hierarchy's root mounted", map[string]string{
		"proc/self/cgroup":                               "4:memory:/docker/abc\n3:cpu:/docker/abc\n0::/\n",
		"proc/self/mountinfo":                            mountinfoV1,
		"sys/fs/cgroup/memory/abc/memory.limit_in_bytes": "536870912\n",
		"sys/fs/cgroup/memory/abc/memory.usage_in_bytes": "536870912\n",
		"sys/fs/cgroup/memory/abc/memory.stat":           "inactive_file 1\ntotal_inactive_file 268435456\n",
		"sys/fs/cgroup/memory/memory.limit_in_bytes":     "9223372036854771712\n",
	}, machine.CgroupMemory{Limit: 512 << 20, Free: 256 << 20}},
	{"v1 unlimited", map[string]string{
		"proc/self/cgroup":                           "4:memory:/docker\n",
		"proc/self/mountinfo":                        mountinfoV1,
		"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
	}, machine.CgroupMemory{}},
	{"no cgroup files", map[string]string{}, machine.CgroupMemory{}},
	{"garbage", map[string]string{
		"proc/self/cgroup":             "0::/\n",
		"proc/self/mountinfo":          mountinfoV2,
		"sys/fs/cgroup/memory.max":     "-5\n",
		"sys/fs/cgroup/memory.current": "x\n",
	}, machine.CgroupMemory{}},
}

func TestReadCgroupMemory(t *testing.T) {
	for _, c := range cgroupTrees {
		if got := machine.ReadCgroupMemory(fakeRoot(t, c.files)); got != c.want {
			t.Errorf("%s: ReadCgroupMemory = %+v, want %+v", c.name, got, c.want)
		}
	}
}

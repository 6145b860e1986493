package observe

import "testing"

// The memory the optimizer rates heaps against is the container's where
// its cgroup limit is below the machine's. (internal/machine's tests read
// the limits of fake cgroup trees.)
func TestPhysicalMemoryIsAtMostTheCgroupLimit(t *testing.T) {
	ram := physicalMemory()
	if limit := cgroupMemoryLimit("/"); limit > 0 && ram > limit {
		t.Errorf("physicalMemory = %d, above the cgroup limit %d", ram, limit)
	}
	t.Logf("physicalMemory %s, cgroup limit %s", bytesString(ram), bytesString(cgroupMemoryLimit("/")))
}

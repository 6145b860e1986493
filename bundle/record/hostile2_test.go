package record_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestHostileBuildsOn32BitPlatforms: package bundle lists 386 and arm among
// the little-endian platforms it builds for (bundle/endian_little.go).
// Guarantee: package record and its tests compile there too. Before, the
// package did not: `size > maxRecord` compared an int with the constant
// 1<<32-1, which overflows a 32-bit int; and the tests put 1<<40 in int
// fields.
func TestHostileBuildsOn32BitPlatforms(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	for _, arch := range []string{"386", "arm"} {
		cmd := exec.Command(goTool, "vet", ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOARCH=%s go vet ./bundle/record: %v\n%s", arch, err, out)
		}
	}
}

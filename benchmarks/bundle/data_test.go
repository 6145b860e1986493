package bundlebench

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/dataset"
)

var (
	keys      = flag.Int("bundle.keys", 100_000, "keys of the lookup, file size and multi-process benchmarks")
	buildKeys = flag.Int("bundle.buildkeys", 0, "keys of BenchmarkBuildLarge (0 skips it)")
)

// shuffled yields the n records of the benchmarks: 16-byte keys, 32-byte
// unique values, in a scrambled order.
func shuffled(n int) func(yield func([]byte, []byte) bool) { return dataset.Scrambled(n) }

// lookupKeys returns up to 2^20 keys of the n records, in a random order.
func lookupKeys(n int) [][]byte {
	rng := rand.New(rand.NewPCG(2, 2))
	out := make([][]byte, min(1<<20, pow2Floor(n)))
	for i := range out {
		out[i] = dataset.Key(make([]byte, 0, dataset.KeySize), rng.IntN(n))
	}
	return out
}

func pow2Floor(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

// dirSize returns the bytes of the files under dir.
func dirSize(b testing.TB, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// procStatus returns a field of /proc/PID/status or smaps_rollup in bytes,
// e.g. ("self", "status", "VmHWM").
func procField(pid, file, name string) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, file))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/%s", name, pid, file)
}

package bundlebench

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var (
	keys      = flag.Int("bundle.keys", 100_000, "keys of the lookup, file size and multi-process benchmarks")
	buildKeys = flag.Int("bundle.buildkeys", 0, "keys of BenchmarkBuildLarge (0 skips it)")
)

// The data: 16-byte keys and 32-byte unique values, added in a shuffled order.
const keySize, valueSize = 16, 32

// key writes "key:" and i in 12 zero-padded digits.
func key(dst []byte, i int) []byte {
	dst = append(dst[:0], "key:000000000000"...)
	for j := len(dst) - 1; i > 0; j-- {
		dst[j] = byte('0' + i%10)
		i /= 10
	}
	return dst
}

func value(dst []byte, i int) []byte {
	dst = dst[:0]
	for j := range valueSize / 8 {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(i)*0x9e3779b97f4a7c15+uint64(j))
	}
	return dst
}

// shuffled yields the n records in a scrambled order, without holding a
// permutation in memory: record j*step mod n for j = 0..n-1, a bijection
// since step is a prime that does not divide n.
func shuffled(n int) func(yield func([]byte, []byte) bool) {
	const step = 1_000_000_007
	return func(yield func([]byte, []byte) bool) {
		var k, v [32]byte
		for j := range n {
			i := j * step % n
			if !yield(key(k[:], i), value(v[:], i)) {
				return
			}
		}
	}
}

// lookupKeys returns up to 2^20 keys of the n records, in a random order.
func lookupKeys(n int) [][]byte {
	rng := rand.New(rand.NewPCG(2, 2))
	out := make([][]byte, min(1<<20, pow2Floor(n)))
	for i := range out {
		out[i] = key(make([]byte, 0, keySize), rng.IntN(n))
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

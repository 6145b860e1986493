package sim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/sim"
	"github.com/tiermem/tiermem/internal/trace"
)

func TestPrintTable(t *testing.T) {
	if os.Getenv("SIMTABLE") == "" {
		t.Skip()
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "traces")
	load := func(name string, f trace.Format) []uint64 {
		reqs, err := trace.ReadAll(filepath.Join(dir, name), f, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]uint64, len(reqs))
		for i, r := range reqs {
			keys[i] = r.Key
		}
		return keys
	}
	type tr struct {
		name  string
		keys  func() []uint64
		sizes []int
	}
	traces := []tr{
		{"OLTP", func() []uint64 { return load("OLTP.lis.zst", trace.ARC) }, []int{250, 500, 1000, 2000}},
		{"gli", func() []uint64 { return load("gli.trace.gz", trace.LIRS) }, []int{250, 500, 1000, 2000}},
		{"scarab", func() []uint64 { return load("scarab-recs.trace.xz", trace.Scarab) }, []int{1000, 10000, 50000, 100000}},
		{"P3", func() []uint64 { return load("P3.lis.zst", trace.ARC) }, []int{25000, 100000, 400000}},
		{"loop", func() []uint64 { return load("loop.trace.gz", trace.LIRS) }, []int{500, 1000}},
		{"Mixed", func() []uint64 {
			c := load("trace_vaultservice.gz", trace.Corda)
			l := load("loop.trace.gz", trace.LIRS)
			return append(append(append([]uint64{}, c...), l...), c...)
		}, []int{500, 1000}},
	}
	pol := strings.Split(os.Getenv("SIMTABLE"), ",")
	only := os.Getenv("SIMTRACE")
	for _, x := range traces {
		if only != "" && !strings.Contains(only, x.name) {
			continue
		}
		keys := x.keys()
		res, err := sim.Run(keys, x.sizes, pol, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(res); i += len(pol) {
			line := fmt.Sprintf("%-7s %7d", x.name, res[i].Size)
			for _, r := range res[i : i+len(pol)] {
				line += fmt.Sprintf(" %s=%6.2f", r.Policy, 100*r.Ratio)
			}
			fmt.Println(line)
		}
	}
}

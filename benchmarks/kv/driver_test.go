package kv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	fullFlag   = flag.Bool("kv.full", false, "TestKV: the full table, 1M and 10M entries, 3 rounds (about 25 minutes); without it 100K entries, 1 round")
	roundsFlag = flag.Int("kv.rounds", 0, "TestKV: rounds (default 1, or 3 with -kv.full)")
	storesFlag = flag.String("kv.stores", "", "TestKV: the stores to run, comma-separated (default all)")
)

// TestKV runs every store in a process of its own (TestStore in a copy of
// this binary) for each size and round, alternating the stores and rotating
// their order every round, and prints the table.
func TestKV(t *testing.T) {
	if *storeFlag != "" {
		t.Skip("a child runs TestStore only")
	}
	sizes, rounds, names := plan(t)
	results := map[int]map[string][]result{}
	for _, n := range sizes {
		results[n] = map[string][]result{}
		for round := range rounds {
			for i := range names {
				name := names[(i+round)%len(names)]
				start := time.Now()
				r := runChild(t, name, n)
				results[n][name] = append(results[n][name], r)
				t.Logf("%d entries, round %d, %s: %.1fs", n, round+1, name, time.Since(start).Seconds())
			}
		}
	}
	fmt.Print(tables(sizes, names, results))
}

// plan returns the sizes, rounds and stores the flags ask for.
func plan(t *testing.T) (sizes []int, rounds int, names []string) {
	t.Helper()
	list, rounds := "100000", 1
	if *fullFlag {
		list, rounds = "1000000,10000000", 3
	}
	if *entriesFlag != "" {
		list = *entriesFlag
	}
	if *roundsFlag > 0 {
		rounds = *roundsFlag
	}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("-kv.entries %q: positive numbers, comma-separated", list)
		}
		sizes = append(sizes, n)
	}
	for _, k := range kinds {
		names = append(names, k.name)
	}
	if *storesFlag != "" {
		names = strings.Split(*storesFlag, ",")
		for _, name := range names {
			if _, err := kindNamed(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sizes, rounds, names
}

// runChild runs TestStore for store name with n entries in a new process of
// this test binary and returns its result.
func runChild(t *testing.T, name string, n int) result {
	t.Helper()
	args := []string{"-test.run=^TestStore$", "-test.count=1", "-test.timeout=30m",
		"-kv.store=" + name, "-kv.entries=" + strconv.Itoa(n)}
	if *opsFlag > 0 {
		args = append(args, "-kv.ops="+strconv.FormatInt(*opsFlag, 10))
	}
	cmd := exec.Command(os.Args[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok && err == nil {
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s, %d entries: %v in %q", name, n, err, line)
			}
			return r
		}
	}
	t.Fatalf("%s, %d entries: %v, no result in:\n%s", name, n, err, out.Bytes())
	return result{}
}

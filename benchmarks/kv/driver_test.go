package kv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	fullFlag   = flag.Bool("kv.full", false, "TestKV: the full table, 1M and 10M entries, 3 rounds (about 25 minutes); without it 100K entries, 1 round")
	roundsFlag = flag.Int("kv.rounds", 0, "TestKV: rounds (default 1, or 3 with -kv.full)")
	storesFlag = flag.String("kv.stores", "", "TestKV: the stores to run, comma-separated (default all)")
	fromFlag   = flag.String("kv.from", "", "TestKV: print the table of the result lines in this file (the -test.v output of earlier runs) instead of running")
)

// TestKV runs every store in a process of its own (TestStore in a copy of
// this binary) for each size and round, alternating the stores and rotating
// their order every round, and prints the table.
func TestKV(t *testing.T) {
	if *storeFlag != "" {
		t.Skip("a child runs TestStore only")
	}
	sizes, rounds, names := plan(t)
	if *fromFlag != "" {
		sizes, names, results := readResults(t, *fromFlag)
		fmt.Print(tables(sizes, names, results))
		return
	}
	results := map[int]map[string][]result{}
	for _, n := range sizes {
		results[n] = map[string][]result{}
		for round := range rounds {
			for i := range names {
				name := names[(i+round)%len(names)]
				start := time.Now()
				r := runChild(t, name, n)
				results[n][name] = append(results[n][name], r)
				line, _ := json.Marshal(r)
				t.Logf("%d entries, round %d, %s: %.1fs\n%s%s", n, round+1, name, time.Since(start).Seconds(), resultPrefix, line)
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

// readResults reads the result lines of file, in the order of kinds, sizes
// ascending.
func readResults(t *testing.T, file string) (sizes []int, names []string, results map[int]map[string][]result) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	results = map[int]map[string][]result{}
	for line := range strings.Lines(string(data)) {
		_, js, ok := strings.Cut(line, resultPrefix)
		if !ok {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("%s: %v in %q", file, err, js)
		}
		if results[r.Entries] == nil {
			results[r.Entries] = map[string][]result{}
			sizes = append(sizes, r.Entries)
		}
		results[r.Entries][r.Store] = append(results[r.Entries][r.Store], r)
	}
	slices.Sort(sizes)
	for _, k := range kinds {
		if len(sizes) > 0 && results[sizes[0]][k.name] != nil {
			names = append(names, k.name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: no result lines", file)
	}
	return sizes, names, results
}

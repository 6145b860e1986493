package cache_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/cache"
)

// TestPolicyScripts runs the scripts of testdata/policy: each line is an
// operation on a policy or an expectation about it.
//
//	new KIND CAPACITY        start a new policy (lru, lfu, fifo, adaptive)
//	add KEY WEIGHT           Add
//	access KEY               Access
//	update KEY WEIGHT        Update
//	remove KEY               Remove
//	victim KEY|none          expect Victim() to name KEY (or nothing)
//	evict KEY...             Victim and Remove, expecting the keys in order
//	admit CAND VICTIM BOOL   expect Admit(CAND, VICTIM)
//	len N / weight N         expect Len() / Weight()
//
// Blank lines and lines starting with # are ignored.
func TestPolicyScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "policy", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runScript(t, file) })
	}
}

func runScript(t *testing.T, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p cache.Policy[string]
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		args := strings.Fields(sc.Text())
		if len(args) == 0 || strings.HasPrefix(args[0], "#") {
			continue
		}
		num := func(i int) int64 {
			n, err := strconv.ParseInt(args[i], 10, 64)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, line, err)
			}
			return n
		}
		fail := func(got any) { t.Fatalf("%s:%d: %s: got %v", file, line, sc.Text(), got) }
		switch args[0] {
		case "new":
			kind, err := cache.ParseKind(args[1])
			if err != nil {
				t.Fatal(err)
			}
			if p, err = cache.NewPolicy[string](kind, num(2)); err != nil {
				t.Fatal(err)
			}
		case "add":
			p.Add(args[1], num(2))
		case "access":
			p.Access(args[1])
		case "update":
			p.Update(args[1], num(2))
		case "remove":
			p.Remove(args[1])
		case "victim":
			if v, ok := p.Victim(); (ok && v != args[1]) || (!ok && args[1] != "none") {
				fail(v)
			}
		case "evict":
			for _, want := range args[1:] {
				if v, ok := p.Victim(); !ok || v != want {
					fail(v)
				}
				p.Remove(want)
			}
		case "admit":
			if got := p.Admit(args[1], args[2]); strconv.FormatBool(got) != args[3] {
				fail(got)
			}
		case "len":
			if int64(p.Len()) != num(1) {
				fail(p.Len())
			}
		case "weight":
			if p.Weight() != num(1) {
				fail(p.Weight())
			}
		default:
			t.Fatalf("%s:%d: unknown operation %q", file, line, args[0])
		}
	}
}

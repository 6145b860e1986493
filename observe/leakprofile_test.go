package observe

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"
)

const sampleLeakProfile = `goroutineleak profile: total 5
3 @ 0x47e08e 0x4158ee 0x415432 0x4d9fb9 0x484561
#	0x4d9fb8	main.main.func1+0x18	/tmp/gl/main.go:4

2 @ 0x47e08e 0x4d9fff
#	0x4d9ffe	main.f+0x18	/tmp/gl/main.go:9
`

func TestParseLeakProfile(t *testing.T) {
	got, err := parseLeakProfile([]byte(sampleLeakProfile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[32]uintptr]int64{
		{0x47e08e, 0x4158ee, 0x415432, 0x4d9fb9, 0x484561}: 3,
		{0x47e08e, 0x4d9fff}: 2,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	deep := "goroutine profile: total 1\n1 @" + strings.Repeat(" 0x10", 40) + "\n"
	if got, err := parseLeakProfile([]byte(deep)); err != nil || got[[32]uintptr{0x10, 0x10}] != 0 || len(got) != 1 {
		t.Fatalf("a 40-frame stack: %v, %v; want one stack cut at 32 frames", got, err)
	}
}

func TestParseLeakProfileRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"no header":    "3 @ 0x1\n",
		"no at":        "x profile: total 1\n3 0x1\n",
		"bad count":    "x profile: total 1\n-3 @ 0x1\n",
		"bad pc":       "x profile: total 1\n3 @ 0xzz\n",
		"pc without x": "x profile: total 1\n3 @ 12\n",
		"zero pc":      "x profile: total 1\n3 @ 0x0\n",
	} {
		if _, err := parseLeakProfile([]byte(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// formatLeakProfile writes stacks in the text form parseLeakProfile reads.
func formatLeakProfile(stacks map[[32]uintptr]int64) string {
	var b strings.Builder
	var total int64
	for _, n := range stacks {
		total += n
	}
	fmt.Fprintf(&b, "goroutineleak profile: total %d\n", total)
	for stack, n := range stacks {
		fmt.Fprintf(&b, "%d @", n)
		for _, pc := range trimStack(stack[:]) {
			fmt.Fprintf(&b, " %#x", pc)
		}
		b.WriteString("\n#\tsymbols\n\n")
	}
	return b.String()
}

func FuzzParseLeakProfile(f *testing.F) {
	f.Add([]byte(sampleLeakProfile))
	f.Add([]byte("goroutine profile: total 0\n"))
	f.Add([]byte("x profile: total 1\n1 @ 0x1 0x2\n# a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		stacks, err := parseLeakProfile(data)
		if err != nil {
			return
		}
		for stack := range stacks {
			if len(trimStack(stack[:])) == 0 {
				return // an empty stack line ("1 @") has no text form of its own
			}
		}
		back, err := parseLeakProfile([]byte(formatLeakProfile(stacks)))
		if err != nil || !maps.Equal(back, stacks) {
			t.Fatalf("round trip: %v, %v; want %v", back, err, stacks)
		}
	})
}

// TestRuntimeLeakProfile runs only where the runtime has the goroutine
// leak profile: go test -run RuntimeLeakProfile with
// GOEXPERIMENT=goroutineleakprofile.
func TestRuntimeLeakProfile(t *testing.T) {
	if !leakProfileAvailable() {
		t.Skip("this runtime has no goroutine leak profile (GOEXPERIMENT=goroutineleakprofile)")
	}
	for range 3 {
		ch := make(chan int)
		go func() { <-ch }() // ch is unreachable from anything running: blocked for good
	}
	time.Sleep(10 * time.Millisecond)
	runtime.GC()
	o, err := Start(&Options{Interval: time.Hour, LeakProfile: true})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := o.Stop()
	for _, s := range r.Leaks {
		if s.Kind == UnreachableGoroutines && strings.Contains(s.Site.Function, "TestRuntimeLeakProfile") {
			if s.Count != 3 {
				t.Fatalf("suspect %+v: want 3 goroutines", s)
			}
			return
		}
	}
	t.Fatalf("no unreachable goroutines found:\n%s", r.Summary())
}

package observe

import (
	"bufio"
	"bytes"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
)

// leakProfileName is the runtime's goroutine leak profile: goroutines
// blocked on a channel or lock that no running goroutine can reach, found
// by a special GC cycle. Go 1.26 has it with GOEXPERIMENT=goroutineleakprofile;
// pprof.Lookup returns nil without it.
const leakProfileName = "goroutineleak"

// leakProfileAvailable reports whether this binary has the leak profile.
func leakProfileAvailable() bool { return pprof.Lookup(leakProfileName) != nil }

// readLeakProfile collects the runtime's goroutine leak profile, grouped by
// stack; false where the runtime has none. It costs a GC cycle.
func readLeakProfile() (map[[32]uintptr]int64, bool) {
	p := pprof.Lookup(leakProfileName)
	if p == nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 1); err != nil {
		return nil, false
	}
	stacks, err := parseLeakProfile(buf.Bytes())
	return stacks, err == nil
}

// parseLeakProfile reads the text form (debug=1) of a goroutine or
// goroutine leak profile: a header line "NAME profile: total N", then for
// each stack a line "COUNT @ PC PC ...", followed by comment lines ("#")
// that symbolize it. Stacks deeper than 32 frames are cut at 32, as
// runtime.StackRecord cuts them. It returns ErrFormat for anything else.
func parseLeakProfile(text []byte) (map[[32]uintptr]int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("%w: no profile header", ErrFormat)
	}
	_, totalText, ok := strings.Cut(sc.Text(), " profile: total ")
	total, err := strconv.ParseInt(strings.TrimSpace(totalText), 10, 64)
	if !ok || err != nil || total < 0 {
		return nil, fmt.Errorf("%w: no profile header with a total (%q)", ErrFormat, sc.Text())
	}
	stacks := make(map[[32]uintptr]int64)
	var sum int64
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		stack, n, err := parseStackLine(line)
		if err != nil {
			return nil, err
		}
		if n > total-sum {
			return nil, fmt.Errorf("%w: the stacks count more than the header's total of %d", ErrFormat, total)
		}
		sum += n
		stacks[stack] += n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if sum != total {
		return nil, fmt.Errorf("%w: the stacks count %d of the header's total of %d (cut?)", ErrFormat, sum, total)
	}
	return stacks, nil
}

// parseStackLine reads "COUNT @ PC PC ...".
func parseStackLine(line string) ([32]uintptr, int64, error) {
	var stack [32]uintptr
	count, pcs, ok := strings.Cut(line, " @")
	if !ok {
		return stack, 0, fmt.Errorf("%w: %q is not a stack line", ErrFormat, line)
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n < 0 {
		return stack, 0, fmt.Errorf("%w: count %q", ErrFormat, count)
	}
	for i, f := range strings.Fields(pcs) {
		pc, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 64)
		if err != nil || !strings.HasPrefix(f, "0x") || pc == 0 {
			return stack, 0, fmt.Errorf("%w: program counter %q", ErrFormat, f)
		}
		if i < len(stack) {
			stack[i] = uintptr(pc)
		}
	}
	return stack, n, nil
}

// unreachableSuspects returns the stacks of the newest leak profile, each
// with how long it has been in the profiles compared.
func unreachableSuspects(profiles []goroutineProfile) []Suspect {
	if len(profiles) == 0 {
		return nil
	}
	last := profiles[len(profiles)-1]
	var out []Suspect
	for stack, n := range last.unreachable {
		first := last.time
		for _, p := range profiles {
			if p.unreachable[stack] > 0 {
				first = p.time
				break
			}
		}
		out = append(out, Suspect{Kind: UnreachableGoroutines, Site: siteOfStack(stack[:]),
			Stack: stackFunctions(stack, 8), Count: n, Age: last.time.Sub(first)})
	}
	return byGrowth(out)
}

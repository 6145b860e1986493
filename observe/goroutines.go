package observe

import (
	"runtime"
	"time"
)

// goroutineProfile counts the goroutines at each stack at one time, and
// those of them the runtime's leak profile found unreachable (nil when it
// was not collected).
type goroutineProfile struct {
	time        time.Time
	stacks      map[[32]uintptr]int64
	unreachable map[[32]uintptr]int64
}

// goroutines takes a goroutine profile into buf (reused) and groups it by
// stack. runtime.GoroutineProfile stops the world only to start; the cost
// grows with the number of goroutines.
func goroutines(buf []runtime.StackRecord, now time.Time) (goroutineProfile, []runtime.StackRecord) {
	for {
		n, ok := runtime.GoroutineProfile(buf[:cap(buf)])
		if ok {
			buf = buf[:n]
			break
		}
		buf = make([]runtime.StackRecord, n+n/4+16)
	}
	gp := goroutineProfile{time: now, stacks: make(map[[32]uintptr]int64)}
	for i := range buf {
		gp.stacks[buf[i].Stack0]++
	}
	return gp, buf
}

// stackFunctions returns the functions of a stack, innermost first, at
// most max of them.
func stackFunctions(stack [32]uintptr, max int) []string {
	frames := runtime.CallersFrames(trimStack(stack[:]))
	var out []string
	for len(out) < max {
		f, more := frames.Next()
		out = append(out, f.Function)
		if !more {
			break
		}
	}
	return out
}

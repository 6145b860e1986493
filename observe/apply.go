package observe

import (
	"fmt"
	"runtime/debug"
	"slices"
)

// Apply analyses the GC as of now and puts in force every opportunity the
// analysis marks Auto (low-risk runtime settings: GOGC, never a change that
// needs code or raises a limit someone chose). It returns what it applied;
// from then on the GC window of reports starts at the Apply, and each report
// shows the GC's CPU measured after it beside the estimate. Nothing to apply
// is not an error. It returns ErrStopped after Stop. The Optimizer
// remembers the last 256 Applies that changed something (Report.Applied).
func (o *Optimizer) Apply() ([]Applied, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return nil, ErrStopped
	}
	st := o.stateNowLocked()
	r := st.report()
	last := st.samples[len(st.samples)-1]
	var done []Applied
	for _, op := range r.GC.Opportunities {
		if !op.Auto {
			continue
		}
		prev, err := applyOpportunity(op)
		if err != nil {
			return done, err
		}
		a := Applied{Opportunity: op, At: last.Time, Previous: prev, BeforeGCCPU: r.GC.CPUFraction,
			BeforeCyclesPerGiB: cyclesPerGiB(st.from, last)}
		done = append(done, a)
	}
	if len(done) > 0 {
		o.applied = keepLastApplied(append(o.applied, done...))
		o.from, o.fromPauses, o.fromSched = last, o.pauses, o.sched
	}
	return done, nil
}

// maxApplied bounds the Applies an Optimizer remembers (and its reports
// list): a process that runs for months and applies now and then keeps the
// latest, in bounded memory, and its reports stay readable (ReadReport
// refuses longer lists).
const maxApplied = 256

// keepLastApplied returns the last maxApplied of applied, in a new array
// when it drops any, so that the dropped ones are not held.
func keepLastApplied(applied []Applied) []Applied {
	if len(applied) <= maxApplied {
		return applied
	}
	return slices.Clone(applied[len(applied)-maxApplied:])
}

// applyOpportunity sets what op says and returns the value it replaced.
func applyOpportunity(op Opportunity) (int64, error) {
	switch op.Action {
	case SetGCPercent:
		return int64(debug.SetGCPercent(int(op.Value))), nil
	case SetMemoryLimit:
		return debug.SetMemoryLimit(op.Value), nil
	}
	return 0, fmt.Errorf("%w: %s is not a runtime setting", ErrOptions, op.Action)
}

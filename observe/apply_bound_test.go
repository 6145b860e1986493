package observe

import (
	"testing"
	"time"
)

// TestKeepLastAppliedBoundsTheRecord: an Optimizer applying now and then
// for months remembers the latest maxApplied Applies, in order, and holds
// no more.
func TestKeepLastAppliedBoundsTheRecord(t *testing.T) {
	var applied []Applied
	for i := range 3 * maxApplied {
		applied = keepLastApplied(append(applied, Applied{At: time.Unix(int64(i), 0)}))
		if want := min(i+1, maxApplied); len(applied) != want {
			t.Fatalf("after %d Applies: %d remembered, want %d", i+1, len(applied), want)
		}
	}
	if cap(applied) > 2*maxApplied {
		t.Errorf("the record holds an array of %d", cap(applied))
	}
	for j, a := range applied {
		if want := int64(2*maxApplied + j); a.At.Unix() != want {
			t.Fatalf("remembered[%d] is Apply %d, want %d (the latest, in order)", j, a.At.Unix(), want)
		}
	}
}

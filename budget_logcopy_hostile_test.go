package tiermem_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestHostileDurableColdBudgetCutBelowMemory: with a durable log, cutting
// the cold budget below what the log's copies of the hot and warm values
// take. Nothing is pinned and nothing is being written, and glacier has no
// budget, so SetBudget (which "does what a migration pass would") and the
// passes after it can bring the cold tier under its new budget by letting
// memory victims' log copies become cold's own and go down to glacier, as
// a Store does since 9c476be. This is the SetBudget form of review 2's
// bug 2, which that commit left out: SetBudget fails saying "what is left
// is pinned or being written", and no pass brings cold under its budget.
func TestHostileDurableColdBudgetCutBelowMemory(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: tiermem.Always})
	const n, size = 200, 8 << 10
	for i := range n {
		must(t, m.Store(fmt.Sprint("k", i), hostileValue(i, 0, size)))
	}
	setErr := m.SetBudget(tiermem.Cold, 256<<10)
	must(t, m.Migrate())
	must(t, m.Migrate())
	if u := m.Usage()[tiermem.Cold]; u.Used > u.Capacity {
		t.Errorf("cold uses %d bytes of its budget of %d after SetBudget and two passes (SetBudget: %v)", u.Used, u.Capacity, setErr)
	} else if setErr != nil {
		t.Errorf("SetBudget: %v", setErr)
	}
	for i := range n {
		if got, err := m.Retrieve(fmt.Sprint("k", i)); err != nil || !bytes.Equal(got, hostileValue(i, 0, size)) {
			t.Fatalf("k%d: %v, or other bytes", i, err)
		}
	}
}

package tiermem

import (
	"fmt"
)

// SetBudget changes a tier's budget to bytes while the Manager works: the
// size Options gave it at Open, which Usage reports as Capacity. A larger
// budget lets Stores place more there at once. A smaller one takes effect
// for every Store that begins after the call, and SetBudget then does what
// a migration pass would: if the tier is above its high watermark of the
// new budget, it demotes the tier's victims until it is under the low one.
//
// For the hot tier, the GC memory limit that Open set follows the new
// budget (a limit someone else chose is left alone). The built-in warm
// tier reserved its address space at Open: its budget can go up to half of
// that reservation (max(2 × Options.Warm.Size, 64 MiB)), no further. A
// glacier budget of 0 means none, as in GlacierOptions; any other tier
// needs at least 1 byte. The tier's policy keeps the proportions it was
// opened with: its choice of victims stays the same kind of choice.
//
// Errors: ErrUnknownTier, ErrOptions for a budget out of range (nothing
// changes), ErrNoSpace when the last tier holds more than the new budget
// (nothing changes: nothing can be demoted out of it) or when pinned
// values keep the tier over the new budget (the budget is set; the pinned
// values stay where they are and no Store goes there until they leave),
// and ErrClosed. Safe for concurrent use.
func (m *Manager) SetBudget(level Tier, bytes int64) error {
	return m.withBudget(level, bytes, m.setBudget)
}

// setBudget is SetBudget for a tier and budget budgetFor checked.
func (m *Manager) setBudget(t *tierState, bytes int64) error {
	m.migrateMu.Lock()
	defer m.migrateMu.Unlock()
	if err := lastTierFits(t, bytes); err != nil {
		return err
	}
	old := t.budget.Swap(bytes)
	if t.victims == nil {
		if err := lastTierFits(t, bytes); err != nil { // a write that began under the old budget
			t.budget.Store(old)
			return err
		}
	}
	if t.level == Hot {
		m.memLimit = m.memLimit.retarget(bytes)
	}
	if t.victims == nil {
		return nil
	}
	if err := m.keepWatermark(t); err != nil {
		return fmt.Errorf("the %s tier's budget is now %d bytes (it stays so): %w", t.level, bytes, err)
	}
	if used := t.used(); used > bytes {
		left := "pinned or being written"
		if t.level == Cold && m.durable() {
			left = "pinned, being written, or the durable log's copies of values pinned in memory"
		}
		return fmt.Errorf("%w: the %s tier's budget is now %d bytes (it stays so), but it holds %d: what is left is %s",
			ErrNoSpace, t.level, bytes, used, left)
	}
	return nil
}

// CheckBudget reports the error SetBudget would return for a budget it
// refuses outright, changing nothing: an unknown tier, a budget out of
// range, or a last tier that holds more. Safe for concurrent use.
func (m *Manager) CheckBudget(level Tier, bytes int64) error {
	return m.withBudget(level, bytes, lastTierFits)
}

// withBudget admits a call on level's budget and runs fn with the tier and
// the budget, once budgetFor has checked them.
func (m *Manager) withBudget(level Tier, bytes int64, fn func(t *tierState, bytes int64) error) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	t, bytes, err := m.budgetFor(level, bytes)
	if err != nil {
		return err
	}
	return fn(t, bytes)
}

// budgetFor returns the tier level names and the budget bytes asks for it
// (see checkBudget), or an error wrapping ErrUnknownTier or ErrOptions.
func (m *Manager) budgetFor(level Tier, bytes int64) (*tierState, int64, error) {
	t, err := m.tierOf(level)
	if err != nil {
		return nil, 0, err
	}
	bytes, err = m.checkBudget(t, bytes)
	return t, bytes, err
}

// lastTierFits returns an error wrapping ErrNoSpace if t is the last tier
// and holds more than bytes: nothing can be demoted out of it.
func lastTierFits(t *tierState, bytes int64) error {
	if used := t.used(); t.victims == nil && used > bytes {
		return fmt.Errorf("%w: the %s tier holds %d bytes, more than the budget of %d asked for, and it is the last tier: nothing can be demoted out of it",
			ErrNoSpace, t.level, used, bytes)
	}
	return nil
}

// checkBudget returns the budget bytes asks for t (unbounded for a glacier
// budget of 0), or an error wrapping ErrOptions.
func (m *Manager) checkBudget(t *tierState, bytes int64) (int64, error) {
	switch {
	case t.level == Glacier && bytes == 0:
		return unbounded, nil
	case bytes < 1:
		return 0, fmt.Errorf("%w: a budget of %d bytes for the %s tier: it needs at least 1", ErrOptions, bytes, t.level)
	case bytes >= unbounded:
		return 0, fmt.Errorf("%w: a budget of %d bytes for the %s tier: at most %d", ErrOptions, bytes, t.level, int64(unbounded-1))
	case t.level == Warm && m.opts.Warm.Store == nil && bytes > warmSpace(m.opts.Warm.Size)/2:
		return 0, fmt.Errorf("%w: a budget of %d bytes for the warm tier: it reserved room for %d at Open (Options.Warm.Size %d); reopen with a larger Warm.Size",
			ErrOptions, bytes, warmSpace(m.opts.Warm.Size)/2, m.opts.Warm.Size)
	}
	return bytes, nil
}

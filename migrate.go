package tiermem

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/tiermem/tiermem/tier"
)

// Migrate runs one migration pass now: it deletes expired values, brings each
// tier above its high watermark down to its low watermark, demotes entries
// idle longer than DemoteAfter (unless they were read PromoteHits times within
// HitWindow), and promotes the entries read that often to the tier above when
// it has room below its high watermark. The background loop calls it every
// MigrateInterval; tests and tools may call it by hand. Passes do not overlap.
func (m *Manager) Migrate() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	m.migrateMu.Lock()
	defer m.migrateMu.Unlock()
	errs := []error{m.expireDue()}
	m.trimSpares()
	m.freq.Age()
	m.freq.Resize(m.keysHeld())
	for _, t := range m.tiers {
		if t.victims == nil {
			continue
		}
		errs = append(errs, m.keepWatermark(t), m.demoteIdle(t))
	}
	errs = append(errs, m.promoteEarned(), m.syncGlacier(), m.compactGlacier())
	m.followMemoryLimit()
	return errors.Join(errs...)
}

// followMemoryLimit moves the GC memory limit Open set to the heap the rest
// of the process holds now (memoryLimit.follow). The caller holds
// migrateMu, or is Close with the gate closed.
func (m *Manager) followMemoryLimit() {
	m.memLimit = m.memLimit.follow(m.tiers[Hot].store.Used())
}

// keysHeld returns the keys the tiers hold, a key in two tiers counted
// twice: what the read-frequency estimate is sized for.
func (m *Manager) keysHeld() int64 {
	var n int64
	for _, t := range m.tiers {
		n += t.store.Len()
	}
	return n
}

// trimSpares lets the tiers return the memory they keep for reuse once it
// has sat unused for a whole pass.
func (m *Manager) trimSpares() {
	for _, t := range m.tiers {
		if tr, ok := t.store.(tier.Trimmer); ok {
			tr.Trim(m.now().Add(-m.opts.MigrateInterval))
		}
	}
}

// expireDue deletes the values whose TTL has run out. A key whose delete
// failed waits for the next pass; the error says how many did, and why
// the first one failed.
func (m *Manager) expireDue() error {
	var first error
	failed := 0
	for _, key := range m.ttl.due(m.now().UnixNano()) {
		if err := m.expire(key); err != nil {
			first = cmp.Or(first, err)
			failed++
		}
	}
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("tiermem: deleting expired values: %d could not be deleted (the next pass retries them); the first: %w", failed, first)
}

// keepWatermark demotes t's victims while t is above its high watermark,
// down to its low watermark. A durable cold tier whose entries left are
// the log's copies of memory values has the memory copies of the memory
// tiers' victims dropped (freeLogCopy), as a Store's need for room has,
// so that those copies become its own and go down to glacier.
func (m *Manager) keepWatermark(t *tierState) error {
	capacity := float64(t.capacity())
	high := int64(m.opts.HighWatermark * capacity)
	low := int64(m.opts.LowWatermark * capacity)
	if t.used() <= high {
		return nil
	}
	for t.used() > low {
		var err error
		if m.demotesInBatches(t) {
			err = m.evictToGlacier(t, glacierPassBatchBytes)
			if errors.Is(err, errNoVictim) && m.durable() {
				err = m.freeLogCopy(nil)
			}
		} else {
			err = m.evictOne(t)
		}
		if errors.Is(err, errNoVictim) {
			return nil // what is left is pinned, or on its way out already
		}
		if err != nil {
			return fmt.Errorf("tiermem: bringing the %s tier to its low watermark: %w", t.level, err)
		}
	}
	return nil
}

// demoteIdle demotes t's entries idle for the tier's DemoteAfter that did
// not earn their place by being read often.
func (m *Manager) demoteIdle(t *tierState) error {
	after := m.tierOptions(t.level).DemoteAfter
	if after < 0 || !m.idleScanDue(t, after) {
		return nil
	}
	var err error
	var batch []string // for glacier, which takes keys in batches
	t.victims.idle(m.now().Add(-after), func(key string) bool {
		if m.freq.Estimate(key) >= m.opts.PromoteHits {
			return true
		}
		if m.demotesInBatches(t) {
			batch = append(batch, key)
			return true
		}
		_, err = m.demote(key, t)
		return err == nil
	})
	if err == nil && len(batch) > 0 {
		err = m.demoteToGlacier(t, batch)
	}
	if err != nil {
		return fmt.Errorf("tiermem: demoting idle entries of the %s tier: %w", t.level, err)
	}
	return nil
}

// idleScanDue reports whether a pass should look for t's idle entries now.
// The cold tier, whose victims may be millions of keys, is scanned at most
// every eighth of its DemoteAfter (45 minutes by default), so that a pass
// every second does not hold its victims' lock over millions of keys each
// time: an entry then leaves up to 1/8 later than DemoteAfter says. The
// memory tiers are scanned every pass.
func (m *Manager) idleScanDue(t *tierState, after time.Duration) bool {
	if t.level < Cold {
		return true
	}
	now := m.now().UnixNano()
	last := t.idleScanned.Load()
	if last != 0 && now-last < int64(after/8) {
		return false
	}
	return t.idleScanned.CompareAndSwap(last, now)
}

// promoteEarned moves the keys read often enough one tier up, when that
// tier has room below its high watermark: a promotion never pushes another
// entry out, which is the hysteresis that keeps entries from bouncing.
func (m *Manager) promoteEarned() error {
	for _, t := range m.tiers {
		// A refusal holds reads off queueing only until the next pass: it
		// was for one key's size, and a smaller key may fit in the room left.
		t.fullAt.Store(0)
	}
	keys := m.promote.take()
	var errs []error
	for _, key := range keys {
		errs = append(errs, m.promoteOne(key))
	}
	return errors.Join(errs...)
}

func (m *Manager) promoteOne(key string) error {
	if !m.roomAboveKey(key) {
		return nil // the cheap look first: most keys queued while the tier above fills find it full
	}
	cur, err := m.Tier(key)
	if err != nil || cur == Hot || m.freq.Estimate(key) < m.opts.PromoteHits {
		return nil
	}
	from, to := m.tiers[cur], m.tiers[cur-1]
	size, metaLen, err := m.sizeIn(from, key)
	if err != nil {
		return nil
	}
	high := int64(m.opts.HighWatermark * float64(to.capacity()))
	if used := to.used(); used+to.estimate(key, size, metaLen) > high {
		to.fullAt.Store(max(used, 1))
		return nil
	}
	moved, err := m.move(key, from, to, false, true, passStreams) // a promotion waits for nothing
	if moved {
		to.promotions.Add(1)
	}
	return err
}

// roomAboveKey reports whether key is below the hot tier and the tier
// above it is below its high watermark, looking the key up in a way that
// copies nothing (a store's Size); a store that cannot tell says yes. It
// ignores fullAt, which an earlier key of this pass may have set: that
// key's refusal says nothing of whether this one fits.
func (m *Manager) roomAboveKey(key string) bool {
	for _, t := range m.tiers[1:] {
		if t.sizer == nil || t.sizeOf(key) > 0 {
			return m.belowHigh(m.tiers[t.level-1])
		}
	}
	return false
}

// startLoop runs Migrate every MigrateInterval until stopLoop.
func (m *Manager) startLoop() {
	if m.opts.MigrateInterval < 0 {
		return
	}
	m.stop, m.loopDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.loopDone)
		tick := time.NewTicker(m.opts.MigrateInterval)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
				m.recordPass(m.Migrate())
			}
		}
	}()
}

func (m *Manager) stopLoop() {
	if m.stop != nil {
		close(m.stop)
		<-m.loopDone
	}
}

// recordPass keeps the outcome of a background pass for Stats.
func (m *Manager) recordPass(err error) {
	m.passes.Add(1)
	if err != nil {
		m.failedPasses.Add(1)
		m.lastPassError.Store(err.Error())
	}
}

package tiermem_test

import (
	"bytes"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
)

// TestSetDurabilityFailedLogCopyOfAMovingKey: during SetDurability's
// sweep, a key promoted from warm into the hot tier the sweep has already
// listed gets its log copy as it moves. If that copy fails (the cold disk
// is full for a moment), the Move must fail and leave the key in warm for
// the sweep, never report success with a hot value the log has no copy of
// (Close of a durable Manager writes no memory value to the log, so the
// value would be lost even by a clean Close).
func TestSetDurabilityFailedLogCopyOfAMovingKey(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	o := &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	tiermem.SetColdFS(o, fault)
	m, err := tiermem.Open(dir, o)
	must(t, err)
	value := bytes.Repeat([]byte("v"), 1000)
	must(t, m.Store("k", value, tiermem.InTier(tiermem.Warm)))
	var moveErr error
	tiermem.SetSweepListed(m, func(listed tiermem.Tier) {
		if listed != tiermem.Hot {
			return
		}
		tiermem.SetSweepListed(m, nil)
		fault.SetSpace(0) // the log's disk is full for the length of one Move
		moveErr = m.Move("k", tiermem.Hot)
		fault.SetSpace(-1)
	})
	err = m.SetDurability(tiermem.Always)
	t.Logf("Move during the sweep: %v; SetDurability: %v", moveErr, err)
	missing := tiermem.MemoryKeysWithoutLogCopy(m)
	must(t, m.Close())
	if err != nil {
		return // failing is allowed; succeeding with a value missing from the log is not
	}
	if len(missing) != 0 {
		t.Errorf("SetDurability(Always) returned nil (Move returned %v), but the cold log has no copy of %v", moveErr, missing)
	}
	m, err = tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("after SetDurability(Always) and a clean Close, k reads %.8q…, %v", got, err)
	}
}

package tiermem_test

import (
	"bytes"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
)

// TestSetDurabilityFailedWriteDuringTheSweepKeepsTheOldValue: a durable
// write (Store, Update, Rename onto a key) writes the memory tier, drops
// the key's other copies but the log's, then writes the log; if that fails
// it takes its memory copy back, relying on the log to hold the value the
// key had. During SetDurability's sweep the log may not hold it yet: a
// write that fails on a full disk must still leave the key's acknowledged
// value (in warm, not yet swept) as it was.
func TestSetDurabilityFailedWriteDuringTheSweepKeepsTheOldValue(t *testing.T) {
	v1, v2 := bytes.Repeat([]byte("1"), 1000), bytes.Repeat([]byte("2"), 1000)
	for _, tc := range []struct {
		name  string
		write func(m *tiermem.Manager) error
	}{
		{"Store", func(m *tiermem.Manager) error { return m.Store("k", v2, tiermem.InTier(tiermem.Hot)) }},
		{"Update", func(m *tiermem.Manager) error {
			return m.Update("k", func([]byte, bool) ([]byte, bool, error) { return v2, true, nil })
		}},
		{"Rename", func(m *tiermem.Manager) error { return m.Rename("src", "k", true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fault := vfs.NewFault(vfs.Default)
			o := &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
				Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
			tiermem.SetColdFS(o, fault)
			m := open(t, o)
			must(t, m.Store("k", v1, tiermem.InTier(tiermem.Warm)))
			must(t, m.Store("src", v2, tiermem.InTier(tiermem.Hot)))
			var writeErr error
			tiermem.SetSweepListed(m, func(listed tiermem.Tier) {
				if listed != tiermem.Warm { // hot is swept (src has its log copy); k, in warm, not yet
					return
				}
				tiermem.SetSweepListed(m, nil)
				fault.SetSpace(0) // the disk is full for the length of one write
				writeErr = tc.write(m)
				fault.SetSpace(-1)
			})
			err := m.SetDurability(tiermem.Always)
			t.Logf("%s during the sweep: %v; SetDurability: %v", tc.name, writeErr, err)
			if writeErr == nil {
				t.Skip("the write succeeded")
			}
			got, rerr := m.Retrieve("k")
			if rerr != nil || !bytes.Equal(got, v1) {
				t.Fatalf("a %s that failed during SetDurability's sweep changed k: it reads %.8q…, %v (want the value it had)", tc.name, got, rerr)
			}
		})
	}
}

package tiermem_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestStoreFromHotReplaceKeepsRecencyAndLog: with Durability
// Always, values streamed into hot (new and replacing) each leave a log
// copy; a replacing StoreFrom counts as the key's latest use (LRU demotes
// the others first); a failed one leaves the old value in hot and in the
// log.
func TestStoreFromHotReplaceKeepsRecencyAndLog(t *testing.T) {
	value := make([]byte, 6<<10)
	m := open(t, &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Hot:  tiermem.TierOptions{Size: 28 << 10, Policy: tiermem.PolicyLRU},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 4 {
		v := bytes.Repeat([]byte{byte('a' + i)}, len(value))
		must(t, m.StoreFrom(fmt.Sprint("k", i), bytes.NewReader(v), int64(len(v)), tiermem.InTier(tiermem.Hot)))
		time.Sleep(2 * time.Millisecond)
	}
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) > 0 {
		t.Fatalf("no log copy of %v after StoreFrom into hot with Always", missing)
	}
	newK0 := bytes.Repeat([]byte{'z'}, len(value))
	must(t, m.StoreFrom("k0", bytes.NewReader(newK0), int64(len(newK0)), tiermem.InTier(tiermem.Hot)))
	time.Sleep(2 * time.Millisecond)
	// A failed replace of k1: nothing changes.
	err := m.StoreFrom("k1", io.LimitReader(bytes.NewReader(value), 100), int64(len(value)), tiermem.InTier(tiermem.Hot))
	if err == nil {
		t.Fatal("a short stream stored")
	}
	must(t, m.Store("n", value, tiermem.InTier(tiermem.Hot))) // room: the least recent, k1, goes
	if got := tierOf(t, m, "k1"); got == tiermem.Hot {
		t.Errorf("k1 stayed in hot; LRU should demote it (k0 was replaced since)")
	}
	if got := tierOf(t, m, "k0"); got != tiermem.Hot {
		t.Errorf("k0, replaced by StoreFrom last, was demoted to %v", got)
	}
	for k, want := range map[string]byte{"k0": 'z', "k1": 'b', "k2": 'c', "k3": 'd'} {
		got, err := m.Retrieve(k)
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{want}, len(value))) {
			t.Errorf("%s: %v", k, err)
		}
	}
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) > 0 {
		t.Fatalf("no log copy of %v", missing)
	}
}

// TestStoreFromHotWithSetPolicy: StoreFrom into a tiny hot tier
// from several goroutines while its policy switches: every StoreFrom
// succeeds (room can always be made) and each key reads one whole value.
func TestStoreFromHotWithSetPolicy(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 24 << 10},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	values := [][]byte{bytes.Repeat([]byte{1}, 4<<10), bytes.Repeat([]byte{2}, 3<<10), bytes.Repeat([]byte{3}, 5<<10)}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprint("k", (w+i)%9)
				v := values[(w+i)%3]
				if err := m.StoreFrom(key, bytes.NewReader(v), int64(len(v)), tiermem.InTier(tiermem.Hot)); err != nil {
					t.Errorf("StoreFrom %s: %v", key, err)
					return
				}
				if got, err := m.Retrieve(key); err == nil && !containsValue(values, got) {
					t.Errorf("%s: torn value", key)
				}
			}
		})
	}
	ps := []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyLFU, tiermem.PolicyFIFO, tiermem.PolicyS3FIFO, tiermem.PolicyAdaptive}
	for i := range 100 {
		must(t, m.SetTierPolicy(tiermem.Hot, ps[i%len(ps)]))
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if p, _ := m.TierPolicy(tiermem.Hot); p != ps[99%len(ps)] {
		t.Errorf("TierPolicy(Hot) = %v", p)
	}
}

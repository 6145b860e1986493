package tiermem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestTouchIsAUseWithoutARead: Touch counts as a read of the key for its
// tier's policy (IdleTime starts again), its ReadCount and promotion, as
// Redis's TOUCH updates a key's access time, and a key touched enough is
// promoted at the next pass; Touch of an absent key is ErrNotFound.
func TestTouchIsAUseWithoutARead(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, PromoteHits: 3})
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Warm)))
	before, err := m.ReadCount("k")
	must(t, err)
	for range 3 {
		must(t, m.Touch("k"))
	}
	if n, err := m.ReadCount("k"); err != nil || n < before+3 {
		t.Fatalf("ReadCount after 3 Touches: %d, %v; %d before", n, err, before)
	}
	must(t, m.Migrate())
	if tr, err := m.Tier("k"); err != nil || tr != tiermem.Hot {
		t.Errorf("a warm key touched 3 times (PromoteHits 3) after a pass: in %v, %v; want hot", tr, err)
	}
	if err := m.Touch("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Touch of an absent key = %v, want ErrNotFound", err)
	}
}

// TestTouchRestartsTheHotIdleTime: a Touch of a hot key is a use its
// policy sees: IdleTime starts again from it.
func TestTouchRestartsTheHotIdleTime(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1})
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot)))
	time.Sleep(30 * time.Millisecond)
	idle, err := m.IdleTime("k")
	must(t, err)
	must(t, m.Touch("k"))
	if after, err := m.IdleTime("k"); err != nil || after >= idle {
		t.Errorf("IdleTime %v before a Touch, %v (%v) after; want it to start again", idle, after, err)
	}
}

// TestPeekValueIsNoUse: PeekValue reads a value without counting a read:
// its ReadCount, its hot IdleTime and Analytics stay as they were (what
// OBJECT ENCODING needs, which does not touch a key in Redis).
func TestPeekValueIsNoUse(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1})
	must(t, m.EnableAnalytics(time.Hour))
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := tr.String()
		must(t, m.Store(key, []byte("value"), tiermem.InTier(tr)))
		count, err := m.ReadCount(key)
		must(t, err)
		time.Sleep(20 * time.Millisecond)
		idle, idleErr := m.IdleTime(key)
		for range 5 {
			v, err := m.PeekValue(key)
			must(t, err)
			b := make([]byte, v.Size())
			if _, err := v.ReadAt(b, 0); err != nil || string(b) != "value" {
				t.Fatalf("%s: PeekValue read %q, %v", tr, b, err)
			}
			v.Close()
		}
		if n, err := m.ReadCount(key); err != nil || n != count {
			t.Errorf("%s: ReadCount %d after 5 peeks, %d before (%v)", tr, n, count, err)
		}
		if idleErr == nil {
			if after, err := m.IdleTime(key); err != nil || after < idle {
				t.Errorf("%s: IdleTime %v before 5 peeks, %v after (%v): a peek counted as a use", tr, idle, after, err)
			}
		}
	}
	m.DisableAnalytics() // takes the sample
	var hits int64
	for _, s := range m.Analytics() {
		hits += s.Hits
	}
	if hits != 0 {
		t.Errorf("Analytics counted %d hits for peeks alone", hits)
	}
}

// TestUpdateHeaderViewIsARead: a change of a key's TTL that hands its value
// back (a Redis GETEX with EX) is a read of it: it counts in the key's
// ReadCount, toward promotion, and in Analytics, as a Retrieve would; a
// change without a view (EXPIRE) is not.
func TestUpdateHeaderViewIsARead(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, PromoteHits: 3})
	must(t, m.EnableAnalytics(time.Hour))
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold)))
	ttl := func(e *tiermem.Entry) (bool, error) {
		e.Expires = time.Now().Add(time.Hour)
		return true, nil
	}
	must(t, m.UpdateHeader("k", ttl))
	if n, err := m.ReadCount("k"); err != nil || n != 0 {
		t.Fatalf("ReadCount after a TTL change without a view: %d, %v; want 0", n, err)
	}
	for range 3 {
		if _, err := m.UpdateHeaderViewLarge("k", ttl, func([]byte, bool) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := m.ReadCount("k"); err != nil || n < 3 {
		t.Fatalf("ReadCount after 3 GETEX-like reads: %d, %v; want 3", n, err)
	}
	m.DisableAnalytics() // takes the sample
	var hits int64
	for _, s := range m.Analytics() {
		hits += s.Hits
	}
	if hits != 3 {
		t.Errorf("Analytics counted %d hits for 3 GETEX-like reads, want 3", hits)
	}
	must(t, m.Migrate())
	if tr, err := m.Tier("k"); err != nil || tr == tiermem.Cold {
		t.Errorf("a cold key read 3 times through UpdateHeaderViewLarge (PromoteHits 3), after a pass: in %v, %v; want promoted", tr, err)
	}
}

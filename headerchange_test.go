package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// A TTL or pin change of a value a memory tier holds changes its header in
// the tier's entry: no copy of the value passes through the Manager, and
// none is made at all where the new header fits where the old one lay.
// Before, each change allocated two copies of the value.
func TestHeaderChangeDoesNotCopyTheValue(t *testing.T) {
	const size = 6 << 20
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		t.Run(tr.String(), func(t *testing.T) {
			m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 32 << 20}, Warm: tiermem.TierOptions{Size: 32 << 20},
				Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
			value := bytes.Repeat([]byte("0123456789abcdef"), size/16)
			value[size/2] = 'x' // incompressible enough: the warm tier keeps it as is or not, either way
			must(t, m.Store("big", value, tiermem.InTier(tr)))
			steps := []struct {
				name   string
				change func() error
				most   uint64 // bytes the change may allocate
			}{
				// Even the first TTL of a value stored without one fits
				// where it lies: the hot tier keeps room for it after a
				// value it lends. The warm tier's entry lies outside the
				// Go heap.
				{"Expire", func() error { return m.Expire("big", time.Hour) }, size / 8},
				{"Expire again", func() error { return m.Expire("big", 2*time.Hour) }, size / 8},
				{"Persist", func() error { _, err := m.Persist("big"); return err }, size / 8},
				{"Pin", func() error { return m.Pin("big") }, size / 8},
				{"Unpin", func() error { return m.Unpin("big") }, size / 8},
				{"ExpireAt", func() error { return m.ExpireAt("big", time.Now().Add(time.Hour)) }, size / 8},
				// An UpdateEntry hands fn a copy it owns (GETEX replies
				// from it); one that leaves the value as it was changes
				// only the header, with no second copy.
				{"UpdateEntry of the TTL", func() error {
					return m.UpdateEntry("big", func(e *tiermem.Entry) (bool, error) {
						e.Expires = time.Now().Add(3 * time.Hour)
						return true, nil
					})
				}, size + size/4},
			}
			for _, s := range steps {
				var err error
				n := allocatedBy(func() { err = s.change() })
				must(t, err)
				if tr == tiermem.Warm && s.most < size {
					s.most = size / 8
				}
				if n > s.most {
					t.Errorf("%s of a %d-byte %s value allocated %d bytes, want at most %d", s.name, size, tr, n, s.most)
				}
				if got := tierOf(t, m, "big"); got != tr {
					t.Fatalf("%s moved the key to %v", s.name, got)
				}
				got, err := m.Retrieve("big")
				if err != nil || !bytes.Equal(got, value) {
					t.Fatalf("after %s: a value of %d bytes (%v), not the one stored", s.name, len(got), err)
				}
			}
			if at, err := m.ExpireTime("big"); err != nil || at.IsZero() {
				t.Errorf("ExpireTime after ExpireAt = %v, %v", at, err)
			}
		})
	}
}

// A header change drops the key's copies in other tiers, as a Store does,
// and the new header survives Close (which writes memory to disk) and Open.
func TestHeaderChangeDropsOtherCopiesAndSurvivesClose(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.Store("k", []byte("value"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Copy("k", tiermem.Hot))
	must(t, m.Expire("k", time.Hour))
	if !tiermem.HeldIn(m, tiermem.Hot, "k") || tiermem.HeldIn(m, tiermem.Cold, "k") {
		t.Errorf("after Expire: held in hot %v, in cold %v; want hot only", tiermem.HeldIn(m, tiermem.Hot, "k"), tiermem.HeldIn(m, tiermem.Cold, "k"))
	}
	must(t, m.Pin("k"))
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	if at, err := m.ExpireTime("k"); err != nil || at.IsZero() {
		t.Errorf("ExpireTime after reopening = %v, %v; want the TTL set", at, err)
	}
	if p, err := m.IsPinned("k"); err != nil || !p {
		t.Errorf("IsPinned after reopening = %v, %v", p, err)
	}
	if got, err := m.Retrieve("k"); err != nil || string(got) != "value" {
		t.Errorf("Retrieve after reopening = %q, %v", got, err)
	}
}

// In a tier filled to its budget, a header that needs more room than the
// entry has still lands (room is made as for a Store), and the tier never
// holds more than its budget.
func TestHeaderChangeInAFullTier(t *testing.T) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		t.Run(tr.String(), func(t *testing.T) {
			m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
				Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
			var keys []string
			for i := 0; ; i++ {
				key := fmt.Sprint("k", i)
				must(t, m.Store(key, bytes.Repeat([]byte{byte(i)}, 1000), tiermem.InTier(tr)))
				if tierOf(t, m, "k0") != tr { // the tier is full: the first key left it
					break
				}
				keys = append(keys, key)
			}
			for _, key := range keys[1:] {
				if err := m.Expire(key, time.Hour); err != nil && !errors.Is(err, tiermem.ErrNotFound) {
					t.Fatalf("Expire(%q) in a full %s tier: %v", key, tr, err)
				}
				if u := m.Usage()[tr]; u.Used > u.Capacity {
					t.Fatalf("after Expire(%q): the %s tier uses %d of %d bytes", key, tr, u.Used, u.Capacity)
				}
			}
			for _, key := range keys[1:] {
				if at, err := m.ExpireTime(key); err != nil || at.IsZero() {
					t.Errorf("ExpireTime(%q) = %v, %v", key, at, err)
				}
			}
		})
	}
}

// Goroutines change TTLs and pins beside Stores, Deletes and reads of the
// same keys in tiny tiers, and Close comes in the middle. Every change a
// goroutine saw succeed is there after reopening, on the value it last
// stored; none fails but with ErrClosed.
func TestHeaderChangesUnderLoadAndClose(t *testing.T) {
	for round := range 3 {
		headerChangeRound(t, round)
	}
}

func headerChangeRound(t *testing.T, round int) {
	dir := t.TempDir()
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 32 << 10}, Warm: tiermem.TierOptions{Size: 64 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: time.Millisecond}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	const workers, keysEach = 4, 8
	type state struct {
		version int  // of the value stored last, 0 for none acknowledged
		ttl     bool // the last acknowledged change set a TTL
		unsure  bool // a change failed with ErrClosed: either state may stand
	}
	states := make([][keysEach]state, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := 1; ; i++ {
				k := i % keysEach
				key := fmt.Sprintf("g%d-%d", g, k)
				st := &states[g][k]
				var err error
				switch {
				case st.version == 0 || i%5 == 0:
					err = m.Store(key, bytes.Repeat([]byte{byte(i)}, 200+i%900))
					if err == nil {
						*st = state{version: i}
					}
				case i%2 == 0:
					err = m.Expire(key, time.Hour)
					st.ttl, st.unsure = err == nil || st.ttl, st.unsure || err != nil
				default:
					_, err = m.Persist(key)
					st.ttl, st.unsure = err != nil && st.ttl, st.unsure || err != nil
				}
				if errors.Is(err, tiermem.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("round %d: %s: %v", round, key, err)
					return
				}
			}
		})
	}
	time.Sleep(time.Duration(20+10*round) * time.Millisecond)
	must(t, m.Close())
	wg.Wait()
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	for g := range workers {
		for k, st := range states[g] {
			checkHeaderState(t, m, fmt.Sprintf("g%d-%d", g, k), st.version, st.ttl, st.unsure)
		}
	}
}

// checkHeaderState checks that key holds the value of version (none for 0)
// with a TTL or without one as ttl says, unless unsure.
func checkHeaderState(t *testing.T, m *tiermem.Manager, key string, version int, ttl, unsure bool) {
	t.Helper()
	got, err := m.Retrieve(key)
	if version == 0 {
		return // a Store racing Close may or may not have landed
	}
	want := bytes.Repeat([]byte{byte(version)}, 200+version%900)
	if err != nil || !bytes.Equal(got, want) {
		// A Store that failed with ErrClosed may have landed: it is newer.
		if err != nil || len(got) == 0 || got[0] == byte(version) {
			t.Errorf("%s after reopening: %d bytes, %v; want version %d", key, len(got), err, version)
		}
		return
	}
	at, err := m.ExpireTime(key)
	if err != nil || !unsure && at.IsZero() == ttl {
		t.Errorf("%s after reopening: ExpireTime %v, %v; want a TTL: %v", key, at, err, ttl)
	}
}

// UpdateHeader's fn sees the key's header and no value, may keep, change
// or delete the key, and fails with nothing changed; a value fn leaves
// behind is ignored. In every tier, and for arrays.
func TestUpdateHeader(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	errNo := errors.New("no")
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := "k-" + tr.String()
		must(t, m.Store(key, []byte("value"), tiermem.InTier(tr), tiermem.WithTTL(time.Minute)))
		err := m.UpdateHeader(key, func(e *tiermem.Entry) (bool, error) {
			if !e.Found || e.Value != nil || !e.Expires.Equal(clock.Now().Add(time.Minute)) || e.Pinned {
				t.Errorf("%s: fn sees %+v", tr, *e)
			}
			e.Expires, e.Pinned, e.Value = time.Time{}, true, []byte("ignored")
			return true, nil
		})
		must(t, err)
		if got, err := m.Retrieve(key); err != nil || string(got) != "value" {
			t.Errorf("%s: after UpdateHeader, Retrieve = %q, %v", tr, got, err)
		}
		if at, err := m.ExpireTime(key); err != nil || !at.IsZero() {
			t.Errorf("%s: ExpireTime = %v, %v; want no TTL", tr, at, err)
		}
		if p, err := m.IsPinned(key); err != nil || !p || tierOf(t, m, key) != tr {
			t.Errorf("%s: IsPinned = %v, %v, in %v", tr, p, err, tierOf(t, m, key))
		}
		if err := m.UpdateHeader(key, func(e *tiermem.Entry) (bool, error) { e.Pinned = false; return true, errNo }); !errors.Is(err, errNo) {
			t.Errorf("%s: fn's error: %v", tr, err)
		}
		if p, _ := m.IsPinned(key); !p {
			t.Errorf("%s: a failed UpdateHeader unpinned the key", tr)
		}
		must(t, m.UpdateHeader(key, func(*tiermem.Entry) (bool, error) { return false, nil }))
		if _, err := m.Retrieve(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("%s: after keep false, Retrieve: %v", tr, err)
		}
	}
	must(t, m.UpdateHeader("absent", func(e *tiermem.Entry) (bool, error) {
		if e.Found {
			t.Errorf("an absent key is Found")
		}
		return false, nil
	}))
	must(t, m.StoreArray("a", tiermem.Float64Array([]float64{1, 2, 3}, 3)))
	must(t, m.UpdateHeader("a", func(e *tiermem.Entry) (bool, error) { e.Expires = clock.Now().Add(time.Hour); return true, nil }))
	a, err := m.RetrieveArray("a")
	must(t, err)
	if v, err := a.Float64s(); err != nil || len(v) != 3 || v[2] != 3 {
		t.Errorf("array after UpdateHeader: %v, %v", v, err)
	}
}

// A cold key's header changes in the cold tier's record: the key stays
// cold, keeps its value, and its new header survives reopening; a value
// whose stored bytes fail their check makes the change ErrCorrupt, never a
// rewrite of what was read.
func TestHeaderChangeOfAColdKey(t *testing.T) {
	dir := t.TempDir()
	storeColdAndClose(t, dir, 20)
	o := tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.Expire("key3", time.Hour))
	must(t, m.Pin("key4"))
	must(t, m.UpdateEntry("key5", func(e *tiermem.Entry) (bool, error) { e.Expires = time.Now().Add(time.Hour); return true, nil }))
	for _, key := range []string{"key3", "key4", "key5"} {
		if got := tierOf(t, m, key); got != tiermem.Cold {
			t.Errorf("%s moved to %v", key, got)
		}
	}
	must(t, m.Close())

	seg := segments(t, dir)[0]
	data, err := os.ReadFile(seg)
	must(t, err)
	at := bytes.Index(data, valueFor("key7")[40:80])
	if at < 0 {
		t.Fatal("the value of key7 is not in the segment")
	}
	data[at+10] ^= 0x40
	must(t, os.WriteFile(seg, data, 0o644))

	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	for _, key := range []string{"key3", "key5"} {
		if at, err := m.ExpireTime(key); err != nil || at.IsZero() {
			t.Errorf("%s after reopening: ExpireTime %v, %v", key, at, err)
		}
	}
	if p, err := m.IsPinned("key4"); err != nil || !p {
		t.Errorf("key4 after reopening: IsPinned %v, %v", p, err)
	}
	for _, key := range []string{"key3", "key4", "key5"} {
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, valueFor(key)) {
			t.Errorf("%s after reopening: %d bytes, %v", key, len(got), err)
		}
	}
	if err := m.Expire("key7", time.Hour); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("Expire of a value with a flipped bit: %v, want ErrCorrupt", err)
	}
	if _, err := m.Retrieve("key7"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("after the Expire, the flipped value: %v, want ErrCorrupt", err)
	}
}

// With Durability Always a header change of a memory key reaches the cold
// log's copy before it returns, so a crash after it keeps the new header.
func TestDurableHeaderChangeReachesTheLog(t *testing.T) {
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: tiermem.Always}
	m := open(t, &o)
	big := bytes.Repeat([]byte("durable "), 16<<10) // 128 KiB: the header path for UpdateEntry too
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		key := "k-" + tr.String()
		must(t, m.Store(key, big, tiermem.InTier(tr)))
		must(t, m.Expire(key, time.Hour))
		want, err := m.ExpireTime(key)
		must(t, err)
		for _, in := range []tiermem.Tier{tr, tiermem.Cold} {
			if got, err := tiermem.ExpiresIn(m, in, key); err != nil || got != want.UnixNano() {
				t.Errorf("%s after Expire: the %v tier's header expires at %d (%v), want %d", key, in, got, err, want.UnixNano())
			}
		}
		must(t, m.UpdateEntry(key, func(e *tiermem.Entry) (bool, error) { e.Expires = time.Time{}; return true, nil }))
		_, err = m.Persist(key)
		must(t, err)
		must(t, m.Pin(key))
		for _, in := range []tiermem.Tier{tr, tiermem.Cold} {
			if got, err := tiermem.ExpiresIn(m, in, key); err != nil || got != 0 {
				t.Errorf("%s after UpdateEntry: the %v tier's header expires at %d (%v), want none", key, in, got, err)
			}
		}
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, big) || tierOf(t, m, key) != tr {
			t.Errorf("%s: %d bytes, %v, in %v", key, len(got), err, tierOf(t, m, key))
		}
		// The log's record is read into a pooled buffer and appended with
		// the new header: no copy of the value through the Manager, no
		// rewrite of the memory tier's entry.
		if n := allocatedBy(func() { must(t, m.Expire(key, 2*time.Hour)) }); n > uint64(len(big))/2 && !raceEnabled {
			t.Errorf("%s: a durable Expire of a %d-byte value allocated %d bytes", key, len(big), n)
		}
	}
}

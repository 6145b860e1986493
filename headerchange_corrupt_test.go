package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// flipIn flips one bit of the first copy of probe in dir's cold segments,
// waiting up to 10 s for the cold log's write buffer to reach the file
// (under SyncNone it is written every 100 ms).
func flipIn(t *testing.T, dir string, probe []byte) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if flipFirst(t, dir, probe) {
			return
		}
	}
	t.Fatal("the value is in no cold segment")
}

// flipFirst flips one bit of the first copy of probe in dir's cold
// segments and reports whether it found one.
func flipFirst(t *testing.T, dir string, probe []byte) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	must(t, err)
	for _, seg := range files {
		data, err := os.ReadFile(seg)
		must(t, err)
		if at := bytes.Index(data, probe); at >= 0 {
			f, err := os.OpenFile(seg, os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte{data[at+10] ^ 0x40}, int64(at+10))
			must(t, err)
			must(t, f.Close())
			return true
		}
	}
	return false
}

// openCorruptColdWithGlacierCopy returns a Manager whose key7 is in cold
// and, by Copy, in glacier, with a bit of its cold bytes flipped, and
// key7's value; it closes the Manager when the test ends.
func openCorruptColdWithGlacierCopy(t *testing.T) (*tiermem.Manager, []byte) {
	t.Helper()
	dir := t.TempDir()
	m, err := tiermem.Open(dir, glacierOptions(1<<30))
	must(t, err)
	t.Cleanup(func() { m.Close() })
	v := valueFor("key7")
	must(t, m.Store("key7", v, tiermem.InTier(tiermem.Cold)))
	must(t, m.Copy("key7", tiermem.Glacier))
	flipIn(t, dir, v[40:80])
	return m, v
}

// A cold key with an intact copy in glacier (Copy) whose cold bytes rot: an
// Expire fails with ErrCorrupt and changes nothing, as the general path
// does; the intact glacier copy survives, so that Move(key, Glacier) still
// gets the value back. (Dropping the other copies before the change
// dropped it.)
func TestColdHeaderChangeKeepsGlacierCopyOnCorrupt(t *testing.T) {
	m, v := openCorruptColdWithGlacierCopy(t)
	if err := m.Expire("key7", time.Hour); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Expire of a corrupt cold value: %v, want ErrCorrupt", err)
	}
	if _, err := tiermem.ExpiresIn(m, tiermem.Glacier, "key7"); err != nil {
		t.Errorf("after the failed Expire, the glacier copy: %v", err)
	}
	if err := m.Move("key7", tiermem.Glacier); err != nil {
		t.Fatalf("after the failed Expire, Move to glacier (whose copy is intact): %v", err)
	}
	if got, err := m.Retrieve("key7"); err != nil || !bytes.Equal(got, v) {
		t.Fatalf("after the failed Expire, from glacier: %d bytes, %v", len(got), err)
	}
}

// With Durability Always, a memory key whose log copy rots: the header
// change must heal the log copy from memory (the general path), so that
// after Close and reopening the key reads back whole with its new TTL.
func TestDurableCorruptLogCopyHealed(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: tiermem.Always}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	v := valueFor("key7")
	must(t, m.Store("key7", v, tiermem.InTier(tiermem.Hot)))
	flipIn(t, dir, v[40:80])
	must(t, m.Expire("key7", time.Hour))
	hot, err1 := tiermem.ExpiresIn(m, tiermem.Hot, "key7")
	cold, err2 := tiermem.ExpiresIn(m, tiermem.Cold, "key7")
	if err1 != nil || err2 != nil || hot == 0 || hot != cold {
		t.Errorf("after Expire: hot expires %d (%v), cold %d (%v)", hot, err1, cold, err2)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	if got, err := m.Retrieve("key7"); err != nil || !bytes.Equal(got, v) {
		t.Errorf("after reopening: %d bytes, %v", len(got), err)
	}
	if at, err := m.ExpireTime("key7"); err != nil || at.IsZero() {
		t.Errorf("after reopening: ExpireTime %v, %v", at, err)
	}
}

// With Durability Always and a hot tier too full for the header change in
// place (the log changes first, then memory refuses, then the undo and the
// general path): both copies must end with the new header.
func TestDurableUndoWhenMemoryFull(t *testing.T) {
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: tiermem.Always}
	m := open(t, &o)
	big := bytes.Repeat([]byte("x1234567"), 110<<10) // 880 KiB of a 1 MiB hot tier
	must(t, m.Store("k", big, tiermem.InTier(tiermem.Hot)))
	for i, fn := range []func() error{
		func() error { return m.Expire("k", time.Hour) },
		func() error { return m.Pin("k") },
		func() error {
			return m.UpdateEntry("k", func(e *tiermem.Entry) (bool, error) { e.Expires = time.Now().Add(3 * time.Hour); return true, nil })
		},
	} {
		must(t, fn())
		want, err := m.ExpireTime("k")
		must(t, err)
		tr := tierOf(t, m, "k")
		mem, err1 := tiermem.ExpiresIn(m, tr, "k")
		cold, err2 := tiermem.ExpiresIn(m, tiermem.Cold, "k")
		if err1 != nil || err2 != nil || mem != want.UnixNano() || cold != want.UnixNano() {
			t.Errorf("step %d: %v tier expires %d (%v), cold %d (%v), want %d", i, tr, mem, err1, cold, err2, want.UnixNano())
		}
	}
}

// Beside TestColdHeaderChangeKeepsGlacierCopyOnCorrupt:
// without the Expire, Move(key, Glacier) gets the intact copy back.
func TestGlacierCopyOfACorruptColdValueRecovers(t *testing.T) {
	m, v := openCorruptColdWithGlacierCopy(t)
	if _, err := m.Retrieve("key7"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Retrieve: %v, want ErrCorrupt", err)
	}
	if err := m.UpdateEntry("key7", func(e *tiermem.Entry) (bool, error) { return true, nil }); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("UpdateEntry (the general path): %v, want ErrCorrupt", err)
	}
	must(t, m.Move("key7", tiermem.Glacier))
	if got, err := m.Retrieve("key7"); err != nil || !bytes.Equal(got, v) {
		t.Fatalf("from glacier: %d bytes, %v", len(got), err)
	}
}

// With Durability Always, a header change the memory tier has no room for
// puts the cold log's copy back; when the disk fills in between, so that
// the put-back fails too, the caller hears of both (the log keeps the new
// header, memory the old), and the value itself is untouched.
func TestDurableHeaderChangeReportsAFailedPutBack(t *testing.T) {
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: tiermem.Always}
	m, fault := openOnFault(t, t.TempDir(), o)
	defer m.Close()
	value := make([]byte, 4<<10)
	rand.NewChaCha8([32]byte{7}).Read(value) // incompressible: stored as it is
	must(t, m.Store("k", value, tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	for i := 0; ; i++ { // fill the hot tier with pinned keys: no room is left, and none can be made
		err := m.Store(fmt.Sprint("fill", i), make([]byte, 100), tiermem.InTier(tiermem.Hot), tiermem.Pinned())
		if errors.Is(err, tiermem.ErrNoSpace) {
			break
		}
		must(t, err)
	}
	record := int64(48 + len("k") + 10 + len(value)) // the log's record with the new header
	fault.SetSpace(record + record/2)                // room for the change, not for its put-back
	err := m.Expire("k", time.Hour)
	if !errors.Is(err, tiermem.ErrNoSpace) || !strings.Contains(err.Error(), "back") {
		t.Fatalf("Expire with no room in memory and the disk filling: %v; want ErrNoSpace naming the put-back", err)
	}
	fault.SetSpace(-1)
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("after the failed change: %d bytes, %v", len(got), err)
	}
}

// On a real disk that fills (a 4 MiB tmpfs, root only), with Durability
// Always, a header change of a hot, a warm and a cold key fails with
// ErrNoSpace and changes nothing; once there is room it lands, and it
// survives reopening.
func TestHeaderChangeOnARealFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	dir := filepath.Join(mnt, "data")
	o := tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	values := map[string][]byte{}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := tr.String()
		values[key] = make([]byte, 16<<10) // incompressible and past a page: its record needs new pages
		rand.NewChaCha8([32]byte{byte(tr)}).Read(values[key])
		must(t, m.Store(key, values[key], tiermem.InTier(tr)))
	}
	keys := []string{"hot", "warm", "cold"}
	check := func(when string) {
		for key, v := range values {
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("%s: %q: %d bytes, %v", when, key, len(got), err)
			}
		}
	}
	filler := tmpfs.Fill(t, mnt)
	for _, key := range keys {
		if err := m.Expire(key, time.Hour); !errors.Is(err, tiermem.ErrNoSpace) {
			t.Fatalf("Expire(%q) on a full disk = %v, want ErrNoSpace", key, err)
		}
		if at, err := m.ExpireTime(key); err != nil || !at.IsZero() {
			t.Fatalf("%q after the failed Expire: ExpireTime %v, %v; want none", key, at, err)
		}
	}
	check("after the failed Expires")
	must(t, os.Remove(filler))
	for _, key := range keys {
		must(t, m.Expire(key, time.Hour))
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	check("after reopening")
	for _, key := range keys {
		if at, err := m.ExpireTime(key); err != nil || at.IsZero() {
			t.Errorf("%q after reopening: ExpireTime %v, %v; want the TTL", key, at, err)
		}
	}
}

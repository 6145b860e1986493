package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// openStore opens a store in dir (a fresh temp dir if empty), closed at the
// end of the test unless the test closes it.
func openStore(t testing.TB, dir string, opts *disk.Options) *disk.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// valueOf is the value the tests store under key at version v: its length
// and content follow from both, so any read can be checked.
func valueOf(key string, v int) []byte {
	n := (len(key)*31 + v*17) % 3000
	return bytes.Repeat([]byte(fmt.Sprintf("%s/%d;", key, v)), n/8+1)
}

func mustPut(t testing.TB, s *disk.Store, key string, value, meta []byte) int64 {
	t.Helper()
	n, err := s.Put(key, value, meta)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return n
}

func mustGet(t testing.TB, s *disk.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(key, nil)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes, want %d", key, len(got), len(want))
	}
}

func TestPutGetViewDelete(t *testing.T) {
	s := openStore(t, "", nil)
	n := mustPut(t, s, "k", []byte("value"), []byte("meta"))
	if want := int64(disk.RecordHeaderSize + len("k") + len("meta") + len("value")); n != want {
		t.Fatalf("Put reported %d bytes, want %d", n, want)
	}
	got, err := s.Get("k", []byte("prefix-"))
	if err != nil || string(got) != "prefix-value" {
		t.Fatalf("Get appends: %q, %v", got, err)
	}
	err = s.View("k", func(v []byte) error {
		if string(v) != "value" {
			t.Errorf("View saw %q", v)
		}
		return errors.New("from fn")
	})
	if err == nil || err.Error() != "from fn" {
		t.Fatalf("View returned %v, want fn's error", err)
	}
	freed, err := s.Delete("k")
	if err != nil || freed != n {
		t.Fatalf("Delete = %d, %v; want %d", freed, err, n)
	}
	if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if _, err := s.Delete("k"); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if st := s.Stats(); st.Keys != 0 || st.LiveBytes != 0 || st.Tombstones != 1 {
		t.Fatalf("stats after delete: %+v", st)
	}
}

func TestOverwriteKeepsNewest(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 8 << 10})
	for v := range 50 {
		mustPut(t, s, "k", valueOf("k", v), nil)
	}
	mustGet(t, s, "k", valueOf("k", 49))
	if st := s.Stats(); st.Keys != 1 || st.DeadBytes == 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// PutReplacing says whether the key held a value: not a new key, not one
// deleted (its tombstone), a replaced one; across a reopen too.
func TestPutReplacing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	put := func(key string, want bool) {
		t.Helper()
		n, replaced, err := s.PutReplacing(key, []byte("v-"+key), nil)
		if err != nil || n <= 0 || replaced != want {
			t.Fatalf("PutReplacing(%q) = %d, %v, %v; want a size, %v, nil", key, n, replaced, err, want)
		}
	}
	put("a", false)
	put("a", true)
	put("b", false)
	if _, err := s.Delete("b"); err != nil {
		t.Fatal(err)
	}
	put("b", false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	put("a", true)
	put("c", false)
}

// Reserve remakes the index's maps around the keys they hold: every key
// and value stays, before and after the puts it made room for, and a
// closed store ignores it.
func TestReserveKeepsEveryKey(t *testing.T) {
	s := openStore(t, "", nil)
	for i := range 500 {
		mustPut(t, s, fmt.Sprint("old", i), valueOf("old", i), nil)
	}
	s.Reserve(100_000)
	for i := range 5000 {
		mustPut(t, s, fmt.Sprint("new", i), valueOf("new", i), []byte{byte(i)})
	}
	s.Reserve(10) // less than the maps hold: nothing to do
	for i := range 500 {
		mustGet(t, s, fmt.Sprint("old", i), valueOf("old", i))
	}
	for i := range 5000 {
		mustGet(t, s, fmt.Sprint("new", i), valueOf("new", i))
	}
	if st := s.Stats(); st.Keys != 5500 {
		t.Fatalf("%d keys after Reserve, want 5500", st.Keys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Reserve(1000)
}

func TestErrors(t *testing.T) {
	s := openStore(t, "", nil)
	for _, key := range []string{"", strings.Repeat("k", disk.MaxKeyLen+1)} {
		if _, err := s.Put(key, nil, nil); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("Put(%d-byte key) = %v", len(key), err)
		}
		if _, err := s.Get(key, nil); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("Get(%d-byte key) = %v", len(key), err)
		}
		if _, err := s.Delete(key); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("Delete(%d-byte key) = %v", len(key), err)
		}
	}
	if _, err := s.Put("k", nil, make([]byte, disk.MaxMetaLen+1)); !errors.Is(err, tier.ErrTooLarge) {
		t.Errorf("Put with long meta = %v", err)
	}
	if err := s.View("missing", func([]byte) error { return nil }); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("View(missing) = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Put":     func() error { _, err := s.Put("k", nil, nil); return err }(),
		"Get":     func() error { _, err := s.Get("k", nil); return err }(),
		"View":    s.View("k", func([]byte) error { return nil }),
		"Delete":  func() error { _, err := s.Delete("k"); return err }(),
		"Scan":    s.Scan(func(string, []byte, int64) error { return nil }),
		"Sync":    s.Sync(),
		"Compact": s.Compact(),
		"Close":   s.Close(),
	} {
		if !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s after Close = %v", name, err)
		}
	}
}

func TestOptionsAndLock(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []disk.Options{
		{SegmentSize: 100}, {Sync: -2}, {Compression: 9}, {CompactThreshold: 1.5},
	} {
		if _, err := disk.Open(dir, &o); !errors.Is(err, disk.ErrInvalidOptions) {
			t.Errorf("Open(%+v) = %v", o, err)
		}
	}
	openStore(t, dir, nil)
	if _, err := disk.Open(dir, nil); !errors.Is(err, disk.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestSyncModeString(t *testing.T) {
	for m, want := range map[disk.SyncMode]string{
		disk.SyncNone: "none", disk.SyncAlways: "always", disk.SyncEverySecond: "every 1s", -5: "SyncMode(-5)",
	} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", int64(m), m.String(), want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SyncEvery(0) did not panic")
		}
	}()
	disk.SyncEvery(0)
}

func TestScan(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 16 << 10})
	want := map[string]int64{}
	for i := range 300 {
		key := fmt.Sprintf("key%03d", i)
		want[key] = mustPut(t, s, key, valueOf(key, 0), []byte(key+"-meta"))
	}
	for i := 0; i < 300; i += 3 {
		key := fmt.Sprintf("key%03d", i)
		s.Delete(key)
		delete(want, key)
	}
	got := map[string]int64{}
	err := s.Scan(func(key string, meta []byte, size int64) error {
		if string(meta) != key+"-meta" {
			t.Errorf("meta of %q = %q", key, meta)
		}
		meta[0] = 'X' // the slice is the caller's until fn returns: scribbling must not matter
		if _, err := s.Get(key, nil); err != nil {
			t.Errorf("Get inside Scan: %v", err)
		}
		got[key] = size
		return nil
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("Scan saw %d keys, want %d: %v", len(got), len(want), err)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("size of %q = %d, want %d", k, got[k], n)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Scan(func(string, []byte, int64) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("Scan did not stop at fn's error: %v after %d calls", err, calls)
	}
	if m, _ := s.Meta("key001"); string(m) != "key001-meta" {
		t.Fatalf("meta was scribbled through Scan: %q", m)
	}
}

func TestCompressionPays(t *testing.T) {
	for _, c := range []disk.Compression{disk.ZstdFastest, disk.ZstdDefault, disk.NoCompression} {
		s := openStore(t, "", &disk.Options{Compression: c})
		text := bytes.Repeat([]byte("the cold tier compresses text like this. "), 2000)
		random := randomBytes(64<<10, 9)
		nText := mustPut(t, s, "text", text, nil)
		nRandom := mustPut(t, s, "random", random, nil)
		small := mustPut(t, s, "small", text[:100], nil)
		mustGet(t, s, "text", text)
		mustGet(t, s, "random", random)
		compressed := nText < int64(len(text))/4
		if compressed != (c != disk.NoCompression) {
			t.Errorf("compression %d: text stored in %d bytes of %d", c, nText, len(text))
		}
		if nRandom < int64(len(random)) || small < 100 {
			t.Errorf("compression %d: incompressible stored in %d, small in %d", c, nRandom, small)
		}
		err := s.View("text", func(v []byte) error {
			if !bytes.Equal(v, text) {
				t.Error("View of a compressed value differs")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 32 << 10}
	s := openStore(t, dir, opts)
	for i := range 500 {
		key := fmt.Sprint("k", i)
		mustPut(t, s, key, valueOf(key, 1), []byte{byte(i)})
	}
	for i := 0; i < 500; i += 5 {
		s.Delete(fmt.Sprint("k", i))
	}
	before := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	after := s.Stats()
	if after.Keys != before.Keys || after.LiveBytes != before.LiveBytes || after.Tombstones != before.Tombstones {
		t.Fatalf("reopen: %+v, before %+v", after, before)
	}
	if after.HintedSegments != after.RecoveredSegments {
		t.Fatalf("a clean Close left segments without hints: %+v", after)
	}
	for i := range 500 {
		key := fmt.Sprint("k", i)
		got, err := s.Get(key, nil)
		if i%5 == 0 {
			if !errors.Is(err, tier.ErrNotFound) {
				t.Fatalf("deleted %q: %v", key, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, valueOf(key, 1)) {
			t.Fatalf("Get(%q) after reopen: %v", key, err)
		}
		if m, _ := s.Meta(key); !slices.Equal(m, []byte{byte(i)}) {
			t.Fatalf("meta of %q = %v", key, m)
		}
	}
	mustPut(t, s, "new", []byte("after reopen"), nil)
	mustGet(t, s, "new", []byte("after reopen"))
}

func TestLargeValues(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 64 << 10})
	big := randomBytes(300<<10, 1) // larger than a segment: gets one of its own
	mustPut(t, s, "small1", []byte("a"), nil)
	mustPut(t, s, "big", big, nil)
	mustPut(t, s, "small2", []byte("b"), nil)
	mustGet(t, s, "big", big)
	mustGet(t, s, "small1", []byte("a"))
	mustGet(t, s, "small2", []byte("b"))
	if st := s.Stats(); st.Segments < 3 {
		t.Fatalf("segments: %+v", st)
	}
}

func TestMetaViewer(t *testing.T) {
	s := openStore(t, "", nil)
	n := mustPut(t, s, "k", []byte("value"), []byte("hdr"))
	err := s.ViewMeta("k", func(v, m []byte) error {
		if string(v) != "value" || string(m) != "hdr" {
			t.Errorf("ViewMeta saw %q, %q", v, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, m, err := s.GetMeta("k", nil)
	if err != nil || string(v) != "value" || string(m) != "hdr" {
		t.Fatalf("GetMeta = %q, %q, %v", v, m, err)
	}
	if s.Used() != n || s.Len() != 1 {
		t.Fatalf("Used = %d, Len = %d", s.Used(), s.Len())
	}
	if _, err := s.Meta("missing"); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("Meta(missing) = %v", err)
	}
}

// TestSmallSegmentsMerge: large values leave small sealed segments behind
// them; compaction merges those.
func TestSmallSegmentsMerge(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 64 << 10, Compression: disk.NoCompression}
	s := openStore(t, dir, opts)
	want := map[string][]byte{}
	for i := range 6 {
		small, large := fmt.Sprint("small", i), fmt.Sprint("large", i)
		want[small], want[large] = []byte(small), randomBytes(80<<10, uint64(i))
		mustPut(t, s, small, want[small], nil)
		mustPut(t, s, large, want[large], nil)
	}
	// 12 segments: 6 of one large value each, 6 of one small value each,
	// the last one active. The 5 small sealed ones merge into one.
	waitFor(t, "small segments to merge", func() bool { return s.Stats().Segments <= 8 })
	for k, v := range want {
		mustGet(t, s, k, v)
	}
	s.Close()
	s = openStore(t, dir, opts)
	for k, v := range want {
		mustGet(t, s, k, v)
	}
}

func TestLongestKey(t *testing.T) {
	s := openStore(t, "", nil)
	key := strings.Repeat("k", disk.MaxKeyLen)
	mustPut(t, s, key, []byte("v"), make([]byte, disk.MaxMetaLen))
	mustGet(t, s, key, []byte("v"))
}

// TestCompactInsideView retires the segment a View is reading from: the
// View's reference keeps it open, and reads afterwards go to the copy.
func TestCompactInsideView(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 8 << 10, CompactThreshold: -1})
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		mustPut(t, s, keys[i], valueOf(keys[i], 0), nil)
		mustPut(t, s, keys[i], valueOf(keys[i], 1), nil) // leaves dead bytes everywhere
	}
	before := s.Stats().Compactions
	err := s.View("k0", func(v []byte) error {
		if err := s.Compact(); err != nil {
			return err
		}
		for _, k := range keys {
			mustGet(t, s, k, valueOf(k, 1))
		}
		if !bytes.Equal(v, valueOf("k0", 1)) {
			t.Error("the viewed value changed under compaction")
		}
		return nil
	})
	if err != nil || s.Stats().Compactions == before {
		t.Fatalf("View with Compact inside: %v, %+v", err, s.Stats())
	}
}

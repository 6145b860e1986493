package tiermem_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/bundle"
)

// TestSnapshotHostileLookupDetectsDamagedValue: SnapshotFile.Lookup promises
// "a damaged record is ErrSnapshotCorrupt" (snapshot_file.go), and
// docs/snapshot-format.md that "every byte is covered by a checksum". A
// single flipped bit inside one key's value must then not come back from
// Lookup (or `tiermem snapshot get`) as that key's value: it is an altered
// value served as if it were the one the snapshot recorded.
func TestSnapshotHostileLookupDetectsDamagedValue(t *testing.T) {
	m := open(t, nil)
	want := bytes.Repeat([]byte("precious-value:"), 64)
	must(t, m.Store("k", want, tiermem.InTier(tiermem.Warm)))
	must(t, m.Store("other", []byte("x")))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	b, err := os.ReadFile(path)
	must(t, err)
	at := bytes.Index(b, want)
	if at < 0 {
		t.Fatal("the value's bytes are not in the file")
	}
	b[at+100] ^= 0x01
	must(t, os.WriteFile(path, b, 0o644))

	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		if !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
			t.Fatalf("OpenSnapshot of a damaged file: %v; want ErrSnapshotCorrupt", err)
		}
		return // refused whole: fine
	}
	defer f.Close()
	if err := f.Verify(); !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
		t.Errorf("Verify = %v; want ErrSnapshotCorrupt", err)
	}
	e, err := f.Lookup("k")
	if err == nil && !bytes.Equal(e.Value, want) {
		t.Fatalf("Lookup returned the damaged value as the key's (byte %d differs) with no error; want ErrSnapshotCorrupt", 100)
	}
	if err != nil && !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
		t.Fatalf("Lookup = %v; want ErrSnapshotCorrupt", err)
	}
}

// TestSnapshotHostileLookupDetectsDamagedHeader: a flipped pin bit in a record's
// header must not make Lookup report the key unpinned without an error.
func TestSnapshotHostileLookupDetectsDamagedHeader(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("pinned-key", []byte("v"), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	bd, err := bundle.Open(path)
	must(t, err)
	r, err := bd.GetRecord([]byte("pinned-key"))
	must(t, err)
	meta := bytes.Clone(r.Meta)
	bd.Close()
	b, err := os.ReadFile(path)
	must(t, err)
	// The record's meta area follows its key in the data section.
	k := bytes.Index(b, []byte("pinned-key"))
	at := -1
	if k >= 0 {
		if i := bytes.Index(b[k:], meta); i >= 0 {
			at = k + i
		}
	}
	if at < 0 || len(meta) < 3 || meta[2]&1 == 0 {
		t.Fatalf("record meta %x not found", meta)
	}
	b[at+2] ^= 0x01 // header flags, bit 0: pinned
	must(t, os.WriteFile(path, b, 0o644))
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		return
	}
	defer f.Close()
	e, err := f.Lookup("pinned-key")
	if err == nil && !e.Pinned {
		t.Fatal("Lookup reports a pinned key unpinned, from a damaged record, with no error; want ErrSnapshotCorrupt")
	}
}

// TestSnapshotHostileRestoreRefusesArrayShapeMismatch: Verify and Restore check
// that every record is "one a Manager can take back" (snapshot_file.go).
// A record whose array header claims a shape its value's bytes do not
// fill is not one: StoreArray refuses it with ErrType. A file whose every
// checksum holds (a crafted or buggy writer) must not bring such an array
// into the Manager, where RetrieveArray hands out an Array whose Len()
// disagrees with its Data.
func TestSnapshotHostileRestoreRefusesArrayShapeMismatch(t *testing.T) {
	m := open(t, nil)
	must(t, m.StoreArray("arr", tiermem.Float64Array([]float64{1, 2}, 2), tiermem.InTier(tiermem.Hot)))
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	crafted := withArrayShape100(t, path)

	other := open(t, nil)
	_, err = other.Restore(crafted, nil)
	if err != nil {
		if !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
			t.Fatalf("Restore = %v; want ErrSnapshotCorrupt", err)
		}
		return
	}
	a, err := other.RetrieveArray("arr")
	if err == nil && a.Len()*a.DType.Size() != len(a.Data) {
		t.Fatalf("Restore accepted an array of shape %v over %d bytes of data (Len %d); want ErrSnapshotCorrupt from Restore", a.Shape, len(a.Data), a.Len())
	}
}

// TestSnapshotHostileDamagedFileIsNotCalledAnotherKind: a snapshot with one
// flipped bit is a damaged snapshot, and the error must say so (a checksum
// that fails), not that the file is "a bundle, but not a snapshot": that
// sends the user looking for the right file instead of a good copy. Lookup
// in such a file must not answer that a key the snapshot holds is "not in
// the snapshot" either.
func TestSnapshotHostileDamagedFileIsNotCalledAnotherKind(t *testing.T) {
	m := open(t, nil)
	const keys = 6
	for i := range keys {
		must(t, m.Store(key(i), bytes.Repeat([]byte{byte(i)}, 100+i), tiermem.InTier(tiermem.Tier(i%3))))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	good, err := os.ReadFile(path)
	must(t, err)
	bad := filepath.Join(dir, "bad")
	var misnamed, missing []int
	for i := 0; i < len(good); i++ {
		b := bytes.Clone(good)
		b[i] ^= 1 << (i % 8)
		must(t, os.WriteFile(bad, b, 0o644))
		f, err := tiermem.OpenSnapshot(bad)
		if err != nil {
			if strings.Contains(err.Error(), "not a snapshot") {
				misnamed = append(misnamed, i)
			}
			continue
		}
		for k := range keys {
			if _, err := f.Lookup(key(k)); errors.Is(err, tiermem.ErrNotFound) {
				missing = append(missing, i)
				break
			}
		}
		f.Close()
	}
	if len(misnamed) > 0 {
		b := bytes.Clone(good)
		b[misnamed[0]] ^= 1 << (misnamed[0] % 8)
		must(t, os.WriteFile(bad, b, 0o644))
		_, err := m.Restore(bad, nil)
		t.Errorf("a flipped bit at %d of the %d offsets tried (first %d) is reported as another kind of file: %v", len(misnamed), len(good), misnamed[0], err)
	}
	if len(missing) > 0 {
		t.Errorf("a flipped bit at %d offsets (first %d) makes Lookup answer ErrNotFound for a key the snapshot holds", len(missing), missing[0])
	}
}

// withArrayShape100 writes a copy of the snapshot at path in which the
// array "arr" (2 float64s) claims shape [100], its checksums valid, and
// returns the copy's path: a snapshot that is damaged (or forged) in a way
// only a check of the record finds.
func withArrayShape100(t *testing.T, path string) string {
	t.Helper()
	bd, err := bundle.Open(path)
	must(t, err)
	var recs []bundle.Record
	for r, err := range bd.All() {
		must(t, err)
		r.Key, r.Value, r.Meta = bytes.Clone(r.Key), bytes.Clone(r.Value), bytes.Clone(r.Meta)
		if string(r.Key) == "arr" {
			if r.Meta[len(r.Meta)-1] != 2 {
				t.Fatalf("unexpected array meta %x", r.Meta)
			}
			r.Meta[len(r.Meta)-1] = 100 // shape [100]: 800 bytes, the value has 16
		}
		recs = append(recs, r)
	}
	bd.Close()
	crafted := filepath.Join(t.TempDir(), "crafted")
	_, err = bundle.BuildRecords(crafted, func(yield func(bundle.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}, nil)
	must(t, err)
	return crafted
}

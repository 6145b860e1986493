package object_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// seqName returns the part of the names of pack seq's objects that a
// rule matches: "0000000000000002." for both the pack and its index.
func seqName(seq int) string { return fmt.Sprintf("%016x.", seq) }

// revertSetup opens a store over a faulty Mem bucket and stores "k" (v1,
// meta "m1") durably in pack 1. It returns the store, the bucket under
// the faults (for a reopen beside the store, as after a crash) and the
// faulty one.
func revertSetup(t *testing.T) (*object.Store, *object.Mem, *faulty) {
	t.Helper()
	mem := object.NewMem()
	f := newFaulty(mem)
	o := quick()
	o.Retries = -1
	s := mustOpen(t, f, o)
	if _, err := s.Put("k", []byte("v1"), []byte("m1")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	return s, mem, f
}

// wantValue checks key's value and meta in s; a nil value wants the key
// absent.
func wantValue(t *testing.T, what string, s *object.Store, key string, value, meta []byte) {
	t.Helper()
	var got, gotMeta []byte
	err := s.ViewMeta(key, func(v, m []byte) error {
		got, gotMeta = bytes.Clone(v), bytes.Clone(m)
		return nil
	})
	switch {
	case value == nil && errors.Is(err, tier.ErrNotFound):
	case value == nil:
		t.Fatalf("%s: %q = %q, %v; want it absent", what, key, got, err)
	case err != nil:
		t.Fatalf("%s: %q: %v; want %q", what, key, err, value)
	case !bytes.Equal(got, value) || !bytes.Equal(gotMeta, meta):
		t.Fatalf("%s: %q = %q (meta %q); want %q (meta %q)", what, key, got, gotMeta, value, meta)
	}
}

// reopenBeside opens the store kept in b beside s, as after a crash of
// s, and checks it: every pack verifies against its index.
func reopenBeside(t *testing.T, b object.Bucket) *object.Store {
	t.Helper()
	s2 := mustOpen(t, b, quick())
	t.Cleanup(func() { s2.Close() })
	if err := s2.Verify(); err != nil {
		t.Fatalf("Verify after the reopen: %v", err)
	}
	return s2
}

// TestHostileRevertTakesAFailedPutOutOfItsPack: a Put whose Sync failed
// (its pack could not be uploaded), taken back with Revert, never comes
// back after a crash, though a later Sync that fails half way leaves its
// pack in the bucket without an index, which Open scans: Revert replaced
// the Put's frame in that pack by the older value's. The other frames of
// the pack keep their values, before and after the reopen.
func TestHostileRevertTakesAFailedPutOutOfItsPack(t *testing.T) {
	s, mem, f := revertSetup(t)
	defer s.Close()
	f.inject(rule{op: "put", match: seqName(2), fault: fail, times: -1})
	for _, kv := range [][2]string{{"a", "va"}, {"k", "v2"}, {"b", "vb"}} {
		if _, err := s.Put(kv[0], []byte(kv[1]), []byte("m"+kv[0])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 2's upload failing returned nil")
	}
	withdrawn, err := s.Revert("k", []byte("v1"), []byte("m1"), true)
	if err != nil || !withdrawn {
		t.Fatalf("Revert of a Put in a pack never uploaded = %v, %v; want true, nil", withdrawn, err)
	}
	wantValue(t, "after Revert", s, "k", []byte("v1"), []byte("m1"))
	wantValue(t, "after Revert", s, "a", []byte("va"), []byte("ma"))
	wantValue(t, "after Revert", s, "b", []byte("vb"), []byte("mb"))
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	// Pack 2 uploads now, and its index does not, nor the delete of the
	// pack that follows: Open scans it, as after a crash between the two.
	f.heal()
	f.inject(rule{op: "put", match: seqName(2) + "idx", fault: fail, times: -1})
	f.inject(rule{op: "delete", match: "", fault: fail, times: -1})
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 2's index failing returned nil")
	}
	s2 := reopenBeside(t, mem)
	wantValue(t, "after the crash", s2, "k", []byte("v1"), []byte("m1"))
	wantValue(t, "after the crash", s2, "a", []byte("va"), []byte("ma"))
	wantValue(t, "after the crash", s2, "b", []byte("vb"), []byte("mb"))
	f.heal()
	mustSync(t, s)
	s3 := reopenBeside(t, mem)
	wantValue(t, "after the last Sync", s3, "k", []byte("v1"), []byte("m1"))
	if s3.Used() != s.Used() || s3.Len() != s.Len() {
		t.Fatalf("reopened: Used %d, Len %d; the store: Used %d, Len %d", s3.Used(), s3.Len(), s.Used(), s.Len())
	}
}

// TestHostileRevertAfterTheIndexFailed: a pack whose index upload failed
// after the pack's own is deleted again, so that Open does not scan it and
// apply frames no Sync acknowledged; Revert then takes the Put out of it,
// and a crash after any later Sync finds the value put back.
func TestHostileRevertAfterTheIndexFailed(t *testing.T) {
	s, mem, f := revertSetup(t)
	defer s.Close()
	f.inject(rule{op: "put", match: seqName(2) + "idx", fault: fail, times: -1})
	if _, err := s.Put("k", []byte("v2"), []byte("m2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 2's index failing returned nil")
	}
	wantValue(t, "a crash after the failed Sync", reopenBeside(t, mem), "k", []byte("v1"), []byte("m1"))
	withdrawn, err := s.Revert("k", []byte("v1"), []byte("m1"), true)
	if err != nil || !withdrawn {
		t.Fatalf("Revert = %v, %v; want true, nil", withdrawn, err)
	}
	f.heal()
	f.inject(rule{op: "put", match: seqName(3), fault: fail, times: -1})
	s.Sync()
	wantValue(t, "a crash after a Sync that failed half way", reopenBeside(t, mem), "k", []byte("v1"), []byte("m1"))
}

// TestHostileRevertOfAPackThatMayBeInTheBucket: when a failed upload's
// pack stays in the bucket (its delete failed too), Revert cannot promise
// that the Put is gone (it reports false), but the pack's next upload
// deletes that object first, so that no later Sync leaves the Put's frame
// in the bucket.
func TestHostileRevertOfAPackThatMayBeInTheBucket(t *testing.T) {
	s, mem, f := revertSetup(t)
	defer s.Close()
	f.inject(rule{op: "put", match: seqName(2) + "idx", fault: fail, times: -1})
	f.inject(rule{op: "delete", match: "", fault: fail, times: -1})
	if _, err := s.Put("a", []byte("va"), []byte("ma")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("k", []byte("v2"), []byte("m2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 2's index failing returned nil")
	}
	withdrawn, err := s.Revert("k", []byte("v1"), []byte("m1"), true)
	if err != nil || withdrawn {
		t.Fatalf("Revert while pack 2 lies in the bucket = %v, %v; want false, nil", withdrawn, err)
	}
	wantValue(t, "after Revert", s, "k", []byte("v1"), []byte("m1"))
	f.heal()
	f.inject(rule{op: "put", match: seqName(3), fault: fail, times: -1})
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 3's upload failing returned nil")
	}
	s2 := reopenBeside(t, mem)
	wantValue(t, "a crash after a Sync that failed half way", s2, "k", []byte("v1"), []byte("m1"))
	wantValue(t, "a crash after a Sync that failed half way", s2, "a", []byte("va"), []byte("ma"))
}

// TestHostileRevertOfAKeyThatWasAbsent: a Put of a new key whose Sync
// failed, reverted, leaves the key absent, in memory and after a crash or
// a Sync.
func TestHostileRevertOfAKeyThatWasAbsent(t *testing.T) {
	s, mem, f := revertSetup(t)
	defer s.Close()
	f.inject(rule{op: "put", match: seqName(2), fault: fail, times: -1})
	if _, err := s.Put("new", []byte("vn"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with pack 2's upload failing returned nil")
	}
	withdrawn, err := s.Revert("new", nil, nil, false)
	if err != nil || !withdrawn {
		t.Fatalf("Revert = %v, %v; want true, nil", withdrawn, err)
	}
	wantValue(t, "after Revert", s, "new", nil, nil)
	wantValue(t, "a crash after Revert", reopenBeside(t, mem), "new", nil, nil)
	f.heal()
	mustSync(t, s)
	s2 := reopenBeside(t, mem)
	wantValue(t, "after the reopen", s2, "new", nil, nil)
	wantValue(t, "after the reopen", s2, "k", []byte("v1"), []byte("m1"))
	if s2.Len() != 1 || s.Len() != 1 || s2.Used() != s.Used() {
		t.Fatalf("Len %d (reopened %d), Used %d (reopened %d); want 1 key", s.Len(), s2.Len(), s.Used(), s2.Used())
	}
}

// TestHostileRevertOfADurablePut: a Put already durable is taken back by
// a later write, as Restore does, and Revert says so (false).
func TestHostileRevertOfADurablePut(t *testing.T) {
	s, mem, _ := revertSetup(t)
	defer s.Close()
	if _, err := s.Put("k", []byte("v2"), []byte("m2")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	withdrawn, err := s.Revert("k", []byte("v1"), []byte("m1"), true)
	if err != nil || withdrawn {
		t.Fatalf("Revert of a durable Put = %v, %v; want false, nil", withdrawn, err)
	}
	wantValue(t, "after Revert", s, "k", []byte("v1"), []byte("m1"))
	mustSync(t, s)
	wantValue(t, "after the reopen", reopenBeside(t, mem), "k", []byte("v1"), []byte("m1"))
}

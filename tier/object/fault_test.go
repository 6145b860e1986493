package object_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// TestTransientFailuresRetried: requests that fail twice then succeed
// cost retries, not values.
func TestTransientFailuresRetried(t *testing.T) {
	f := newFaulty(mustDir(t, t.TempDir()))
	s := mustOpen(t, f, quick())
	f.inject(rule{op: "put", fault: fail, times: 2})
	f.inject(rule{op: "put", match: ".idx", fault: fail, times: 2})
	want := fill(t, s, 0, 40)
	mustSync(t, s)
	f.inject(rule{op: "get", fault: fail, times: 1})
	f.inject(rule{op: "get", fault: truncate, times: 1})
	check(t, s, want)
	st := s.Stats()
	if st.Retries != 6 || st.Failures != 0 || st.Keys != 40 || st.Pending != 0 || st.BytesUp != f.putBytes.Load() {
		t.Errorf("Stats after 6 transient faults = %+v; the bucket saw %d bytes put", st, f.putBytes.Load())
	}
	mustClose(t, s)
}

// TestUploadFailureKeepsValues: while the bucket fails every request,
// values stay readable from memory, Puts fail once an upload failed
// (rather than fill memory), Sync and Close fail naming the bucket and
// object, and nothing acknowledged is dropped; once the bucket heals, a
// Sync makes everything durable.
func TestUploadFailureKeepsValues(t *testing.T) {
	dir := t.TempDir()
	f := newFaulty(mustDir(t, dir))
	s := mustOpen(t, f, quick())
	f.inject(rule{op: "put", fault: fail, times: -1})
	want := map[string][]byte{}
	var putErr error
	for i := 0; i < 200 && putErr == nil; i++ {
		if _, putErr = s.Put(key(i), value(i), []byte(key(i))); putErr == nil {
			want[key(i)] = value(i)
		}
	}
	if !errors.Is(putErr, object.ErrUnavailable) {
		t.Fatalf("Puts into a failing bucket went on, then %v; want ErrUnavailable once an upload failed", putErr)
	}
	err := s.Sync()
	if !errors.Is(err, object.ErrUnavailable) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), ".pack") {
		t.Fatalf("Sync with a failing bucket = %v; want ErrUnavailable naming the directory and the pack", err)
	}
	check(t, s, want)
	if err := s.Close(); err == nil {
		t.Fatal("Close with a failing bucket returned nil")
	}
	check(t, s, want) // a failed Close keeps the store open
	f.heal()
	more := fill(t, s, 1000, 1010)
	mustSync(t, s)
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), quick())
	defer s.Close()
	for k, v := range more {
		want[k] = v
	}
	check(t, s, want)
}

// TestHangingRequests: a request that hangs ends at its deadline; after
// the retries the read fails with ErrUnavailable, in bounded time, and
// the next read works.
func TestHangingRequests(t *testing.T) {
	f := newFaulty(mustDir(t, t.TempDir()))
	o := quick()
	o.RequestTimeout = 200 * time.Millisecond
	s := mustOpen(t, f, o)
	defer s.Close()
	want := fill(t, s, 0, 10)
	mustSync(t, s)
	f.inject(rule{op: "get", fault: hang, times: 3})
	start := time.Now()
	_, err := get(s, key(3))
	if !errors.Is(err, object.ErrUnavailable) || !errors.Is(err, os.ErrDeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("read while the bucket hangs = %v; want ErrUnavailable after deadlines", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("read while the bucket hangs took %v", d)
	}
	check(t, s, want)
}

// TestFlippedOnTheWire: a GET whose bytes arrive flipped is repeated, and
// the value is right.
func TestFlippedOnTheWire(t *testing.T) {
	f := newFaulty(mustDir(t, t.TempDir()))
	s := mustOpen(t, f, quick())
	defer s.Close()
	want := fill(t, s, 0, 10)
	mustSync(t, s)
	f.inject(rule{op: "get", fault: flip, times: 1})
	check(t, s, want)
}

// TestFlippedAtRest: a value whose stored bytes are damaged reads as
// ErrCorrupt, never wrong bytes, and Verify reports it; other values read.
func TestFlippedAtRest(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, mustDir(t, dir), quick())
	want := fill(t, s, 0, 20)
	mustClose(t, s)
	pack := firstObject(t, dir, ".pack")
	flipByte(t, pack, 16+20+2) // the key of the first frame, key-0000's
	s = mustOpen(t, mustDir(t, dir), quick())
	defer s.Close()
	_, err := get(s, key(0))
	wantCorrupt(t, "reading a value whose frame was flipped", err)
	wantCorrupt(t, "Verify", s.Verify())
	delete(want, key(0))
	for k, v := range want {
		if got, err := get(s, k); err != nil || string(got) != string(v) {
			t.Fatalf("%s: %v", k, err)
		}
	}
}

// TestLostIndex: a pack whose index was deleted, or damaged, is scanned
// at Open, every value is back, and its index is written again.
func TestLostIndex(t *testing.T) {
	for _, damage := range []string{"deleted", "flipped", "truncated"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, mustDir(t, dir), quick())
			want := fill(t, s, 0, 40)
			mustClose(t, s)
			idx := firstObject(t, dir, ".idx")
			switch damage {
			case "deleted":
				must(t, os.Remove(idx))
			case "flipped":
				flipByte(t, idx, 40)
			case "truncated":
				must(t, os.Truncate(idx, 30))
			}
			s = mustOpen(t, mustDir(t, dir), quick())
			check(t, s, want)
			mustClose(t, s)
			if _, err := os.Stat(idx); err != nil {
				t.Fatalf("the index was not rewritten: %v", err)
			}
			s = mustOpen(t, mustDir(t, dir), quick())
			defer s.Close()
			check(t, s, want)
		})
	}
}

// TestDamagedPackWithoutIndex: a pack that must be scanned and does not
// verify fails Open closed; so does an index whose pack is gone.
func TestDamagedPackWithoutIndex(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, mustDir(t, dir), quick())
	fill(t, s, 0, 40)
	mustClose(t, s)
	must(t, os.Remove(firstObject(t, dir, ".idx")))
	flipByte(t, firstObject(t, dir, ".pack"), 100)
	_, err := object.Open(mustDir(t, dir), quick())
	wantCorrupt(t, "Open with a damaged pack and no index", err)

	dir = t.TempDir()
	s = mustOpen(t, mustDir(t, dir), quick())
	fill(t, s, 0, 40)
	mustClose(t, s)
	must(t, os.Remove(firstObject(t, dir, ".pack")))
	_, err = object.Open(mustDir(t, dir), quick())
	wantCorrupt(t, "Open with an index whose pack is gone", err)
}

// TestBucketGone: the bucket deleted midway fails Sync and reads with
// ErrNoBucket, at once (not retried), drops nothing from memory, and the
// store recovers when it is back.
func TestBucketGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bucket")
	s := mustOpen(t, mustDir(t, dir), quick())
	durable := fill(t, s, 0, 20)
	mustSync(t, s)
	must(t, os.RemoveAll(dir))
	pending := map[string][]byte{}
	for i := 20; i < 30; i++ { // until a failed background upload refuses them
		if _, err := s.Put(key(i), value(i), []byte(key(i))); err != nil {
			if !errors.Is(err, object.ErrNoBucket) {
				t.Fatalf("Put with the bucket gone = %v, want ErrNoBucket", err)
			}
			break
		}
		pending[key(i)] = value(i)
	}
	if err := s.Sync(); !errors.Is(err, object.ErrNoBucket) || errors.Is(err, object.ErrUnavailable) {
		t.Fatalf("Sync with the bucket gone = %v; want ErrNoBucket, not retried", err)
	}
	if _, err := get(s, key(1)); !errors.Is(err, object.ErrNoBucket) {
		t.Fatalf("reading a durable value with the bucket gone = %v; want ErrNoBucket", err)
	}
	checkValues(t, s, pending) // still in memory
	must(t, os.MkdirAll(dir, 0o755))
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), quick())
	defer s.Close()
	check(t, s, pending) // the durable ones went with the bucket
	if _, err := get(s, key(1)); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("a value of the deleted bucket after reopening: %v", err)
	}
	_ = durable
}

// TestCrashBetweenPackAndIndex: a pack uploaded whose index never made it
// (the process died before its index PUT, or that PUT failed and so did
// the delete of the pack that follows it) is found by scanning.
func TestCrashBetweenPackAndIndex(t *testing.T) {
	dir := t.TempDir()
	f := newFaulty(mustDir(t, dir))
	o := quick()
	o.Retries = -1
	s := mustOpen(t, f, o)
	want := fill(t, s, 0, 30)
	must(t, s.Sync()) // every background upload done: none can race the rule below
	f.inject(rule{op: "put", match: ".idx", fault: fail, times: -1})
	// The delete of the pack that follows fails too: it stays, as after a crash.
	f.inject(rule{op: "delete", match: "", fault: fail, times: -1})
	maps.Copy(want, fill(t, s, 30, 31)) // one value, in the open pack until Sync
	if err := s.Sync(); err == nil {
		t.Fatal("Sync with failing index uploads returned nil")
	}
	// Abandon s as a crash would: reopen beside it.
	s2 := mustOpen(t, mustDir(t, dir), quick())
	defer s2.Close()
	check(t, s2, want)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// firstObject returns the path of the first object in dir's packs whose
// name ends in suffix.
func firstObject(t testing.TB, dir, suffix string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "pack", "*"+suffix))
	if err != nil || len(names) == 0 {
		t.Fatalf("no %s object in %s: %v", suffix, dir, err)
	}
	return names[0]
}

// flipByte flips one bit of the file at off.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	b[off] ^= 0x10
	must(t, os.WriteFile(path, b, 0o644))
}

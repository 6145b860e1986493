package object_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// TestCompact: packs whose values were mostly replaced or deleted are
// rewritten and deleted; the values, deletions and accounting survive,
// and a reopen agrees.
func TestCompact(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, mustDir(t, dir), quick())
	want := fill(t, s, 0, 200)
	mustSync(t, s)
	for i := 0; i < 200; i++ {
		switch i % 4 {
		case 0, 1:
			if _, err := s.Delete(key(i)); err != nil {
				t.Fatal(err)
			}
			delete(want, key(i))
		case 2:
			v := append(value(i), "replaced"...)
			if _, err := s.Put(key(i), v, []byte(key(i))); err != nil {
				t.Fatal(err)
			}
			want[key(i)] = v
		}
	}
	mustSync(t, s)
	used, before := s.Used(), countObjects(t, dir)
	if err := s.Compact(); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	after := countObjects(t, dir)
	if after >= before {
		t.Fatalf("Compact left %d objects of %d", after, before)
	}
	check(t, s, want)
	if s.Used() != used {
		t.Fatalf("Used went from %d to %d across Compact", used, s.Used())
	}
	for _, p := range packs(t, s) {
		if p.Durable && p.LiveShare < 0.5 && p.LiveBytes > 0 {
			t.Errorf("after Compact, %s keeps %.2f live", p.Name, p.LiveShare)
		}
	}
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), quick())
	defer s.Close()
	check(t, s, want)
	for i := 0; i < 200; i += 4 {
		if _, err := get(s, key(i)); !errors.Is(err, tier.ErrNotFound) {
			t.Fatalf("deleted %s after Compact and reopen: %v", key(i), err)
		}
	}
}

// TestCompactKeepsTombstones: a pack of tombstones that hide values in an
// older pack, which stays (mostly live), keeps hiding them after it is
// compacted: no deleted value comes back.
func TestCompactKeepsTombstones(t *testing.T) {
	dir := t.TempDir()
	o := quick()
	o.PackSize = 1 << 20 // one pack for all the values
	s := mustOpen(t, mustDir(t, dir), o)
	want := fill(t, s, 0, 100)
	mustSync(t, s)
	for i := 0; i < 10; i++ { // the older pack stays 90% live
		if _, err := s.Delete(key(i)); err != nil {
			t.Fatal(err)
		}
		delete(want, key(i))
	}
	more := fill(t, s, 1000, 1010) // and the tombstones' pack
	mustSync(t, s)
	for k := range more {
		if _, err := s.Delete(k); err != nil { // now mostly tombstones
			t.Fatal(err)
		}
	}
	mustSync(t, s)
	must(t, s.Compact())
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), o)
	defer s.Close()
	check(t, s, want)
}

// TestCompactRacesWriters: Compact while goroutines replace and delete
// the keys it moves; every key ends with its last acknowledged value, in
// this store and after reopening.
func TestCompactRacesWriters(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, mustDir(t, dir), quick())
	fill(t, s, 0, 120)
	mustSync(t, s)
	const writers = 3
	last := make([]map[string][]byte, writers) // per writer: key → value, nil if deleted
	var wg sync.WaitGroup
	for g := range writers {
		last[g] = map[string][]byte{}
		wg.Go(func() {
			for r := range 60 {
				k := key(g + writers*(r%40))
				if r%3 == 0 {
					if _, err := s.Delete(k); err == nil || errors.Is(err, tier.ErrNotFound) {
						last[g][k] = nil
					}
					continue
				}
				v := fmt.Appendf(nil, "writer %d round %d", g, r)
				if _, err := s.Put(k, v, []byte(k)); err != nil {
					t.Error(err)
					return
				}
				last[g][k] = v
			}
		})
	}
	for range 3 {
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	mustClose(t, s)
	s = mustOpen(t, mustDir(t, dir), quick())
	defer s.Close()
	for g := range writers {
		for k, v := range last[g] {
			got, err := get(s, k)
			switch {
			case v == nil && !errors.Is(err, tier.ErrNotFound):
				t.Errorf("%s was deleted last, reads %q, %v", k, got, err)
			case v != nil && (err != nil || !bytes.Equal(got, v)):
				t.Errorf("%s reads %q, %v; want %q", k, got, err, v)
			}
		}
	}
}

// TestCompactCrashAfterIndexDelete: a compacted pack whose index was
// deleted but not the pack (a crash between the two) is scanned at Open;
// its frames are older than their copies and lose.
func TestCompactCrashAfterIndexDelete(t *testing.T) {
	dir := t.TempDir()
	f := newFaulty(mustDir(t, dir))
	s := mustOpen(t, f, quick())
	want := fill(t, s, 0, 60)
	mustSync(t, s)
	for i := 0; i < 60; i++ {
		if i%4 == 0 {
			continue
		}
		v := append(value(i), "new"...)
		if _, err := s.Put(key(i), v, []byte(key(i))); err != nil {
			t.Fatal(err)
		}
		want[key(i)] = v
	}
	mustSync(t, s)
	f.inject(rule{op: "delete", match: ".pack", fault: gone, times: -1})
	if err := s.Compact(); err == nil {
		t.Fatal("Compact with pack deletes failing returned nil")
	}
	s2 := mustOpen(t, mustDir(t, dir), quick())
	check(t, s2, want)
	mustClose(t, s2)

	// Once deletes work again, the next Sync deletes every compacted
	// pack, none forgotten.
	f.heal()
	mustSync(t, s)
	if n, live := countObjects(t, dir), len(packs(t, s)); n != 2*live {
		t.Fatalf("after the deletes healed: %d objects for %d packs", n, live)
	}
	mustClose(t, s)
}

func countObjects(t testing.TB, dir string) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "pack", "*"))
	must(t, err)
	return len(names)
}

func packs(t testing.TB, s *object.Store) []object.PackInfo {
	t.Helper()
	ps, err := s.Packs()
	must(t, err)
	return ps
}

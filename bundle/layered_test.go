package bundle_test

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

// openLayered opens a Layered store and closes it when the test ends.
func openLayered(t *testing.T, path string, opts *bundle.Options) *bundle.Layered {
	t.Helper()
	l, err := bundle.OpenLayered(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// viewOf takes a View released when the test ends.
func viewOf(t *testing.T, l *bundle.Layered) *bundle.View {
	t.Helper()
	v, err := l.View()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Release)
	return v
}

// checkStore checks that the store holds exactly want, through Get, a View
// and the View's All.
func checkStore(t *testing.T, l *bundle.Layered, want map[string]string) {
	t.Helper()
	v := viewOf(t, l)
	for k, w := range want {
		got, err := l.Get(nil, []byte(k))
		if err != nil || string(got) != w {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, got, err, w)
		}
		if got, err := v.Get([]byte(k)); err != nil || string(got) != w {
			t.Fatalf("View.Get(%q) = %q, %v; want %q", k, got, err, w)
		}
	}
	all := map[string]string{}
	var prev []byte
	for r, err := range v.All() {
		if err != nil {
			t.Fatal(err)
		}
		all[string(r.Key)] = string(r.Value)
		if prev != nil && slices.Equal(prev, r.Key) {
			t.Fatalf("All yields %q twice", r.Key)
		}
		prev = r.Key
	}
	if !maps.Equal(all, want) {
		t.Fatalf("All = %v\nwant %v", all, want)
	}
}

// layeredFixture builds a bundle of keys a..e and opens it layered, with a
// delta that changes some keys.
func layeredFixture(t *testing.T) (*bundle.Layered, map[string]string) {
	t.Helper()
	path := build(t, nil, []rec{{"a", "1", ""}, {"b", "2", ""}, {"c", "3", ""}, {"d", "4", ""}, {"e", "5", ""}})
	l := openLayered(t, path, nil)
	l.Set([]byte("b"), []byte("two"))
	l.Delete([]byte("c"))
	l.Set([]byte("f"), []byte("6"))
	l.Delete([]byte("missing"))
	l.Set([]byte("d"), []byte("gone soon"))
	l.Delete([]byte("d"))
	return l, map[string]string{"a": "1", "b": "two", "e": "5", "f": "6"}
}

func TestLayeredReadsAsOne(t *testing.T) {
	l, want := layeredFixture(t)
	checkStore(t, l, want)
	for _, k := range []string{"c", "d", "missing"} {
		if _, err := l.Get(nil, []byte(k)); !errors.Is(err, bundle.ErrNotFound) {
			t.Fatalf("Get(%q) error = %v, want ErrNotFound", k, err)
		}
	}
	if n := l.DeltaLen(); n != 5 {
		t.Fatalf("DeltaLen = %d, want 5", n)
	}
}

func TestMergeFoldsTheDelta(t *testing.T) {
	l, want := layeredFixture(t)
	l.SetRecord(bundle.Record{Key: []byte("g"), Value: []byte("7"), Meta: []byte("meta")})
	want["g"] = "7"
	info, err := l.Merge()
	if err != nil {
		t.Fatal(err)
	}
	if info.Keys != int64(len(want)) || l.DeltaLen() != 0 {
		t.Fatalf("after Merge: %d keys, delta of %d; want %d and 0", info.Keys, l.DeltaLen(), len(want))
	}
	checkStore(t, l, want)
	b := open(t, l.Path())
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
	if r, err := b.GetRecord([]byte("g")); err != nil || string(r.Meta) != "meta" {
		t.Fatalf("merged record g: meta %q, %v", r.Meta, err)
	}
}

func TestViewOutlivesMerge(t *testing.T) {
	l, _ := layeredFixture(t)
	v := viewOf(t, l)
	a, err := v.Get([]byte("a")) // a slice of the first bundle's mapping
	if err != nil {
		t.Fatal(err)
	}
	l.Delete([]byte("a"))
	l.Set([]byte("e"), []byte("five"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Merge(); err != nil { // the first generation is retired twice over
		t.Fatal(err)
	}
	if string(a) != "1" {
		t.Fatalf("a slice read before the Merge now holds %q", a)
	}
	want := map[string]string{"b": "two", "e": "five", "f": "6"}
	for k, w := range want {
		if got, err := v.Get([]byte(k)); err != nil || string(got) != w {
			t.Fatalf("old View: Get(%q) = %q, %v; want %q", k, got, err, w)
		}
	}
	if _, err := v.Get([]byte("a")); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("old View: deleted key: %v, want ErrNotFound", err)
	}
	checkStore(t, l, want)
}

func TestBundleOutlivesMerge(t *testing.T) {
	l, _ := layeredFixture(t)
	other := open(t, l.Path()) // another reader, as another process would map it
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	for k, w := range map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"} {
		if got, err := other.Get([]byte(k)); err != nil || string(got) != w {
			t.Fatalf("old reader: Get(%q) = %q, %v; want %q", k, got, err, w)
		}
	}
	if err := other.Verify(); err != nil {
		t.Fatalf("old reader after Merge: %v", err)
	}
}

func TestLayeredStartsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.bundle")
	l := openLayered(t, path, &bundle.Options{Index: bundle.Multi})
	checkStore(t, l, map[string]string{})
	l.Set([]byte("k"), []byte("v"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	if b := open(t, path); b.Index() != bundle.Multi || b.Len() != 1 {
		t.Fatalf("merged bundle: %v index, %d records; want multi, 1", b.Index(), b.Len())
	}
}

func TestLayeredMultiSetReplacesAllValues(t *testing.T) {
	path := build(t, &bundle.Options{Index: bundle.Multi}, []rec{{"k", "1", ""}, {"k", "2", ""}, {"j", "3", ""}})
	l := openLayered(t, path, nil)
	l.Set([]byte("k"), []byte("only"))
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for v, err := range open(t, path).Values([]byte("k")) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(v))
	}
	if !slices.Equal(got, []string{"only"}) {
		t.Fatalf("values of k after Merge = %q, want [only]", got)
	}
}

func TestLayeredRefusesApproximate(t *testing.T) {
	path := build(t, &bundle.Options{Index: bundle.Approximate}, []rec{{"k", "v", ""}})
	if _, err := bundle.OpenLayered(path, nil); !errors.Is(err, bundle.ErrNoKeys) {
		t.Fatalf("OpenLayered error = %v, want ErrNoKeys", err)
	}
	if _, err := bundle.OpenLayered(filepath.Join(t.TempDir(), "x"), &bundle.Options{Index: bundle.Approximate}); !errors.Is(err, bundle.ErrNoKeys) {
		t.Fatalf("OpenLayered error = %v, want ErrNoKeys", err)
	}
}

func TestFailedMergeKeepsTheDelta(t *testing.T) {
	path := build(t, nil, []rec{{"a", "1", ""}})
	l := openLayered(t, path, &bundle.Options{TempDir: filepath.Join(t.TempDir(), "missing")})
	l.Set([]byte("b"), []byte("2"))
	if _, err := l.Merge(); err == nil {
		t.Fatal("Merge with a missing temporary directory succeeded")
	}
	if l.DeltaLen() != 1 {
		t.Fatalf("DeltaLen = %d after a failed Merge, want 1", l.DeltaLen())
	}
	checkStore(t, l, map[string]string{"a": "1", "b": "2"})
	assertOnly(t, filepath.Dir(path), "test.bundle")
}

func TestClosedLayered(t *testing.T) {
	l, _ := layeredFixture(t)
	v := viewOf(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get([]byte("a")); err != nil || string(got) != "1" {
		t.Fatalf("a View taken before Close: %q, %v", got, err)
	}
	if _, err := l.Get(nil, []byte("a")); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if err := l.Set([]byte("a"), nil); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
	if _, err := l.View(); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
	if _, err := l.Merge(); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Merge after Close: %v", err)
	}
	v.Release()
	if _, err := v.Get([]byte("a")); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Get on a released View: %v", err)
	}
}

// TestConcurrentMerge runs writers, readers and Merges together; each writer
// owns its keys, so the final contents are known.
func TestConcurrentMerge(t *testing.T) {
	path := build(t, nil, randomRecords(2000, 1, false))
	l := openLayered(t, path, &bundle.Options{MemoryLimit: 1 << 20})
	const writers, keys, rounds = 4, 200, 600
	final := make([]map[string]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		final[w] = map[string]string{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range rounds {
				k := fmt.Sprintf("w%d-%d", w, rng.IntN(keys))
				if rng.IntN(4) == 0 {
					l.Delete([]byte(k))
					delete(final[w], k)
					continue
				}
				v := fmt.Sprintf("%s@%d", k, i)
				l.Set([]byte(k), []byte(v))
				final[w][k] = v
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() { readUntil(t, l, stop) })
	}
	for range 4 {
		if _, err := l.Merge(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if _, err := l.Merge(); err != nil {
		t.Fatal(err)
	}
	b := open(t, path)
	for _, m := range final {
		for k, want := range m {
			if got, err := b.Get([]byte(k)); err != nil || string(got) != want {
				t.Fatalf("after the Merges: Get(%q) = %q, %v; want %q", k, got, err, want)
			}
		}
	}
}

// readUntil reads through Views until stop is closed, checking that every
// value read belongs to its key.
func readUntil(t *testing.T, l *bundle.Layered, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		v, err := l.View()
		if err != nil {
			t.Error(err)
			return
		}
		for r, err := range v.All() {
			if err != nil {
				t.Error(err)
				break
			}
			if k := string(r.Key); k[0] == 'w' && string(r.Value[:len(k)]) != k {
				t.Errorf("key %q holds %q", k, r.Value)
			}
		}
		v.Release()
	}
}

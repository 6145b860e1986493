package bundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		opts  bundle.Options
		meta  bool
		multi bool
	}{
		{"empty", 0, bundle.Options{}, false, false},
		{"one", 1, bundle.Options{}, false, false},
		{"exact", 3000, bundle.Options{}, false, false},
		{"exact with meta", 3000, bundle.Options{}, true, false},
		{"exact spilled", 20000, bundle.Options{MemoryLimit: 1 << 20}, true, false},
		{"packed", 3000, bundle.Options{Align: 1}, false, false},
		{"page aligned", 300, bundle.Options{Align: 4096}, false, false},
		{"multi", 3000, bundle.Options{Index: bundle.Multi}, false, true},
		{"multi spilled with meta", 20000, bundle.Options{Index: bundle.Multi, MemoryLimit: 1 << 20}, true, true},
		{"streamed", 3000, bundle.Options{Streamed: true}, false, false},
		{"streamed with meta, spilled", 20000, bundle.Options{Streamed: true, MemoryLimit: 1 << 20}, true, false},
		{"streamed packed", 3000, bundle.Options{Streamed: true, Align: 1}, true, false},
		{"streamed page aligned", 300, bundle.Options{Streamed: true, Align: 4096}, false, false},
		{"streamed multi", 3000, bundle.Options{Streamed: true, Index: bundle.Multi, MemoryLimit: 1 << 20}, true, true},
		{"streamed empty", 0, bundle.Options{Streamed: true}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := randomRecords(tt.n, uint64(tt.n), tt.meta)
			b := open(t, build(t, &tt.opts, recs))
			checkContents(t, b, model(recs, tt.multi))
			if err := b.Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestApproximate(t *testing.T) {
	recs := randomRecords(5000, 7, true)
	b := open(t, build(t, &bundle.Options{Index: bundle.Approximate}, recs))
	m := model(recs, false)
	for k, want := range m {
		r, err := b.GetRecord([]byte(k))
		if err != nil || string(r.Value) != want[0].value || r.Key != nil {
			t.Fatalf("GetRecord(%q) = %q (key %q), %v; want %q and no key", k, r.Value, r.Key, err, want[0].value)
		}
	}
	info := b.Info()
	if info.Keys != int64(len(m)) || info.Records != int64(len(m)) || b.Len() != len(m) {
		t.Fatalf("Keys %d, Records %d, Len %d; want %d", info.Keys, info.Records, b.Len(), len(m))
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestLastAddWins(t *testing.T) {
	recs := []rec{{"k", "first", "m1"}, {"other", "x", ""}, {"k", "second", "m2"}, {"k", "third", ""}}
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate} {
		b := open(t, build(t, &bundle.Options{Index: kind}, recs))
		r, err := b.GetRecord([]byte("k"))
		if err != nil || string(r.Value) != "third" || len(r.Meta) != 0 {
			t.Fatalf("%v: GetRecord = %q, %q, %v; want the last value added", kind, r.Value, r.Meta, err)
		}
		if b.Len() != 2 {
			t.Fatalf("%v: Len = %d, want 2", kind, b.Len())
		}
	}
}

func TestMultiKeepsOrderAdded(t *testing.T) {
	recs := []rec{{"k", "3", ""}, {"a", "x", ""}, {"k", "1", ""}, {"k", "2", ""}}
	b := open(t, build(t, &bundle.Options{Index: bundle.Multi, MemoryLimit: 1}, recs))
	var got []string
	for v, err := range b.Values([]byte("k")) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(v))
	}
	if !slices.Equal(got, []string{"3", "1", "2"}) {
		t.Fatalf("Values = %q, want the order added", got)
	}
	if info := b.Info(); info.Keys != 2 || info.Records != 4 {
		t.Fatalf("Keys %d, Records %d; want 2 and 4", info.Keys, info.Records)
	}
}

func TestDedupStoresIdenticalValuesOnce(t *testing.T) {
	long := strings.Repeat("the same long value ", 10)
	var recs []rec
	for i := range 1000 {
		recs = append(recs, rec{key: fmt.Sprint(i), value: long})
	}
	recs = append(recs, rec{key: "short1", value: "tiny"}, rec{key: "short2", value: "tiny"})
	b := open(t, build(t, &bundle.Options{MemoryLimit: 1 << 20}, recs))
	info := b.Info()
	if info.StoredBytes != int64(len(long)+2*len("tiny")) || info.Deduped != 999 {
		t.Fatalf("StoredBytes %d, Deduped %d; want one copy of the long value (%d bytes) and two of the short one", info.StoredBytes, info.Deduped, len(long))
	}
	if info.ValueBytes != int64(1000*len(long)+8) {
		t.Fatalf("ValueBytes %d, want every value counted", info.ValueBytes)
	}
	checkContents(t, b, model(recs, false))
	if info.FileSize > 40000 {
		t.Fatalf("file of %d bytes for 1000 keys sharing one value", info.FileSize)
	}
}

func TestLargeValuesAreSpooled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bundle")
	b, err := bundle.NewBuilder(path, &bundle.Options{MemoryLimit: 1 << 20}) // values over 16 KiB are spooled
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160 KB
	other := slices.Clone(big)
	other[len(other)-1] = 'X'
	b.Add([]byte("big1"), big)
	b.Add([]byte("big2"), big)
	b.Add([]byte("other"), other)
	if err := b.AddStream([]byte("streamed"), []byte("meta"), bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	if err := b.AddStream([]byte("short"), nil, strings.NewReader("abc"), 10); !errors.Is(err, bundle.ErrShortValue) {
		t.Fatalf("AddStream of a short reader: %v, want ErrShortValue", err)
	}
	info, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if info.Deduped != 2 || info.StoredBytes != int64(2*len(big)) {
		t.Fatalf("Deduped %d, StoredBytes %d; want big stored once, other once", info.Deduped, info.StoredBytes)
	}
	bd := open(t, path)
	for _, k := range []string{"big1", "big2", "streamed"} {
		if v, err := bd.Get([]byte(k)); err != nil || !bytes.Equal(v, big) {
			t.Fatalf("Get(%s): %d bytes, %v", k, len(v), err)
		}
	}
	if v, _ := bd.Get([]byte("other")); !bytes.Equal(v, other) {
		t.Fatal("a value differing in its last byte was deduplicated")
	}
	assertOnly(t, dir, "big.bundle")
}

// assertOnly checks that dir holds exactly the named files: no temporary file
// is left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

func TestBuildIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bundle")
	b, err := bundle.NewBuilder(path, &bundle.Options{MemoryLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range randomRecords(20000, 3, false) {
		b.Add([]byte(r.key), []byte(r.value))
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the bundle exists before Finish: %v", err)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir)
	if err := b.Add([]byte("k"), nil); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Add after Abort: %v, want ErrClosed", err)
	}
	if _, err := b.Finish(); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Finish after Abort: %v, want ErrClosed", err)
	}
}

func TestBuildReplacesExistingFile(t *testing.T) {
	path := build(t, nil, []rec{{"old", "1", ""}})
	reader := open(t, path) // a reader of the old file, like another process
	if _, err := bundle.Build(path, func(yield func([]byte, []byte) bool) { yield([]byte("new"), []byte("2")) }, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := reader.Get([]byte("old")); err != nil || string(v) != "1" {
		t.Fatalf("the old reader lost its file: %q, %v", v, err)
	}
	if v, err := open(t, path).Get([]byte("new")); err != nil || string(v) != "2" {
		t.Fatalf("new file: %q, %v", v, err)
	}
	assertOnly(t, filepath.Dir(path), "test.bundle")
}

func TestProgress(t *testing.T) {
	var stages []bundle.Stage
	var writes []bundle.Progress
	opts := &bundle.Options{Progress: func(p bundle.Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Stage == bundle.StageWrite {
			writes = append(writes, p)
		}
	}}
	build(t, opts, randomRecords(200000, 4, false))
	want := []bundle.Stage{bundle.StageAdd, bundle.StageSort, bundle.StageWrite, bundle.StageSync, bundle.StageDone}
	if !slices.Equal(stages, want) {
		t.Fatalf("stages %v, want %v", stages, want)
	}
	last := writes[len(writes)-1]
	if len(writes) < 3 || last.Done != last.Total || last.Total != 200000 {
		t.Fatalf("write progress %v: want several reports ending at 200000 of 200000", writes)
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []bundle.Options{{Align: 3}, {Align: 8192}, {Align: -8}, {Index: 9}} {
		if _, err := bundle.NewBuilder(filepath.Join(t.TempDir(), "x"), &o); !errors.Is(err, bundle.ErrOptions) {
			t.Errorf("NewBuilder(%+v) error = %v, want ErrOptions", o, err)
		}
	}
}

func TestBuildStopsAtSequenceError(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	_, err := bundle.BuildRecords(filepath.Join(dir, "x"), func(yield func(bundle.Record, error) bool) {
		if yield(bundle.Record{Key: []byte("a")}, nil) {
			yield(bundle.Record{}, boom)
		}
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("BuildRecords error = %v, want the sequence's", err)
	}
	assertOnly(t, dir)
}

func TestValuesAreAligned(t *testing.T) {
	b := open(t, build(t, &bundle.Options{Align: 64}, randomRecords(500, 5, true)))
	for r, err := range b.All() {
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Value) > 0 && uintptrOf(r.Value)%64 != 0 {
			t.Fatalf("value of %q at an address not aligned to 64", r.Key)
		}
	}
}

func TestStreamErrorIsReturned(t *testing.T) {
	b, _ := bundle.NewBuilder(filepath.Join(t.TempDir(), "x"), nil)
	defer b.Abort()
	boom := errors.New("disk on fire")
	err := b.AddStream([]byte("k"), nil, io.MultiReader(strings.NewReader("abc"), errReader{boom}), 100)
	if !errors.Is(err, boom) {
		t.Fatalf("AddStream error = %v, want the reader's", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

package bundle_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

// keyFor returns key i of a key set: short keys fit an entry's inline key
// (16 bytes, the longest exactly so), long ones do not, mixed alternates.
func keyFor(set string, i int) string {
	short := fmt.Sprintf("%016d", i)[16-min(16, 1+i%16):]
	long := fmt.Sprintf("a key longer than sixteen bytes %d", i)
	switch {
	case set == "short", set == "mixed" && i%2 == 0:
		return short
	case set == "empty" && i == 0:
		return ""
	}
	return long
}

// TestEntryForms round-trips every index kind with keys that fit the entries,
// keys that do not, both, and the empty key, with and without meta areas and
// with values large enough to need an indirect entry, and checks which
// entries are direct.
func TestEntryForms(t *testing.T) {
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate, bundle.Multi} {
		for _, set := range []string{"short", "long", "mixed", "empty"} {
			for _, meta := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%s/meta=%v", kind, set, meta), func(t *testing.T) {
					testEntryForms(t, kind, set, meta)
				})
			}
		}
	}
}

func testEntryForms(t *testing.T, kind bundle.IndexKind, set string, meta bool) {
	var recs []rec
	for i := range 500 {
		r := rec{key: keyFor(set, i), value: fmt.Sprintf("value %d %s", i%50, strings.Repeat("v", i%40))}
		if meta && i%3 == 0 {
			r.meta = fmt.Sprint(i)
		}
		if i == 7 {
			r.value = strings.Repeat("a value too large for a direct entry ", 8000) // 296,000 bytes
		}
		recs = append(recs, r)
		if kind == bundle.Multi && i%5 == 0 {
			recs = append(recs, rec{key: r.key, value: fmt.Sprint("second ", i)})
		}
	}
	b := open(t, build(t, &bundle.Options{Index: kind}, recs))
	m := model(recs, kind == bundle.Multi)
	checkAny(t, b, m)
	checkDirect(t, b.Info(), recs, m)
}

// checkAny checks that a bundle of any kind holds m: Get finds each key's
// first value, the keyed kinds pass checkContents, and Verify passes.
func checkAny(t *testing.T, b *bundle.Bundle, m map[string][]rec) {
	t.Helper()
	for k, want := range m {
		if v, err := b.Get([]byte(k)); err != nil || string(v) != want[0].value {
			t.Fatalf("Get(%q) = %.20q, %v; want %.20q", k, v, err, want[0].value)
		}
	}
	if b.Index() != bundle.Approximate {
		checkContents(t, b, m)
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}

// checkDirect checks the inline key width and the number of direct entries
// of a bundle built by testEntryForms from recs, which hold m: entries hold
// keys of 16 bytes when at least half the records added fit (none do in an
// approximate bundle, which stores no keys), and every record without meta,
// with a key that fits and a value under 256 KiB has a direct entry.
func checkDirect(t *testing.T, in bundle.Info, recs []rec, m map[string][]rec) {
	t.Helper()
	small := func(r rec) bool { return r.meta == "" && len(r.value) < 256<<10 }
	fit := 0
	for _, r := range recs {
		if small(r) && len(r.key) <= 16 {
			fit++
		}
	}
	width := 0
	if in.Index != bundle.Approximate && 2*fit >= len(recs) {
		width = 16
	}
	var direct int64
	for _, rs := range m {
		for _, r := range rs {
			if small(r) && (in.Index == bundle.Approximate || len(r.key) <= width) {
				direct++
			}
		}
	}
	if in.InlineKey != width || in.Direct != direct {
		t.Fatalf("inline key width %d, %d direct entries of %d; want %d and %d", in.InlineKey, in.Direct, in.Records, width, direct)
	}
}

// The files in testdata/v1-*.bundle were written by the version 1 code from
// version1Records: a version 2 reader reads them as they are.
func version1Records(multi bool) []rec {
	var recs []rec
	for i := range 100 {
		r := rec{key: fmt.Sprintf("key-%d", i), value: fmt.Sprintf("value-%d", i%40)}
		if i%40 == 0 {
			r.value = "a value long enough to be deduplicated"
		}
		if i%7 == 0 {
			r.meta = fmt.Sprintf("m%d", i)
		}
		recs = append(recs, r)
		if multi && i%10 == 0 {
			recs = append(recs, rec{key: r.key, value: fmt.Sprintf("second-%d", i), meta: r.meta})
		}
	}
	return recs
}

func TestVersion1Files(t *testing.T) {
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate, bundle.Multi} {
		t.Run(kind.String(), func(t *testing.T) {
			b := open(t, "testdata/v1-"+kind.String()+".bundle")
			if in := b.Info(); in.Version != 1 || in.MinReader != 1 || in.Direct != 0 || in.InlineKey != 0 || in.Index != kind {
				t.Fatalf("Info = %+v, want a version 1 %v bundle", in, kind)
			}
			checkAny(t, b, model(version1Records(kind == bundle.Multi), kind == bundle.Multi))
		})
	}
}

// TestMinReader checks that a bundle a version 1 reader could read (no direct
// entries, 16-byte entries) says so, and one it could not says that too.
func TestMinReader(t *testing.T) {
	tests := []struct {
		set  string
		want int
	}{{"long", 1}, {"short", 2}}
	for _, tt := range tests {
		var recs []rec
		for i := range 10 {
			recs = append(recs, rec{key: keyFor(tt.set, i), value: "v"})
		}
		in := open(t, build(t, nil, recs)).Info()
		if in.Version != 2 || in.MinReader != tt.want {
			t.Errorf("%s keys: version %d, min reader %d; want 2 and %d", tt.set, in.Version, in.MinReader, tt.want)
		}
	}
}

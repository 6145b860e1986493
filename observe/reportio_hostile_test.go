package observe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// emptyListReport returns a report whose list under key holds n empty
// objects ("{}"), with one sample unless key is itself a spelling of
// "samples". prefix goes before the list.
func emptyListReport(key string, n int, prefix string) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"kind":%q,"version":%d,%s%q:[`, ReportKind, ReportVersion, prefix, key)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("{}")
	}
	buf.WriteString("]")
	if !strings.EqualFold(key, "samples") {
		buf.WriteString(`,"samples":[{}]`)
	}
	buf.WriteString("}")
	return buf.Bytes()
}

// readAllocated reads data with ReadReport and returns what that
// allocated.
func readAllocated(data []byte) (Report, uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := ReadReport(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	return rep, after.TotalAlloc - before.TotalAlloc, err
}

// ReadReport refuses a report holding more samples than any ring holds,
// before it builds them, however the key is spelled: encoding/json matches
// keys without regard to case and decodes every one of two equal keys, so
// "Samples", "SAMPLES" or a second "samples" must be counted too.
func TestHostileReadReportCountsSamplesUnderAnySpelling(t *testing.T) {
	n := maxRing + 1
	if _, err := Start(&Options{Samples: n}); !errors.Is(err, ErrOptions) {
		t.Fatalf("Start with Samples %d = %v, want ErrOptions: no ring holds that many", n, err)
	}
	for name, data := range map[string][]byte{
		`"Samples"`:          emptyListReport("Samples", n, ""),
		`"SAMPLES"`:          emptyListReport("SAMPLES", n, ""),
		`a second "samples"`: emptyListReport("samples", n, `"samples":[{}],`),
	} {
		rep, allocated, err := readAllocated(data)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s with %d samples: ReadReport = %d samples, %v (allocated %s for %s of input); want ErrFormat",
				name, n, len(rep.Samples), err, bytesString(int64(allocated)), bytesString(int64(len(data))))
		}
	}
}

// Every other list of a report is bounded as the samples are: a three-byte
// "{}" becomes an Applied, a Suspect, an AllocatorMetrics of a few hundred
// bytes. What ReadReport builds must stay within a small multiple of its
// input (a real report's JSON is larger than the values it decodes to).
func TestHostileReadReportBoundsEveryList(t *testing.T) {
	empties := strings.Repeat("{},", maxRing-1) + "{}"
	for name, doc := range map[string]string{
		"applied":          `"applied":[X]`,
		"leaks":            `"leaks":[X]`,
		"allocators":       `"allocators":[X]`,
		"caches":           `"caches":[X]`,
		"gc.opportunities": `"gc":{"opportunities":[X]}`,
		"hot_spots":        `"hot_spots":{"by_bytes":[X]}`,
	} {
		data := fmt.Appendf(nil, `{"kind":%q,"version":%d,"samples":[{}],%s}`, ReportKind, ReportVersion,
			strings.Replace(doc, "X", empties, 1))
		_, allocated, err := readAllocated(data)
		if allocated > 32*uint64(len(data)) {
			t.Errorf("%s of %d empty objects: ReadReport (err %v) allocated %s for %s (%d×): %s at the %s cap",
				name, maxRing, err, bytesString(int64(allocated)), bytesString(int64(len(data))),
				allocated/uint64(len(data)), bytesString(int64(allocated/uint64(len(data)))*maxReportBytes),
				bytesString(maxReportBytes))
		}
	}
}

// A report of the largest ring Options allow, from a server that has run
// for a while (counters in the trillions, no memory limit: math.MaxInt64),
// saved the way the project's own "tiermem report --json" prints it
// (encoding/json, indented), is read back: an indented sample of such a
// process takes about 580 bytes, not the 320 of compact JSON.
func TestHostileReadReportReadsAnIndentedFullRing(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 123456789, time.FixedZone("JST", 9*3600))
	sample := Sample{Time: t0, HeapLive: 6 << 30, HeapGoal: 12 << 30, Runtime: 14 << 30, RSS: 20 << 30,
		OffHeap: 40 << 30, Mapped: 64 << 30, GCRoots: 40 << 20, Goroutines: 12000, GOGC: 100,
		MemoryLimit: math.MaxInt64, GCCycles: 250000, AllocBytes: 1 << 50, AllocObjects: 1 << 42,
		FreeObjects: 1 << 42, GCCPUSeconds: 5123.456789, BusyCPUSeconds: 987654.321}
	// What encoding/json with SetIndent("", "  ") (cmd/tiermem's report
	// --json) writes, built from one sample rather than encoded whole
	// (encoding a full ring takes seconds more under -race).
	rep := Report{Kind: ReportKind, Version: ReportVersion, Start: t0, End: t0, Samples: []Sample{sample}}
	rep.Memory.Now = sample
	head, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	one, err := json.MarshalIndent(sample, "    ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("\n  \"samples\": [\n    " + string(one) + "\n  ]")
	i := bytes.Index(head, marker)
	if i < 0 {
		t.Fatalf("no samples array in the indented report:\n%s", head)
	}
	var buf bytes.Buffer
	buf.Write(head[:i])
	buf.WriteString("\n  \"samples\": [")
	for n := range maxRing {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(one)
	}
	buf.WriteString("\n  ]")
	buf.Write(head[i+len(marker):])
	size := buf.Len()
	got, err := ReadReport(&buf)
	if err != nil {
		t.Fatalf("ReadReport of an indented report of %d samples (%s, %d bytes a sample): %v",
			maxRing, bytesString(int64(size)), size/maxRing, err)
	}
	if len(got.Samples) != maxRing {
		t.Errorf("read back %d samples, want %d", len(got.Samples), maxRing)
	}
}

// maxReportBytes leaves maxSampleJSON for each sample of a full ring: one
// with every figure at its widest, indented as in a report, fits it.
func TestHostileWidestSampleFitsTheBound(t *testing.T) {
	widest := Sample{Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(23*3600+59*60))),
		HeapLive: math.MinInt64, HeapGoal: math.MinInt64, Runtime: math.MinInt64, RSS: math.MinInt64,
		OffHeap: math.MinInt64, Mapped: math.MinInt64, GCRoots: math.MinInt64, Goroutines: math.MinInt64,
		GOGC: math.MinInt64, MemoryLimit: math.MinInt64, GCCycles: math.MaxUint64, GCForcedCycles: math.MaxUint64,
		AllocBytes: math.MaxUint64, AllocObjects: math.MaxUint64, FreeObjects: math.MaxUint64,
		GCCPUSeconds: -1.2345678901234567e-300, BusyCPUSeconds: -1.2345678901234567e-300}
	one, err := json.MarshalIndent(widest, "    ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(one) + len(",\n    "); n > maxSampleJSON {
		t.Errorf("the widest sample takes %d bytes of indented JSON, over the %d a ring is allowed", n, maxSampleJSON)
	}
}

// countElements follows strings and nesting: commas and brackets inside
// them do not count.
func TestHostileCountElements(t *testing.T) {
	for in, want := range map[string]int{
		`[]`:                        0,
		` [ ] `:                     0,
		`[1]`:                       1,
		`[1,2,3]`:                   3,
		`[{"a":[1,2],"b":{"c":3}}]`: 1,
		`["a,b","]","[",{}]`:        4,
		`["\"]",","]`:               2,
		`["\\",1]`:                  2,
		"[\n {} ,\n {}\n]":          2,
	} {
		if n, ok := countElements([]byte(in)); !ok || n != want {
			t.Errorf("countElements(%s) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{`null`, `{}`, `"[1,2]"`, ``} {
		if _, ok := countElements([]byte(in)); ok {
			t.Errorf("countElements(%s) took it for an array", in)
		}
	}
}

// Every list in a Report, found by reflection (so that a list added later
// is covered too), is bounded when read: one element past its bound is
// ErrFormat, and null is read as no list.
func TestHostileReadReportBoundsEveryListByReflection(t *testing.T) {
	paths := listPaths(reflect.TypeFor[Report](), nil)
	if len(paths) < 11 {
		t.Fatalf("found only %d lists in Report: %v", len(paths), paths)
	}
	for _, path := range paths {
		bound := maxList
		if len(path) == 1 && path[0] == "samples" {
			bound = maxRing
		}
		elem := "{}"
		if path[len(path)-1] == "stack" {
			elem = `""`
		}
		list := "[" + strings.Repeat(elem+",", bound) + elem + "]"
		head := fmt.Sprintf(`{"kind":%q,"version":%d,"samples":[{}],`, ReportKind, ReportVersion)
		if _, err := ReadReport(strings.NewReader(head + nest(path, list) + "}")); !errors.Is(err, ErrFormat) {
			t.Errorf("%s with %d elements: ReadReport = %v, want ErrFormat", strings.Join(path, "."), bound+1, err)
		}
		if path[0] == "samples" {
			continue // no samples: refused
		}
		if _, err := ReadReport(strings.NewReader(head + nest(path, "null") + "}")); err != nil {
			t.Errorf("%s null: %v", strings.Join(path, "."), err)
		}
	}
}

// listPaths returns the JSON key paths of the slices in t, through structs
// and slices of structs (a path through a slice names the slice, then the
// field of its elements).
func listPaths(t reflect.Type, prefix []string) [][]string {
	var out [][]string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		path := append(slices.Clone(prefix), name)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			out = append(out, path)
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			out = append(out, listPaths(ft, path)...)
		}
	}
	return out
}

// nest returns "a":{"b":[{"c":value}]} for the path a.b.c, where b is a
// list; each list on the way holds one element.
func nest(path []string, value string) string {
	s := value
	for i := len(path) - 1; i >= 1; i-- {
		s = fmt.Sprintf("{%q:%s}", path[i], s)
		if isList(path[:i]) {
			s = "[" + s + "]"
		}
	}
	return fmt.Sprintf("%q:%s", path[0], s)
}

// isList reports whether the path names a list of Report.
func isList(path []string) bool {
	for _, p := range listPaths(reflect.TypeFor[Report](), nil) {
		if slices.Equal(p, path) {
			return true
		}
	}
	return false
}

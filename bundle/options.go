package bundle

import (
	"fmt"
	"math/bits"
	"path/filepath"
	"strings"
)

// IndexKind says what the index of a bundle keeps and what a lookup returns.
type IndexKind uint8

const (
	// Exact stores every key and compares it on lookup: no false positives.
	// A key added twice keeps the value added last.
	Exact IndexKind = iota
	// Approximate stores only the 64-bit hash of each key, so an entry has a
	// fixed size whatever the key's length. A lookup of a key that was never
	// added returns some other key's value with probability about n/2^64 for n
	// keys (5e-13 at 10 million keys); two added keys whose hashes collide
	// (counted in Info.Collisions) share the first one's value.
	Approximate
	// Multi stores every key and every value added for it, in the order they
	// were added; Values returns them all and Get the first.
	Multi
)

var kindNames = [...]string{Exact: "exact", Approximate: "approximate", Multi: "multi"}

// String returns "exact", "approximate" or "multi".
func (k IndexKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("IndexKind(%d)", uint8(k))
}

// ParseIndexKind parses the names String returns, and "approx".
func ParseIndexKind(s string) (IndexKind, error) {
	switch strings.ToLower(s) {
	case "exact":
		return Exact, nil
	case "approximate", "approx":
		return Approximate, nil
	case "multi":
		return Multi, nil
	}
	return 0, fmt.Errorf("%w: index kind %q (want exact, approximate or multi)", ErrOptions, s)
}

// hasKeys reports whether records of this kind store their key.
func (k IndexKind) hasKeys() bool { return k != Approximate }

// Options configure a Builder (and the bundles a Layered store merges). A nil
// *Options means the defaults.
type Options struct {
	// Index is the kind of index to build; the zero value is Exact.
	Index IndexKind
	// Align is the alignment of every value in the file, a power of two up to
	// 4096. 0 means 8, so that typed records (package record) can view
	// numeric arrays in place. 1 packs values with no padding.
	Align int
	// MemoryLimit bounds the bytes the builder buffers (sort runs, the
	// value-hash sort, I/O buffers). 0 means 128 MiB. Values larger than
	// 1/64 of it are spooled to a temporary file instead of being buffered.
	MemoryLimit int64
	// TempDir holds the sort runs and spooled values, in a directory of
	// the build's own (output.work-*, removed when the build ends, or by the
	// next build of the same output if a crash stopped this one); "" means
	// the directory of the output file. The output's own temporary file is
	// always beside it, so that the final rename is atomic.
	TempDir string
	// Streamed writes each record into the file as it is added and sorts
	// only the index: every value is written once, which makes a build of
	// large values about twice as fast, and the memory a build needs does
	// not depend on the values' sizes. It gives up deduplication and direct
	// entries (a lookup reads the record, as in format version 1), and in an
	// exact bundle a key added twice keeps its earlier record in the file,
	// unindexed. A value AddStream cannot read whole fails the whole build.
	// Not for approximate bundles, whose records hold no key.
	Streamed bool
	// Progress, if set, is called from the goroutine that calls Add and
	// Finish, at each stage and every 65536 records within one.
	Progress func(Progress)
}

const (
	defaultAlign  = 8
	maxAlign      = 4096
	defaultMemory = 128 << 20
	minMemory     = 1 << 20
)

// resolve returns a copy of o with defaults filled in, or ErrOptions.
func (o *Options) resolve(out string) (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Index > Multi {
		return r, fmt.Errorf("%w: index kind %d", ErrOptions, r.Index)
	}
	if r.Streamed && r.Index == Approximate {
		return r, fmt.Errorf("%w: a streamed build needs an exact or multi index", ErrOptions)
	}
	if r.Align == 0 {
		r.Align = defaultAlign
	}
	if r.Align < 0 || r.Align > maxAlign || bits.OnesCount(uint(r.Align)) != 1 {
		return r, fmt.Errorf("%w: align %d is not a power of two from 1 to %d", ErrOptions, r.Align, maxAlign)
	}
	if r.MemoryLimit == 0 {
		r.MemoryLimit = defaultMemory
	}
	r.MemoryLimit = max(r.MemoryLimit, minMemory)
	if r.TempDir == "" {
		r.TempDir = filepath.Dir(out)
	}
	return r, nil
}

// Stage names a step of a build.
type Stage uint8

const (
	// StageAdd: records are being added and sorted into runs; Total is -1.
	StageAdd Stage = iota
	// StageSort: the last run is sorted and the value hashes are scanned for
	// duplicates.
	StageSort
	// StageWrite: sorted records are written; Done of Total records.
	StageWrite
	// StageSync: the index is placed, the header written and the file synced
	// and renamed (in a Layered.Merge, renamed after StageDone).
	StageSync
	// StageDone: the bundle is in place. In a Layered.Merge it is complete
	// beside the store's path, and the Merge swaps it in next.
	StageDone
)

var stageNames = [...]string{"adding", "sorting", "writing", "syncing", "done"}

// String returns the stage's name.
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// Progress is what a build reports: its stage and how far into it.
type Progress struct {
	Stage Stage
	Done  int64 // records handled in this stage
	Total int64 // records the stage will handle, or -1 when not known yet
}

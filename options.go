package tiermem

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/internal/freq"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// Durability says when a stored value is safe from a crash.
type Durability int

const (
	// None keeps hot and warm values in memory only: Close writes them to the
	// cold tier, a crash loses them. A value stored in cold waits in the
	// cold log's write buffer, in process memory (2 MiB; values of 64 KiB or
	// more skip it), until the buffer fills, a background flush every 100
	// ms, or Close: a crash of the process loses at most about the last 100
	// ms of them. From there the OS writes the page cache to disk when it
	// chooses, so a crash of the machine may lose more, and a damaged log
	// then makes Open fail until `tiermem repair` has run.
	None Durability = iota
	// EverySecond writes every Store through to the cold log and syncs the
	// log every second: a crash loses at most about a second of Stores.
	EverySecond
	// Always writes every Store through to the cold log and returns only once
	// the record is on disk; concurrent Stores share one fsync (group commit).
	Always
)

var durabilityNames = [...]string{"none", "every-second", "always"}

// String returns "none", "every-second" or "always".
func (d Durability) String() string {
	if d >= 0 && int(d) < len(durabilityNames) {
		return durabilityNames[d]
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// Policy chooses which entries of a tier leave first when it needs room, and
// which are idle.
type Policy int

const (
	// PolicyAuto is the default: Adaptive for the hot tier, Clock for the
	// warm tier (Adaptive for a warm store without reference bits), and for
	// the cold tier the oldest written of 8 keys sampled from the built-in
	// store's index, with no memory per key (Adaptive for a cold store
	// handed over).
	// The cold tier chooses victims only when a glacier tier is below it
	// (the default); the glacier tier is the last and chooses none.
	PolicyAuto Policy = iota
	// PolicyAdaptive is cache.Adaptive: window TinyLFU with a self-tuning
	// window, the best general policy. It keeps about 100 bytes of Go memory a key.
	PolicyAdaptive
	// PolicyLRU evicts the least recently used entry (cache.LRU).
	PolicyLRU
	// PolicyLFU evicts the least frequently used entry (cache.LFU).
	PolicyLFU
	// PolicyFIFO evicts the oldest entry (cache.FIFO).
	PolicyFIFO
	// PolicyClock is CLOCK, second chance, on a reference bit the tier's
	// store keeps with each entry (the built-in hot and warm stores do; a
	// store handed over in TierOptions.Store must be a tier.VictimChooser):
	// no memory per key and one bit set per read, which matters when a tier
	// holds millions of small values. A read of the hot tier costs about a
	// third of what it costs under Adaptive (BENCHMARKS.md). Idleness is
	// coarser than with a cache.Policy, which keeps each key's last read:
	// a pass at least DemoteAfter after the previous one demotes the entries
	// whose bit is clear, those not read since that previous pass or since
	// the hand, looking for room, last cleared their bit.
	PolicyClock
	// PolicyS3FIFO is cache.S3FIFO: a small filter queue in front of a main
	// queue with second chances, strong on block-storage access patterns.
	PolicyS3FIFO
)

var policyKinds = map[Policy]cache.Kind{
	PolicyAdaptive: cache.Adaptive, PolicyLRU: cache.LRU, PolicyLFU: cache.LFU, PolicyFIFO: cache.FIFO,
	PolicyS3FIFO: cache.S3FIFO,
}

// TierOptions configures one tier.
type TierOptions struct {
	// Size is the tier's byte budget, which it never exceeds. Zero: a default
	// that fits the machine (hot a quarter and warm two fifths of the
	// available RAM, cold half of the free disk under the directory).
	Size int64
	// Policy chooses the tier's victims; zero is PolicyAuto. Without a
	// glacier tier (Glacier.Disabled) the cold tier is the last and takes
	// only PolicyAuto: Open rejects another. Above glacier, a cold policy
	// other than PolicyAuto keeps about 220 bytes of Go memory per key
	// (measured with 16-byte keys; the cold index itself takes about 135
	// with the key); PolicyAuto keeps none.
	Policy Policy
	// Compress (warm tier) stores values s2-compressed when a sample shows
	// it pays. The cold tier always compresses with zstd when that pays, so
	// Compress changes nothing there; hot values are live Go memory read in
	// place, and Open rejects Compress for the hot tier.
	Compress bool
	// DemoteAfter overrides Options.DemoteAfter for the tier. Without a
	// glacier tier the cold tier has no tier below it: Open rejects
	// DemoteAfter there.
	DemoteAfter time.Duration
	// Store, when set, is the tier's storage instead of the built-in one
	// (tier/heap, tier/offheap, tier/disk in <dir>/cold): any backend that
	// keeps the tier.Store contract, constructed by the caller, so that
	// backends with heavy dependencies live in packages only their users
	// import. Open takes it over: Close, and an Open that fails, close it.
	// The cold tier's store must be a tier.Persistent, and keeps the
	// durability it was opened with: Open rejects a Durability other than
	// None with it. Compress is the built-in warm store's: Open rejects it
	// with Warm.Store.
	Store tier.Store
}

// GlacierOptions configures the glacier tier: object storage below the
// cold tier, for values idle long enough, or pushed out of a full cold
// tier. The zero value is a glacier tier in <dir>/glacier with no budget.
//
// Values reach glacier in batches: a migration pass (or a Store that
// needs room in cold) packs victims of the cold tier into one object of up
// to Object.PackSize (32 MiB), each value compressed on its own with zstd,
// waits until the pack and its index are durably in the store, and only
// then deletes them from cold. A read of a glacier value fetches it with
// one ranged GET and verifies its checksum; reads that earn it promote the
// value back to cold. docs/glacier-format.md describes the objects.
type GlacierOptions struct {
	// Disabled removes the tier: cold is then the last tier, and a full
	// cold tier refuses Stores with ErrNoSpace.
	Disabled bool
	// URL is where the objects live: "" for <dir>/glacier, a directory
	// path or file:// URL, or s3://bucket/prefix?endpoint=…&region=…&path-style=true
	// for any S3-compatible store, with credentials from the usual AWS
	// environment variables and files. An s3 URL needs the S3 client
	// linked in: import _ "github.com/tiermem/tiermem/tier/object/s3".
	// Each Manager needs a URL of its own: a second Manager writing under
	// the same one fails its uploads with object.ErrExists, naming the
	// sharing, rather than overwrite the first's packs (where the store
	// supports If-None-Match: *, as S3, MinIO and versitygw do).
	URL string
	// Size is the tier's byte budget (compressed bytes, with each value's
	// frame and index entry); zero means no budget.
	Size int64
	// Object tunes the store that Open opens for the URL (pack size,
	// compression, retries, deadlines). nil means the store's defaults but
	// for compression, which is object.ZstdBetter: about 4 times the
	// throughput of ZstdBest for 3% less ratio, and an encoder state of
	// about 18 MB instead of 60 MB for each value compressed at once
	// (BENCHMARKS.md, "tier/object"). Values demoted from the built-in
	// cold tier keep the zstd frames cold stored them in (its fastest
	// level, within 1% of ZstdBetter's ratio on mixed data), which makes
	// demotion a copy rather than a decompression and a compression: the
	// level applies to values cold kept uncompressed and to Stores
	// straight into glacier.
	Object *object.Options
	// (A Store straight into glacier with a durable log uploads before it
	// returns, since it drops the key's older copies; concurrent Stores
	// share uploads, but one writer storing value after value makes a
	// pack and an index object each. To archive many values at once, let
	// demotion batch them, or store them with Durability None.)
	//
	// Store, when set, is the tier's storage instead of the one Open opens
	// for URL: any tier.Persistent, which Open takes over. URL and Object
	// must then be unset.
	Store tier.Store
}

// Options configures a Manager. The zero value (or nil) gives defaults that
// run anywhere.
type Options struct {
	Hot, Warm, Cold TierOptions

	// Glacier is the fourth tier, below cold: values packed into objects
	// of a local directory (<dir>/glacier by default) or an S3 bucket.
	Glacier GlacierOptions

	// KeepMemoryLimit leaves the Go garbage collector's soft memory limit
	// alone. By default Open sets it (runtime/debug.SetMemoryLimit) to the
	// hot budget plus a quarter, plus the heap in use at Open and 64 MiB,
	// when no limit is in force: the hot tier lives on the Go heap, and the
	// limit makes the collector work harder as it fills instead of letting
	// the heap grow to twice the live data. The rest of the heap (the cold
	// tier's index, the application's data) keeps GOGC's headroom: every
	// migration pass, and while Close writes memory to disk, the heap in use
	// at Open is replaced by twice the live heap outside the hot tier when
	// that is more. A limit already in force
	// (GOMEMLIMIT, an earlier SetMemoryLimit, another Manager) is never
	// replaced; Close lifts the limit this Manager set, unless it changed.
	KeepMemoryLimit bool

	// Durability says when a Store is safe from a crash; the default is None.
	Durability Durability

	// OpenIncompleteRestore opens a directory whose last Restore did not
	// finish, as it is, for a Restore to start again (tiermem snapshot
	// restore does) or to salvage what it holds; without it Open returns
	// ErrRestoreIncomplete. The directory stays marked until a Restore
	// completes.
	OpenIncompleteRestore bool

	// MigrateInterval is how often the background loop runs a migration
	// pass. Zero means one second; a negative value runs no loop (call
	// Migrate yourself).
	MigrateInterval time.Duration
	// DemoteAfter is how long an entry may stay unread in the hot tier before
	// a migration pass demotes it to the next tier, unless it earned its place
	// (PromoteHits reads within HitWindow). Each tier below keeps entries six
	// times longer than the one above (warm: 6 × DemoteAfter, cold: 36 ×) unless its
	// TierOptions say otherwise. Zero means 10 minutes; negative disables
	// idle demotion.
	DemoteAfter time.Duration
	// PromoteHits is how many reads within HitWindow promote an entry one
	// tier up, if that tier has room below its high watermark (promotion never
	// pushes another entry out, so nothing thrashes). Zero means 3; at most
	// 15, the largest count the read-frequency estimate keeps.
	PromoteHits int
	// HitWindow is the span over which reads are counted. Zero means one
	// minute. Counts fade by half each HitWindow, at the first migration
	// pass after it ends (so with MigrateInterval negative, only as often as
	// Migrate is called). The estimate costs about 2 bytes per key held and
	// takes no lock on reads; of 10 million keys read once, about 3 in
	// 100,000 look as if read three times (internal/freq).
	HitWindow time.Duration
	// HighWatermark and LowWatermark are fractions of each budget: a
	// migration pass that finds a tier above the high mark demotes until it
	// is below the low mark, so that Stores rarely wait for room. Zero means
	// 0.90 and 0.75.
	HighWatermark, LowWatermark float64

	clock  func() time.Time // tests replace the time source
	coldFS vfs.FS           // tests inject disk faults; nil: the OS
}

// checkUnsupported returns an error wrapping ErrOptions for an option this
// release accepts in its type but cannot honour; it looks at the options
// as the caller set them, before defaults.
func (o Options) checkUnsupported() error {
	switch {
	case o.Hot.Compress:
		return fmt.Errorf("%w: Hot.Compress: hot values are live Go memory, read in place, never compressed (compress the warm tier)", ErrOptions)
	case o.Glacier.Disabled && o.Cold.Policy != PolicyAuto:
		return fmt.Errorf("%w: Cold.Policy %v with Glacier.Disabled: the cold tier is then the last and never chooses victims", ErrOptions, o.Cold.Policy)
	case o.Cold.Policy == PolicyClock:
		return fmt.Errorf("%w: Cold.Policy PolicyClock: the cold store keeps no reference bits", ErrOptions)
	case o.Warm.Store != nil && o.Warm.Compress:
		return fmt.Errorf("%w: Warm.Compress with Warm.Store: compression is the built-in warm store's; a store you construct compresses as it was made to", ErrOptions)
	case o.Cold.Store != nil && o.Durability != None:
		return fmt.Errorf("%w: Durability %v with Cold.Store: a cold store you construct syncs as it was opened with", ErrOptions, o.Durability)
	case o.Glacier.Disabled && o.Cold.DemoteAfter != 0:
		return fmt.Errorf("%w: Cold.DemoteAfter %v with Glacier.Disabled: the cold tier is then the last, with no tier to demote to", ErrOptions, o.Cold.DemoteAfter)
	case o.Glacier.Disabled && (o.Glacier.URL != "" || o.Glacier.Size != 0 || o.Glacier.Object != nil || o.Glacier.Store != nil):
		return fmt.Errorf("%w: Glacier.Disabled with other Glacier options", ErrOptions)
	case o.Glacier.Store != nil && (o.Glacier.URL != "" || o.Glacier.Object != nil):
		return fmt.Errorf("%w: Glacier.Store with Glacier.URL or Glacier.Object: they describe the store Open would open", ErrOptions)
	}
	return nil
}

// checkStoresDistinct rejects one store handed over for two tiers: every
// Store into one would delete the key from the other, that is from itself.
func (o Options) checkStoresDistinct() error {
	given := o.givenStores()
	for i, a := range given {
		for j := i + 1; j < len(given); j++ {
			if a != nil && given[j] != nil && sameStore(a, given[j]) {
				return fmt.Errorf("%w: one %T is the Store of the %v and the %v tiers", ErrOptions, a, Tier(i), Tier(j))
			}
		}
	}
	return nil
}

// givenStores returns the stores the options hand over, by tier (nil
// where Open opens its own).
func (o Options) givenStores() []tier.Store {
	return []tier.Store{o.Hot.Store, o.Warm.Store, o.Cold.Store, o.Glacier.Store}
}

// withDefaults returns a copy of o with every zero field set, sized for a
// machine with ram bytes available and disk bytes free under the directory.
func (o Options) withDefaults(ram, disk int64) Options {
	setDefault(&o.Hot.Size, ram/4)
	setDefault(&o.Warm.Size, ram*2/5)
	setDefault(&o.Cold.Size, disk/2)
	setDefault(&o.MigrateInterval, time.Second)
	setDefault(&o.DemoteAfter, 10*time.Minute)
	setDefault(&o.Hot.DemoteAfter, o.DemoteAfter)
	setDefault(&o.Warm.DemoteAfter, 6*o.DemoteAfter)
	setDefault(&o.Cold.DemoteAfter, 36*o.DemoteAfter)
	setDefault(&o.PromoteHits, 3)
	setDefault(&o.HitWindow, time.Minute)
	setDefault(&o.HighWatermark, 0.90)
	setDefault(&o.LowWatermark, 0.75)
	if o.clock == nil {
		o.clock = time.Now
	}
	return o
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// check returns an error wrapping ErrOptions for options that cannot work.
func (o Options) check() error {
	for _, t := range []struct {
		name string
		o    TierOptions
	}{{"hot", o.Hot}, {"warm", o.Warm}, {"cold", o.Cold}, {"glacier", TierOptions{Size: o.Glacier.Size}}} {
		switch {
		case t.o.Size < 0:
			return fmt.Errorf("%w: %s size %d is negative", ErrOptions, t.name, t.o.Size)
		case t.o.Policy < PolicyAuto || t.o.Policy > PolicyS3FIFO:
			return fmt.Errorf("%w: %s policy %d is unknown", ErrOptions, t.name, t.o.Policy)
		}
	}
	if o.Durability < None || o.Durability > Always {
		return fmt.Errorf("%w: durability %d is unknown", ErrOptions, o.Durability)
	}
	if !(0 < o.LowWatermark && o.LowWatermark < o.HighWatermark && o.HighWatermark <= 1) {
		return fmt.Errorf("%w: watermarks low %.2f, high %.2f (want 0 < low < high ≤ 1)", ErrOptions, o.LowWatermark, o.HighWatermark)
	}
	if o.PromoteHits < 1 || o.PromoteHits > freq.Max || o.HitWindow <= 0 {
		return fmt.Errorf("%w: PromoteHits %d (want 1 to %d), HitWindow %v (want positive)", ErrOptions, o.PromoteHits, freq.Max, o.HitWindow)
	}
	return nil
}

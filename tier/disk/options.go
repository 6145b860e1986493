package disk

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
)

// Options configure a Store. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// SegmentSize is the size at which the store starts a new segment file.
	// A record larger than a segment gets a segment of its own. Default 64
	// MiB; at least 4 KiB.
	SegmentSize int64

	// Sync says when appended records are made durable. Default SyncNone.
	Sync SyncMode

	// Compression says how values are compressed. Default ZstdFastest.
	Compression Compression

	// CompactThreshold is the dead fraction (bytes no key references, over
	// the segment's record bytes) at which the background compactor rewrites
	// a sealed segment. Default 0.5; a negative value turns the background
	// compactor off (Compact still works).
	CompactThreshold float64

	// FS is the file system the store uses. Default vfs.Default, the
	// operating system's; tests pass a *vfs.Fault to inject a full disk.
	FS vfs.FS
}

const (
	defaultSegmentSize      = 64 << 20
	minSegmentSize          = 4 << 10
	defaultCompactThreshold = 0.5
)

// resolve returns o with its defaults filled in, or an error naming the
// first field that cannot work.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.SegmentSize == 0 {
		r.SegmentSize = defaultSegmentSize
	}
	if r.CompactThreshold == 0 {
		r.CompactThreshold = defaultCompactThreshold
	}
	if r.FS == nil {
		r.FS = vfs.Default
	}
	return r, r.check()
}

func (o *Options) check() error {
	switch {
	case o.SegmentSize < minSegmentSize:
		return fmt.Errorf("%w: SegmentSize %d is below %d", ErrInvalidOptions, o.SegmentSize, minSegmentSize)
	case o.Sync < SyncAlways:
		return fmt.Errorf("%w: Sync %d", ErrInvalidOptions, o.Sync)
	case o.Compression > NoCompression:
		return fmt.Errorf("%w: Compression %d", ErrInvalidOptions, o.Compression)
	case o.CompactThreshold > 1:
		return fmt.Errorf("%w: CompactThreshold %v is above 1", ErrInvalidOptions, o.CompactThreshold)
	}
	return nil
}

// SyncMode says when a Store makes appended records durable, and so what a
// crash can lose of the Puts and Deletes that returned. Records wait in a
// write buffer in process memory, at most 2 MiB (values of 64 KiB and more
// skip it), until it reaches a 2 MiB-aligned file offset or the mode
// flushes it; Sync and Close flush and fsync in every mode. The package
// doc lists every flush.
type SyncMode int64

const (
	// SyncNone writes the write buffer to the file (the operating
	// system's page cache) from a background goroutine every 100 ms, and
	// fsyncs only at Sync and Close: a killed process loses at most about
	// the last 100 ms of writes, still in the buffer; a machine crash
	// whatever the OS had not written back, which may leave damage that
	// Open reports as tier.ErrCorrupt and Repair salvages.
	SyncNone SyncMode = 0

	// SyncAlways makes Put and Delete return only after their record is
	// written and fsynced: a crash loses nothing acknowledged. Concurrent
	// writers share one write and one fsync (group commit).
	SyncAlways SyncMode = -1

	// SyncEverySecond is SyncEvery(time.Second).
	SyncEverySecond = SyncMode(time.Second)
)

// SyncEvery returns the mode that flushes the write buffer and fsyncs in
// the background every d, so a crash of the process or the machine loses
// at most about d of acknowledged writes. It panics if d is not positive, a
// caller bug.
func SyncEvery(d time.Duration) SyncMode {
	if d <= 0 {
		panic(fmt.Sprintf("disk: SyncEvery(%v): the interval must be positive", d))
	}
	return SyncMode(d)
}

// interval returns the background sync interval, 0 for none.
func (m SyncMode) interval() time.Duration { return time.Duration(max(m, 0)) }

// String returns "none", "always" or "every <d>".
func (m SyncMode) String() string {
	switch {
	case m == SyncNone:
		return "none"
	case m == SyncAlways:
		return "always"
	case m > 0:
		return "every " + time.Duration(m).String()
	}
	return fmt.Sprintf("SyncMode(%d)", int64(m))
}

// Compression says how a Store compresses values. Whatever the mode, a
// value is stored raw unless compressing it saves at least an eighth.
type Compression uint8

const (
	// ZstdFastest compresses with zstd at its fastest level when a 4 KiB
	// sample of the value shows it pays.
	ZstdFastest Compression = iota

	// ZstdDefault compresses with zstd at its default level when a sample
	// shows it pays: smaller, about 0.14 GB/s per core.
	ZstdDefault

	// NoCompression stores every value as given.
	NoCompression
)

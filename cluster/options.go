package cluster

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/object"
)

// Options configure a Cluster. The zero value of every field but Nodes means
// its default.
type Options struct {
	// Nodes are seed addresses (host:port) of the cluster's nodes; one
	// reachable node is enough, the others are found from it.
	Nodes []string
	// Password and Username authenticate to every node (AUTH), if set.
	Username, Password string
	// ReplicationFactor is how many copies a Store waits for: the master's
	// and ReplicationFactor-1 replicas' (WAIT). Default 1: no waiting. Open
	// refuses one above 1 + the fewest replicas any master has.
	ReplicationFactor int
	// WaitTimeout bounds each WAIT for replica acknowledgements. Default 2 s;
	// at least 1 ms (WAIT counts whole milliseconds) and, with
	// ReplicationFactor > 1, less than IOTimeout.
	WaitTimeout time.Duration
	// RetryTimeout is how long an operation keeps retrying through a failover
	// (connection refused, MOVED, CLUSTERDOWN, too few acknowledgements)
	// before it fails. Default 15 s, above Redis's failover time with a
	// 2-second cluster-node-timeout (about 4 s measured). It applies to
	// each step of an operation (reading the manifest, each batch of
	// chunks, writing the manifest): no attempt of a step starts after it;
	// an attempt itself is bounded by DialTimeout and IOTimeout. After a
	// node could not be reached the slot map is reloaded before the next
	// attempt.
	RetryTimeout time.Duration
	// ChunkSize is the size of the chunks a value is split into. Default
	// 4 MiB; at least 64 KiB, at most 32 MiB (maxChunkSize says why).
	ChunkSize int
	// ReadFromReplicas reads chunks from replicas too (for throughput); a
	// chunk a replica does not hold yet is read again from its master.
	// Manifests are always read from masters.
	ReadFromReplicas bool
	// NearCache, if not nil, is a local Manager that keeps a copy of what this
	// Cluster stores and retrieves: a Retrieve it serves costs one manifest
	// read, to check the generation. The Cluster writes the Manager's keys of
	// the same names as its own (prefixed by NearPrefix) and does not close it.
	NearCache *tiermem.Manager
	// NearPrefix is put before every key in NearCache. Default "".
	NearPrefix string
	// Glacier, if not nil, is the object store (tier/object: a local Dir, an
	// S3 bucket) that values spill to when the cluster refuses their chunks
	// for lack of memory: the value becomes one object there, its manifest
	// stays in the cluster. Every client that may read such a value needs
	// the same bucket. Without it, such a Store fails with ErrNoSpace, and
	// a Store or Delete that replaces a spilled value leaves its object to
	// the Sweep of a client that has the bucket.
	Glacier object.Bucket
	// GlacierPrefix is put before the names of the objects in Glacier.
	// Default "tiermem-cluster/".
	GlacierPrefix string
	// DialTimeout bounds each connection attempt. Default 2 s.
	DialTimeout time.Duration
	// IOTimeout bounds each network read and write (a whole pipeline's
	// writes). Default 30 s, for pipelines of tens of megabytes on a busy
	// machine.
	IOTimeout time.Duration
	// Streams is the number of pipelines a transfer keeps in flight to each
	// master, each of at most 16 MiB of chunks (one chunk, when the value's
	// chunks are larger): a Retrieve holds at most masters × Streams ×
	// max(16 MiB, chunk size) of replies beside its result, and a Retrieve of
	// a spilled value 2 × Streams chunks. Default 4 (fewer left round-trip
	// gaps on a local cluster).
	Streams int
}

const (
	defaultChunkSize = 4 << 20
	minChunkSize     = 64 << 10
	// maxChunkSize bounds a chunk well below Redis's replica output buffer
	// limit (client-output-buffer-limit replica, 256 MB hard by default): a
	// master copies each SET into its replicas' output buffers whole, and
	// drops a replica whose buffer passes the limit (which then
	// resynchronizes in full, and every WAIT falls short). With Streams
	// (default 4) such chunks in flight to one master, 32 MiB chunks leave
	// that buffer half free; a larger Streams × ChunkSize may need the limit
	// raised.
	maxChunkSize = 32 << 20
	// maxReadChunkSize is the largest chunk size a manifest may name: the
	// bound before maxChunkSize, so that values stored with larger chunks
	// stay readable.
	maxReadChunkSize = 256 << 20
	// batchBytes is the most chunk bytes one pipeline carries: with Streams
	// pipelines per master, it bounds a transfer's memory in flight.
	batchBytes = 16 << 20
	// inlineMax is the largest value kept inside its manifest, with no chunk.
	inlineMax = 64 << 10
)

// withDefaults returns o with its defaults filled in, or an error wrapping
// ErrOptions.
func (o Options) withDefaults() (Options, error) {
	if len(o.Nodes) == 0 {
		return o, fmt.Errorf("%w: no Nodes", ErrOptions)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.WaitTimeout, 2*time.Second)
	def(&o.RetryTimeout, 15*time.Second)
	def(&o.DialTimeout, 2*time.Second)
	def(&o.IOTimeout, 30*time.Second)
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = 1
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = defaultChunkSize
	}
	if o.Streams == 0 {
		o.Streams = 4
	}
	if o.GlacierPrefix == "" {
		o.GlacierPrefix = "tiermem-cluster/"
	}
	switch {
	case o.ReplicationFactor < 1:
		return o, fmt.Errorf("%w: ReplicationFactor %d", ErrOptions, o.ReplicationFactor)
	case o.ChunkSize < minChunkSize:
		return o, fmt.Errorf("%w: ChunkSize %d, want at least %d (64 KiB)", ErrOptions, o.ChunkSize, minChunkSize)
	case o.ChunkSize > maxChunkSize:
		return o, fmt.Errorf("%w: ChunkSize %d, want at most %d (32 MiB): a master copies each chunk whole into its replicas' output buffers, "+
			"and Redis drops a replica whose buffer passes client-output-buffer-limit replica (256 MB by default)", ErrOptions, o.ChunkSize, maxChunkSize)
	case o.WaitTimeout < 0 || o.RetryTimeout < 0 || o.DialTimeout < 0 || o.IOTimeout < 0:
		return o, fmt.Errorf("%w: negative timeout", ErrOptions)
	case o.WaitTimeout < time.Millisecond:
		// WAIT counts whole milliseconds, and WAIT n 0 blocks forever.
		return o, fmt.Errorf("%w: WaitTimeout %v, want at least 1ms", ErrOptions, o.WaitTimeout)
	case o.ReplicationFactor > 1 && o.WaitTimeout >= o.IOTimeout:
		return o, fmt.Errorf("%w: WaitTimeout %v, want less than IOTimeout %v, which bounds the wait for its reply", ErrOptions, o.WaitTimeout, o.IOTimeout)
	case o.Streams < 1 || o.Streams > 64:
		return o, fmt.Errorf("%w: Streams %d, want 1 to 64", ErrOptions, o.Streams)
	}
	return o, nil
}

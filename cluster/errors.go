package cluster

import "errors"

// The errors of this package, usable with errors.Is. Errors from Redis and the
// network are wrapped in them or returned with the operation's context.
var (
	// ErrNotFound is returned by Retrieve, RetrieveArray, Get and Delete when
	// the key has no value.
	ErrNotFound = errors.New("cluster: key not found")
	// ErrCorrupt is returned when a chunk fails its checksum or length, a chunk
	// of the current generation is missing, a manifest does not parse, or a
	// manifest or chunk key holds another Redis type (WRONGTYPE): the read
	// returns no bytes at all rather than wrong ones.
	ErrCorrupt = errors.New("cluster: corrupt value")
	// ErrNotReplicated is returned by a Store or Delete that did not get
	// ReplicationFactor-1 replica acknowledgements (WAIT) in time. The
	// previous value stays readable (a failed Delete puts its manifest
	// back), unless the error says otherwise: a Store's "the new value may
	// be visible", a Delete's "the value may be deleted", when the cluster
	// could not be asked to put the previous manifest back.
	ErrNotReplicated = errors.New("cluster: not acknowledged by enough replicas")
	// ErrNotCluster is returned by Open when the nodes do not run Redis in
	// cluster mode.
	ErrNotCluster = errors.New("cluster: nodes are not a Redis Cluster")
	// ErrClusterDown is returned by Open when the cluster does not report
	// cluster_state:ok.
	ErrClusterDown = errors.New("cluster: cluster state is not ok")
	// ErrOptions is returned by Open for invalid Options, and when the
	// replication factor asks for more copies than the cluster has; and by a
	// read of a value spilled to glacier when Options.Glacier is not set.
	ErrOptions = errors.New("cluster: invalid options")
	// ErrClosed is returned by operations that begin after Close began.
	ErrClosed = errors.New("cluster: closed")
	// ErrInvalidKey is returned for an empty key or one longer than MaxKeyLen.
	ErrInvalidKey = errors.New("cluster: invalid key")
	// ErrType is returned when a key holds another kind of value than the call
	// reads (bytes, an array, or a value of another codec).
	ErrType = errors.New("cluster: value of another kind")
	// ErrConflict is returned by a read of a value replaced, again and
	// again, while it was being read, for longer than RetryTimeout.
	ErrConflict = errors.New("cluster: value replaced during every attempt to read it")
	// ErrNoSpace is returned when a node refuses a write for lack of memory
	// (Redis's OOM error under maxmemory) and Options.Glacier is not set to
	// take the value instead, or the manifest itself is refused. Nothing of
	// the new value is kept and the previous value stays readable.
	ErrNoSpace = errors.New("cluster: out of memory in the cluster")
)

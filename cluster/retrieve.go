package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// errGone is a chunk that is not there: the value may have been replaced
// since its manifest was read.
var errGone = errors.New("chunk missing")

// Retrieve returns the bytes stored under key, in a new slice the caller
// owns. Every chunk is checked against its checksum in the manifest: a
// mismatch, or a chunk of the current generation missing, is ErrCorrupt (never
// wrong or mixed bytes); a key without value is ErrNotFound; an array or Go
// value is ErrType. A value replaced during the read (its chunks deleted
// under the reader) is read again, in its new generation, until RetryTimeout,
// then ErrConflict.
func (c *Cluster) Retrieve(ctx context.Context, key string) ([]byte, error) {
	_, data, err := c.retrieve(ctx, key, kindBytes)
	return data, err
}

// RetrieveArray returns the array stored under key, with its element type
// and shape; its Data is a new slice the caller owns. It is Retrieve
// otherwise; a key holding bytes is ErrType. An array its manifest
// describes wrongly (a dtype or shape that does not fit its bytes, which
// checksums cannot rule out: a foreign writer, a forged manifest) is
// ErrCorrupt, never an Array that Validate refuses.
func (c *Cluster) RetrieveArray(ctx context.Context, key string) (tiermem.Array, error) {
	m, data, err := c.retrieve(ctx, key, kindArray)
	if err != nil {
		return tiermem.Array{}, err
	}
	shape := make([]int, len(m.shape))
	for i, d := range m.shape {
		shape[i] = int(min(d, math.MaxInt)) // past int: Validate refuses it as out of range, not negative
	}
	a := tiermem.Array{DType: tiermem.DType(m.aux), Shape: shape, Data: data}
	if err := a.Validate(); err != nil {
		return tiermem.Array{}, fmt.Errorf("%w: %q: its manifest describes another array: %v", ErrCorrupt, key, err)
	}
	return a, nil
}

// Exists reports whether key has a value.
func (c *Cluster) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if err := c.enter(); err != nil {
		return false, err
	}
	defer c.mu.RUnlock()
	var n int64
	err := c.retry(ctx, fmt.Sprintf("checking %q", key), func(ctx context.Context) (err error) {
		n, err = c.rc.Exists(ctx, manifestKey(key)).Result()
		return err
	})
	return n == 1, err
}

func (c *Cluster) retrieve(ctx context.Context, key string, want kind) (*manifest, []byte, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	if err := c.enter(); err != nil {
		return nil, nil, err
	}
	defer c.mu.RUnlock()
	start := time.Now()
	deletes := c.deletes.Load() // before the manifest: see nearPut
	for attempt := 0; ; attempt++ {
		var (
			m    *manifest
			near []byte
			err  error
		)
		if attempt == 0 {
			m, near, err = c.manifestAndNear(ctx, key)
		} else {
			m, err = c.readManifest(ctx, key)
		}
		if err != nil {
			if near != nil && errors.Is(err, ErrNotFound) {
				c.nearDelete(key) // deleted by another client: its copy would only take room
			}
			return nil, nil, err
		}
		if m.kind != want {
			return nil, nil, fmt.Errorf("%w: %q holds %v, not %v", ErrType, key, m.kind, want)
		}
		if m.isInline {
			if near != nil {
				c.nearDelete(key) // replaced by an inline value, which is never kept near
			}
			return m, append([]byte(nil), m.inline...), nil
		}
		if data, ok := nearMatch(near, m.gen); ok {
			return m, data, nil
		}
		buf := &buffer{n: m.length}
		if m.spilled {
			err = c.readSpilled(ctx, key, m, buf)
		} else {
			err = c.readChunks(ctx, c.chunkKeys(key, m), m, buf)
		}
		if err == nil {
			data := buf.bytes()
			c.nearPut(key, m.gen, data, deletes)
			return m, data, nil
		}
		if !errors.Is(err, errGone) {
			return nil, nil, fmt.Errorf("retrieving %q: %w", key, err)
		}
		now, merr := c.readManifest(ctx, key)
		if merr != nil {
			return nil, nil, merr
		}
		if now.gen == m.gen {
			return nil, nil, fmt.Errorf("%w: %q: %v", ErrCorrupt, key, err)
		}
		if time.Since(start) > c.opt.RetryTimeout {
			return nil, nil, fmt.Errorf("%w: %q, %d times in %v", ErrConflict, key, attempt+1, c.opt.RetryTimeout)
		}
	}
}

// manifestOrNil is readManifest with nil, nil for a key without value.
func (c *Cluster) manifestOrNil(ctx context.Context, key string) (*manifest, error) {
	m, err := c.readManifest(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return m, err
}

// readManifest reads and parses key's manifest from its master.
func (c *Cluster) readManifest(ctx context.Context, key string) (*manifest, error) {
	var raw []byte
	err := c.retry(ctx, fmt.Sprintf("reading the manifest of %q", key), func(ctx context.Context) (err error) {
		raw, err = c.rc.Get(ctx, manifestKey(key)).Bytes()
		if err == redis.Nil {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	m, err := parseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", key, err)
	}
	return m, nil
}

// buffer holds a value being read. Its bytes are allocated once a chunk has
// passed its check: a manifest that claims a length but names no chunk that
// exists (damaged, or forged) costs no allocation of that length.
type buffer struct {
	once sync.Once
	n    uint64 // the length
	b    []byte
}

// bytes returns the buffer's bytes, allocating them on the first call.
func (b *buffer) bytes() []byte {
	b.once.Do(func() { b.b = make([]byte, b.n) })
	return b.b
}

// readChunks checks every chunk and copies it into its place in buf.
func (c *Cluster) readChunks(ctx context.Context, keys []string, m *manifest, buf *buffer) error {
	batches, owners, err := c.plan(ctx, keys, int(m.chunkSize))
	if err != nil {
		return err
	}
	return c.run(ctx, batches, countDistinct(owners), func(ctx context.Context, batch []int) error {
		return c.readBatch(ctx, keys, m, buf, batch)
	})
}

// readBatch reads the chunks of batch in one pipeline, through the replicas
// too with ReadFromReplicas; a chunk a replica lacks or holds damaged is
// read again from its master.
func (c *Cluster) readBatch(ctx context.Context, keys []string, m *manifest, buf *buffer, batch []int) error {
	var cmds []redis.Cmder
	err := c.retry(ctx, "reading chunks", func(ctx context.Context) error {
		var err error
		cmds, err = c.readers.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range batch {
				p.Get(ctx, keys[i])
			}
			return nil
		})
		if err == redis.Nil {
			err = nil // a missing chunk, seen below
		}
		return err
	})
	if err != nil {
		return err
	}
	for j, i := range batch {
		v, err := cmds[j].(*redis.StringCmd).Result()
		if err == nil {
			err = m.check(i, v)
		} else if err == redis.Nil {
			err = fmt.Errorf("%w: chunk %d (%s)", errGone, i, keys[i])
		}
		if err != nil && c.readers != c.rc {
			err = c.retry(ctx, "reading a chunk", func(ctx context.Context) (err error) {
				v, err = c.rc.Get(ctx, keys[i]).Result()
				return err
			})
			if err == nil {
				err = m.check(i, v)
			} else if errors.Is(err, redis.Nil) {
				err = fmt.Errorf("%w: chunk %d (%s)", errGone, i, keys[i])
			}
		}
		if err != nil {
			return err
		}
		copy(m.chunk(buf.bytes(), i), v)
	}
	progress(ctx, m.batchBytes(batch))
	return nil
}

// check checks chunk i's bytes against its length and checksum.
func (m *manifest) check(i int, v string) error {
	if len(v) != m.chunkLen(i) {
		return fmt.Errorf("%w: chunk %d holds %d bytes, want %d", ErrCorrupt, i, len(v), m.chunkLen(i))
	}
	if xxh3.HashString(v) != m.sums[i] {
		return fmt.Errorf("%w: chunk %d fails its checksum", ErrCorrupt, i)
	}
	return nil
}

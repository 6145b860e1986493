package cluster

import (
	"context"
	"encoding/binary"
)

// The near cache holds, under NearPrefix+key, the value's generation (8
// bytes, little-endian) followed by its bytes. A Retrieve uses it only when
// that generation is the manifest's, so it never returns a replaced value.
// Its errors are not the caller's: a failed near write costs a later miss.

const genBytes = 8

// manifestAndNear reads key's manifest and, with a near cache, its near
// copy at the same time, so that a near hit costs the longer of the two
// rather than their sum. near is nil without a copy.
func (c *Cluster) manifestAndNear(ctx context.Context, key string) (m *manifest, near []byte, err error) {
	if c.opt.NearCache == nil {
		m, err = c.readManifest(ctx, key)
		return m, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		near, _ = c.opt.NearCache.Retrieve(c.opt.NearPrefix + key) // a miss is nil
	}()
	m, err = c.readManifest(ctx, key)
	<-done
	return m, near, err
}

// nearMatch returns the value of a near copy if it is of generation gen.
func nearMatch(near []byte, gen uint64) ([]byte, bool) {
	if len(near) < genBytes || binary.LittleEndian.Uint64(near) != gen {
		return nil, false
	}
	return near[genBytes:], true
}

// nearPut keeps value, of generation gen, as key's near copy, unless a
// Delete of this Cluster removed a manifest since deletes was read (before
// the manifest the value came from): that may have been key's, and its
// Delete's nearDelete may have run before this put. A Delete that counts
// after the check below deletes the copy itself, after counting.
func (c *Cluster) nearPut(key string, gen uint64, value []byte, deletes uint64) {
	if c.opt.NearCache == nil || c.deletes.Load() != deletes {
		return
	}
	b := make([]byte, genBytes+len(value))
	binary.LittleEndian.PutUint64(b, gen)
	copy(b[genBytes:], value)
	if c.opt.NearCache.Store(c.opt.NearPrefix+key, b) != nil || c.deletes.Load() != deletes {
		c.nearDelete(key) // do not leave an older copy to miss on every read, nor a deleted one
	}
}

func (c *Cluster) nearDelete(key string) {
	if c.opt.NearCache != nil {
		_ = c.opt.NearCache.Delete(c.opt.NearPrefix + key)
	}
}

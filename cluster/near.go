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

func (c *Cluster) nearPut(key string, gen uint64, value []byte) {
	if c.opt.NearCache == nil {
		return
	}
	b := make([]byte, genBytes+len(value))
	binary.LittleEndian.PutUint64(b, gen)
	copy(b[genBytes:], value)
	if c.opt.NearCache.Store(c.opt.NearPrefix+key, b) != nil {
		c.nearDelete(key) // do not leave an older copy to miss on every read
	}
}

func (c *Cluster) nearDelete(key string) {
	if c.opt.NearCache != nil {
		_ = c.opt.NearCache.Delete(c.opt.NearPrefix + key)
	}
}

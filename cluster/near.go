package cluster

import (
	"encoding/binary"
)

// The near cache holds, under NearPrefix+key, the value's generation (8
// bytes, little-endian) followed by its bytes. A Retrieve uses it only when
// that generation is the manifest's, so it never returns a replaced value.
// Its errors are not the caller's: a failed near write costs a later miss.

const genBytes = 8

func (c *Cluster) nearGet(key string, gen uint64) ([]byte, bool) {
	if c.opt.NearCache == nil {
		return nil, false
	}
	b, err := c.opt.NearCache.Retrieve(c.opt.NearPrefix + key)
	if err != nil || len(b) < genBytes || binary.LittleEndian.Uint64(b) != gen {
		return nil, false
	}
	return b[genBytes:], true
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

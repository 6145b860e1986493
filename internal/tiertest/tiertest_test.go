package tiertest_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
)

// TestReference runs the suite against mapStore, the simplest store that
// keeps the contract, so that the suite's own checks are known to pass
// where they should: the Persistent ones too, through disks.
func TestReference(t *testing.T) {
	d := &disks{dirs: map[string]*contents{}}
	tiertest.Run(t, func(t *testing.T) tier.Store { return d.open(t.TempDir()) }, &tiertest.Options{
		Reopen: func(_ *testing.T, dir string) tier.Store { return d.open(dir) },
	})
}

// disks stands in for a file system: what a mapStore keeps in each dir.
type disks struct {
	mu   sync.Mutex // protects dirs
	dirs map[string]*contents
}

func (d *disks) open(dir string) *mapStore {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.dirs[dir]
	if !ok {
		c = &contents{values: map[string]stored{}}
		d.dirs[dir] = c
	}
	return &mapStore{c: c}
}

// contents is one dir's data, shared by the mapStores opened on it.
type contents struct {
	values map[string]stored
	used   int64
}

type stored struct{ value, meta []byte }

// mapStore is a tier.Persistent, MetaViewer, Sized and Coster over a map.
type mapStore struct {
	mu     sync.RWMutex // protects c and closed
	c      *contents
	closed bool
}

func cost(key string, value, meta []byte) int64 { return int64(len(key)+len(value)+len(meta)) + 32 }

func (s *mapStore) Cost(keyLen, valueLen, metaLen int) int64 {
	return int64(keyLen+valueLen+metaLen) + 32
}

func (s *mapStore) Put(key string, value, meta []byte) (int64, error) {
	if key == "" {
		return 0, tier.ErrInvalidKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("put: %w", tier.ErrClosed)
	}
	if old, ok := s.c.values[key]; ok {
		s.c.used -= cost(key, old.value, old.meta)
	}
	e := stored{value: append([]byte{}, value...)}
	if len(meta) > 0 {
		e.meta = append([]byte(nil), meta...)
	}
	s.c.values[key] = e
	s.c.used += cost(key, e.value, e.meta)
	return cost(key, e.value, e.meta), nil
}

func (s *mapStore) Get(key string, dst []byte) ([]byte, error) {
	err := s.View(key, func(v []byte) error {
		dst = append(dst, v...)
		return nil
	})
	return dst, err
}

func (s *mapStore) View(key string, fn func([]byte) error) error {
	return s.ViewMeta(key, func(v, _ []byte) error { return fn(v) })
}

func (s *mapStore) ViewMeta(key string, fn func(value, meta []byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return tier.ErrClosed
	}
	e, ok := s.c.values[key]
	if !ok {
		return tier.ErrNotFound
	}
	return fn(e.value, e.meta)
}

func (s *mapStore) Meta(key string) ([]byte, error) {
	var meta []byte
	err := s.ViewMeta(key, func(_, m []byte) error {
		meta = append(meta, m...)
		return nil
	})
	return meta, err
}

func (s *mapStore) Delete(key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, tier.ErrClosed
	}
	e, ok := s.c.values[key]
	if !ok {
		return 0, tier.ErrNotFound
	}
	delete(s.c.values, key)
	s.c.used -= cost(key, e.value, e.meta)
	return cost(key, e.value, e.meta), nil
}

func (s *mapStore) Scan(fn func(key string, meta []byte, size int64) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return tier.ErrClosed
	}
	for key, e := range s.c.values {
		if err := fn(key, e.meta, cost(key, e.value, e.meta)); err != nil {
			return err
		}
	}
	return nil
}

func (s *mapStore) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return tier.ErrClosed
	}
	return nil
}

func (s *mapStore) Used() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0
	}
	return s.c.used
}

func (s *mapStore) Len() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0
	}
	return int64(len(s.c.values))
}

func (s *mapStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return tier.ErrClosed
	}
	s.closed = true
	return nil
}

var _ tier.Persistent = (*mapStore)(nil)

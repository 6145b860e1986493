package kv

import (
	"context"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"

	"github.com/tiermem/tiermem"
)

// store is the part of a key-value store the phases use. Keys and values come
// as []byte, the way a server receives them; a store whose API takes string
// keys converts, and that conversion is part of its cost.
type store interface {
	// Set stores a copy of value under key.
	Set(key, value []byte) error
	// Get appends key's value to dst; ok is false on a miss.
	Get(dst, key []byte) (value []byte, ok bool)
}

// kind opens one store sized for entries keys of keySize bytes and values of
// valueSize bytes, so that every entry stays where it is put.
type kind struct {
	name string
	open func(entries int) (store, error)
}

var kinds = []kind{
	{"tiermem-warm", openTiermem(tiermem.Warm, -1, tiermem.PolicyAuto)},
	{"tiermem-warm-migrate", openTiermem(tiermem.Warm, 0, tiermem.PolicyAuto)},
	{"tiermem-hot", openTiermem(tiermem.Hot, -1, tiermem.PolicyAuto)},
	{"tiermem-hot-clock", openTiermem(tiermem.Hot, -1, tiermem.PolicyClock)},
	{"fastcache", openFastcache},
	{"freecache", openFreecache},
	{"bigcache", openBigcache},
}

func kindNamed(name string) (kind, error) {
	for _, k := range kinds {
		if k.name == name {
			return k, nil
		}
	}
	return kind{}, fmt.Errorf("no store %q", name)
}

// ringBytes is what a ring-buffer cache (fastcache, freecache) is given: three
// times the entries with their headers, so that the Sets of the mixed load,
// which append a new copy in fastcache, never wrap a bucket onto live keys.
func ringBytes(entries int) int {
	return max(3*entries*(keySize+valueSize+32), 32<<20)
}

type tiermemStore struct {
	m    *tiermem.Manager
	opts []tiermem.StoreOption // InTier(the tier under test), built once
}

// openTiermem opens a Manager in a temporary directory whose tier t holds
// every entry four times over and whose other memory tier is small, so that
// nothing is promoted into it; interval is its MigrateInterval (0: the default
// loop, -1: none) and p the policy of tier t. The Manager is never closed: Close would write every value
// to the cold tier, and the process ends with the measurement.
func openTiermem(t tiermem.Tier, interval time.Duration, p tiermem.Policy) func(int) (store, error) {
	return func(entries int) (store, error) {
		dir, err := os.MkdirTemp("", "kv-tiermem-")
		if err != nil {
			return nil, err
		}
		big := max(int64(4*entries*(keySize+valueSize+32)), 1<<30)
		o := tiermem.Options{
			Hot:             tiermem.TierOptions{Size: 1 << 20},
			Warm:            tiermem.TierOptions{Size: 64 << 20},
			Cold:            tiermem.TierOptions{Size: 1 << 30},
			MigrateInterval: interval,
		}
		if t == tiermem.Hot {
			o.Hot.Size, o.Hot.Policy = big, p
		} else {
			o.Warm.Size, o.Warm.Policy = big, p
		}
		m, err := tiermem.Open(dir, &o)
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		return &tiermemStore{m, []tiermem.StoreOption{tiermem.InTier(t)}}, nil
	}
}

// Set and Get pass the key as a string over the caller's bytes, which the
// Manager allows (its package doc, "Keys": it copies what it keeps), so that
// neither allocates for the key, as a server reading keys off the network
// would not.
func (s *tiermemStore) Set(key, value []byte) error {
	return s.m.Store(unsafe.String(&key[0], len(key)), value, s.opts...)
}

func (s *tiermemStore) Get(dst, key []byte) ([]byte, bool) {
	v, err := s.m.RetrieveAppend(dst, unsafe.String(&key[0], len(key)))
	return v, err == nil
}

type fastcacheStore struct{ c *fastcache.Cache }

func openFastcache(entries int) (store, error) {
	return fastcacheStore{fastcache.New(ringBytes(entries))}, nil
}

func (s fastcacheStore) Set(key, value []byte) error { s.c.Set(key, value); return nil }

func (s fastcacheStore) Get(dst, key []byte) ([]byte, bool) { return s.c.HasGet(dst, key) }

type freecacheStore struct{ c *freecache.Cache }

func openFreecache(entries int) (store, error) {
	return freecacheStore{freecache.NewCache(ringBytes(entries))}, nil
}

func (s freecacheStore) Set(key, value []byte) error { return s.c.Set(key, value, 0) }

// Get reads into dst's spare capacity, freecache's allocation-free read.
func (s freecacheStore) Get(dst, key []byte) ([]byte, bool) {
	v, err := s.c.GetWithBuf(key, dst[len(dst):])
	if err != nil {
		return dst, false
	}
	return append(dst, v...), true
}

type bigcacheStore struct{ c *bigcache.BigCache }

// openBigcache keeps every entry for a day (nothing expires during a run),
// with no cleaning goroutine and no size limit.
func openBigcache(entries int) (store, error) {
	cfg := bigcache.DefaultConfig(24 * time.Hour)
	cfg.CleanWindow = 0
	cfg.MaxEntriesInWindow = entries
	cfg.MaxEntrySize = keySize + valueSize + 16
	cfg.HardMaxCacheSize = 0
	c, err := bigcache.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return bigcacheStore{c}, nil
}

func (s bigcacheStore) Set(key, value []byte) error { return s.c.Set(string(key), value) }

// Get appends bigcache's copy of the value: its Get always allocates one.
func (s bigcacheStore) Get(dst, key []byte) ([]byte, bool) {
	v, err := s.c.Get(string(key))
	if err != nil {
		return dst, false
	}
	return append(dst, v...), true
}

// cleanups run when the child ends (temporary directories).
var cleanups []func()

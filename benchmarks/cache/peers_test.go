package cache

import (
	"testing"

	"github.com/Yiling-J/theine-go"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/maypok86/otter/v2"

	"github.com/tiermem/tiermem/cache"
)

// client is the part of a cache the benchmarks use.
type client interface {
	Get(key uint64) (uint64, bool)
	Set(key, value uint64)
	Settle() // waits for buffered writes to apply (ristretto)
	Close()
}

// peer builds one cache of a given capacity in entries.
type peer struct {
	name string
	new  func(tb testing.TB, capacity int) client
}

var peers = []peer{
	{"tiermem", newTiermem},
	{"otter", newOtter},
	{"theine", newTheine},
	{"ristretto", newRistretto},
}

type tiermemClient struct{ c *cache.Cache[uint64, uint64] }

func newTiermem(tb testing.TB, capacity int) client {
	c, err := cache.New(&cache.Options[uint64, uint64]{MaxWeight: int64(capacity)})
	if err != nil {
		tb.Fatal(err)
	}
	return tiermemClient{c}
}

func (t tiermemClient) Get(k uint64) (uint64, bool) { return t.c.Get(k) }
func (t tiermemClient) Set(k, v uint64)             { _ = t.c.Set(k, v) }
func (t tiermemClient) Settle()                     {}
func (t tiermemClient) Close()                      { t.c.Close() }

type otterClient struct{ c *otter.Cache[uint64, uint64] }

func newOtter(tb testing.TB, capacity int) client {
	return otterClient{otter.Must(&otter.Options[uint64, uint64]{MaximumSize: capacity})}
}

func (o otterClient) Get(k uint64) (uint64, bool) { return o.c.GetIfPresent(k) }
func (o otterClient) Set(k, v uint64)             { o.c.Set(k, v) }
func (o otterClient) Settle()                     {}
func (o otterClient) Close()                      {}

type theineClient struct{ c *theine.Cache[uint64, uint64] }

func newTheine(tb testing.TB, capacity int) client {
	c, err := theine.NewBuilder[uint64, uint64](int64(capacity)).Build()
	if err != nil {
		tb.Fatal(err)
	}
	return theineClient{c}
}

func (t theineClient) Get(k uint64) (uint64, bool) { return t.c.Get(k) }
func (t theineClient) Set(k, v uint64)             { t.c.Set(k, v, 1) }
func (t theineClient) Settle()                     {}
func (t theineClient) Close()                      { t.c.Close() }

type ristrettoClient struct {
	c *ristretto.Cache[uint64, uint64]
}

func newRistretto(tb testing.TB, capacity int) client {
	c, err := ristretto.NewCache(&ristretto.Config[uint64, uint64]{
		NumCounters: int64(10 * capacity), MaxCost: int64(capacity), BufferItems: 64,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ristrettoClient{c}
}

func (r ristrettoClient) Get(k uint64) (uint64, bool) { return r.c.Get(k) }
func (r ristrettoClient) Set(k, v uint64)             { r.c.Set(k, v, 1) }
func (r ristrettoClient) Settle()                     { r.c.Wait() }
func (r ristrettoClient) Close()                      { r.c.Close() }

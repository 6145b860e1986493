package tiertest

// The checks of a store that keeps its data across Close (Options.Reopen):
// what was acknowledged before Close, or while Close ran, is there after
// reopening, with its meta and its size; what was deleted is not.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// entry is what a store should hold under a key.
type entry struct {
	value, meta []byte
	charged     int64 // what Put returned
}

// contents is what a store should hold: key → entry. Keys it must not
// hold are in gone.
type contents struct {
	live map[string]entry
	gone map[string]bool
}

func (c *contents) put(t *testing.T, s tier.Store, key string, value, meta []byte) {
	t.Helper()
	n, err := s.Put(key, value, meta)
	must(t, err)
	c.live[key] = entry{value: value, meta: meta, charged: n}
	delete(c.gone, key)
}

func (c *contents) delete(t *testing.T, s tier.Store, key string) {
	t.Helper()
	freed, err := s.Delete(key)
	must(t, err)
	if want := c.live[key].charged; freed != want {
		t.Errorf("Delete(%q) freed %d bytes, Put charged %d", key, freed, want)
	}
	delete(c.live, key)
	c.gone[key] = true
}

// setMeta changes the meta of key, if c holds it and s is a MetaSetter.
func (c *contents) setMeta(t *testing.T, s tier.Store, key string, meta []byte) {
	t.Helper()
	ms, ok := s.(tier.MetaSetter)
	e, live := c.live[key]
	if !ok || !live {
		return
	}
	n, err := ms.SetMeta(key, meta, 1<<30)
	must(t, err)
	e.meta, e.charged = meta, n
	c.live[key] = e
}

func (c *contents) ledger() ledger {
	l := ledger{}
	for key, e := range c.live {
		l[key] = e.charged
	}
	return l
}

// check compares s with c: every live key's value and meta, every gone key
// absent, and the accounting (Used, Len, Scan) with what Put charged.
func (c *contents) check(t *testing.T, s tier.Store, when string) {
	t.Helper()
	for key, e := range c.live {
		got, err := get(s, key, nil)
		if err != nil || !bytes.Equal(got, e.value) {
			t.Errorf("%s: Get(%q) = %d bytes, %v; want the %d bytes acknowledged", when, key, len(got), err, len(e.value))
			continue
		}
		if meta, err := s.Meta(key); err != nil || !bytes.Equal(meta, e.meta) {
			t.Errorf("%s: Meta(%q) = %q, %v; want %q", when, key, meta, err, e.meta)
		}
	}
	for key := range c.gone {
		if _, err := get(s, key, nil); !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("%s: Get(%q), deleted, = %v; want ErrNotFound", when, key, err)
		}
	}
	checkLedger(t, s, c.ledger(), when)
}

// reopen writes, replaces and deletes keys of every size, closes the store,
// reopens it and checks that it holds exactly what was acknowledged; then
// changes it again, twice.
func reopen(t *testing.T, open func(t *testing.T, dir string) tier.Store) {
	dir := t.TempDir()
	c := &contents{live: map[string]entry{}, gone: map[string]bool{}}
	sizes := []int{0, 1, 16, 300, 4096, 64<<10 - 100, 70 << 10, 1 << 20}
	for pass := range 3 {
		s := open(t, dir)
		c.check(t, s, fmt.Sprintf("pass %d, after Open", pass))
		for i := range 40 {
			key := fmt.Sprintf("p%d", (i*7+pass*3)%30)
			n := sizes[(i+pass)%len(sizes)]
			v := accountingValue(i+pass<<8, n, i%3 == 0)
			var meta []byte
			if i%4 != 0 {
				meta = fmt.Appendf(nil, "meta of %s in pass %d", key, pass)
			}
			c.put(t, s, key, v, meta)
			if i%5 == 4 {
				c.delete(t, s, key)
			}
			if i%9 == 8 {
				c.delete(t, s, key)
				c.put(t, s, key, []byte("back"), nil)
			}
			if i%6 == 5 {
				c.setMeta(t, s, key, fmt.Appendf(nil, "meta %d set on %s", i, key))
			}
		}
		c.check(t, s, fmt.Sprintf("pass %d, before Close", pass))
		must(t, s.Close())
		if t.Failed() {
			return
		}
	}
	s := open(t, dir)
	defer s.Close()
	c.check(t, s, "after the last reopening")
}

// closeWhileWriting closes stores while goroutines Put and Delete, reopens
// them and checks that every Put and Delete that returned nil holds, and
// that none that returned ErrClosed took effect.
func closeWhileWriting(t *testing.T, open func(t *testing.T, dir string) tier.Store) {
	n := rounds(45)
	for r := range n {
		if !closeWriteRound(t, open, r) {
			t.Logf("stopped at round %d of %d", r, n)
			return
		}
	}
}

const (
	writers    = 4
	writerKeys = 8 // keys each writer owns
)

// ack is the last acknowledged state of a key.
type ack struct {
	live    bool
	version uint32
	meta    bool  // stored with meta
	charged int64 // what Put returned
}

func closeWriteRound(t *testing.T, open func(t *testing.T, dir string) tier.Store, r int) bool {
	t.Helper()
	dir := t.TempDir()
	s := open(t, dir)
	rep := &reporter{t: t}
	acked := make([][writerKeys]ack, writers)
	rng := rand.New(rand.NewPCG(uint64(r), 3))
	closeAt := int64(rng.IntN(300))
	var calls atomic.Int64
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), uint64(g)+10))
			for i := uint32(1); ; i++ {
				j := rng.IntN(writerKeys)
				a := &acked[g][j]
				err := writeOnce(s, rng, g*writerKeys+j, i, a)
				calls.Add(1)
				if errors.Is(err, tier.ErrClosed) {
					return
				}
				if err != nil {
					rep.fail("round %d: while Close runs: %v", r, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for calls.Load() < closeAt {
			runtime.Gosched()
		}
		if err := s.Close(); err != nil {
			rep.fail("round %d: Close while writers run = %v", r, err)
		}
	})
	wg.Wait()
	if rep.failed.Load() {
		return false
	}
	s = open(t, dir)
	defer s.Close()
	checkAcked(t, s, acked, rep, r)
	return !rep.failed.Load() && !t.Failed()
}

// writeOnce makes one Put or Delete of key number key and, if the store
// acknowledges it, records it in a.
func writeOnce(s tier.Store, rng *rand.Rand, key int, version uint32, a *ack) error {
	if a.live && rng.IntN(5) == 0 {
		_, err := s.Delete(sampleKey(key))
		if err != nil {
			return fmt.Errorf("Delete(%q) of version %d: %w", sampleKey(key), a.version, err)
		}
		*a = ack{}
		return nil
	}
	n := 16 + rng.IntN(3000)
	if rng.IntN(40) == 0 {
		n = 70 << 10
	}
	v := sample(key, version, n, rng.IntN(2) == 0)
	withMeta := rng.IntN(2) == 0
	charged, err := s.Put(sampleKey(key), v, metaFor(v, withMeta))
	if err != nil {
		return fmt.Errorf("Put(%q) of version %d: %w", sampleKey(key), version, err)
	}
	*a = ack{live: true, version: version, meta: withMeta, charged: charged}
	return nil
}

// checkAcked checks a reopened store against the acknowledged states.
func checkAcked(t *testing.T, s tier.Store, acked [][writerKeys]ack, rep *reporter, r int) {
	l := ledger{}
	for g := range acked {
		for j, a := range acked[g] {
			key := sampleKey(g*writerKeys + j)
			got, err := get(s, key, nil)
			switch {
			case !a.live && !errors.Is(err, tier.ErrNotFound):
				rep.fail("round %d: after reopening, Get(%q) = %d bytes, %v; its last acknowledged write deleted it or none was acknowledged", r, key, len(got), err)
			case !a.live:
			case err != nil:
				rep.fail("round %d: after reopening, Get(%q) = %v; version %d was acknowledged", r, key, err, a.version)
			case checkSample(key, got) != "":
				rep.fail("round %d: after reopening, Get %s", r, checkSample(key, got))
			case versionOf(got) != a.version:
				rep.fail("round %d: after reopening, %q holds version %d; version %d was the last acknowledged", r, key, versionOf(got), a.version)
			default:
				l[key] = a.charged
				if meta, err := s.Meta(key); err != nil || !bytes.Equal(meta, metaFor(got, a.meta)) {
					rep.fail("round %d: after reopening, Meta(%q) = %x, %v; want %x", r, key, meta, err, metaFor(got, a.meta))
				}
			}
		}
	}
	if !rep.failed.Load() {
		checkLedger(t, s, l, fmt.Sprintf("round %d, after reopening", r))
	}
}

func versionOf(v []byte) uint32 {
	_, version := seedOf(v)
	return version
}

package tiertest

// The checks of "after Close every method returns ErrClosed": once Close
// has returned, and while it runs under readers and writers.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// closed calls every method the store has, optional interfaces included,
// after Close: each returns ErrClosed and calls no callback.
func closed(t *testing.T, s tier.Store) {
	_, err := s.Put("k", []byte("v"), []byte("m"))
	must(t, err)
	must(t, s.Close())
	wantClosed := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, tier.ErrClosed) {
			t.Errorf("%s after Close = %v, want an error wrapping tier.ErrClosed", method, err)
		}
	}
	called := func(method string) { t.Errorf("%s after Close called its callback", method) }
	_, err = get(s, "k", nil)
	wantClosed("Get", err)
	wantClosed("View", view(s, "k", func([]byte) error { called("View"); return nil }))
	_, err = s.Put("k", []byte("v"), nil)
	wantClosed("Put", err)
	_, err = s.Put("new", []byte("v"), nil)
	wantClosed("Put of a new key", err)
	_, err = s.Delete("k")
	wantClosed("Delete", err)
	wantClosed("ViewMeta", s.ViewMeta("k", func(_, _ []byte) error { called("ViewMeta"); return nil }))
	_, err = s.Meta("k")
	wantClosed("Meta", err)
	wantClosed("Scan", s.Scan(func(string, []byte, int64) error { called("Scan"); return nil }))
	if vs, ok := s.(tier.ValueScanner); ok {
		wantClosed("ScanValues", vs.ScanValues(func(string, []byte, []byte, error) error { called("ScanValues"); return nil }))
	}
	if p, ok := s.(tier.Persistent); ok {
		wantClosed("Sync", p.Sync())
	}
	if ms, ok := s.(tier.MetaSetter); ok {
		_, err = ms.SetMeta("k", nil, 1<<30)
		wantClosed("SetMeta", err)
	}
	wantClosed("a second Close", s.Close())
}

// deleteSeesPut reads a key while another goroutine Puts it into an empty
// store, and deletes it as soon as a read finds it: the Delete must find it
// too (a store that answers Deletes of an empty store without a lock must
// count a key before a read can see it).
func deleteSeesPut(t *testing.T, s tier.Store) {
	defer s.Close()
	for round := range 2000 {
		key := fmt.Sprint("k", round%7)
		done := make(chan error, 1)
		go func() {
			_, err := s.Put(key, []byte("v"), nil)
			done <- err
		}()
		for {
			if _, err := get(s, key, nil); err == nil {
				break
			}
			runtime.Gosched()
		}
		if _, err := s.Delete(key); err != nil {
			t.Fatalf("round %d: Delete of a key a Get had just found = %v", round, err)
		}
		must(t, <-done)
	}
}

// closedEmpty closes a store that holds no key: a Delete or a ViewMeta,
// which a store may answer without a lock while it is empty, still says
// ErrClosed.
func closedEmpty(t *testing.T, s tier.Store) {
	_, err := s.Put("k", []byte("v"), nil)
	must(t, err)
	_, err = s.Delete("k")
	must(t, err)
	must(t, s.Close())
	if _, err := s.Delete("k"); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("Delete after Close of an empty store = %v, want an error wrapping tier.ErrClosed", err)
	}
	if err := s.ViewMeta("k", func(_, _ []byte) error { return nil }); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("ViewMeta after Close of an empty store = %v, want an error wrapping tier.ErrClosed", err)
	}
}

// viewSeesPut puts a key into an empty store on one goroutine and looks it
// up on another as soon as the Put returned: the look finds it (a store
// may answer looks without a lock while it is empty, but not miss a key a
// Put has returned for). The key is then deleted, and the store is empty
// again for the next round.
func viewSeesPut(t *testing.T, s tier.Store) {
	defer s.Close()
	for round := range rounds(2000) {
		key := fmt.Sprint("k", round%7)
		put := make(chan error)
		go func() {
			_, err := s.Put(key, []byte("v"), nil)
			put <- err
		}()
		must(t, <-put)
		if err := s.ViewMeta(key, func(_, _ []byte) error { return nil }); err != nil {
			t.Fatalf("round %d: ViewMeta of a key whose Put returned = %v", round, err)
		}
		_, err := s.Delete(key)
		must(t, err)
	}
}

// closeRacing closes stores while goroutines call every method the store
// has, in a loop, and go on calling after Close returned. Every call returns
// a valid result (a value checked byte for byte, with a meta that belongs
// to it), ErrNotFound where the key may be absent, or ErrClosed; after Close
// returned, only ErrClosed. A value lent to a View callback stays intact,
// and Close does not return, until the callback does. Nothing panics or
// faults: a fault on unmapped memory is turned into a reported panic rather
// than a crash. In a quarter of the rounds two goroutines Close at once,
// and exactly one succeeds.
func closeRacing(t *testing.T, open func(t *testing.T) tier.Store) {
	n := rounds(300)
	for r := range n {
		if !closeRound(t, open(t), r) {
			t.Logf("stopped at round %d of %d", r, n)
			return
		}
	}
}

const (
	raceKeys    = 16 // keys the goroutines of a round share
	raceWorkers = 6  // goroutines calling the store in a round
	callsAfter  = 8  // calls each makes after it saw Close return
)

// closeRound runs one round of closeRacing; it reports false if the round
// found something wrong.
func closeRound(t *testing.T, s tier.Store, r int) bool {
	t.Helper()
	for i := range raceKeys / 2 {
		v := sample(i, 0, 64+i*100, i%2 == 0)
		_, err := s.Put(sampleKey(i), v, metaFor(v, true))
		must(t, err)
	}
	rng := rand.New(rand.NewPCG(uint64(r), 1))
	rd := &round{s: s, r: r, rep: &reporter{t: t}, closeAt: int64(rng.IntN(150)),
		closeNow: make(chan struct{}), closedCh: make(chan struct{})}
	if rd.closeAt == 0 {
		close(rd.closeNow)
	}
	var wg sync.WaitGroup
	for g := range raceWorkers {
		wg.Go(func() { rd.work(g) })
	}
	closers := 1 + r%4/3 // two in a quarter of the rounds
	for range closers {
		wg.Go(rd.close)
	}
	wg.Wait()
	if n := rd.succeeded.Load(); n != 1 {
		rd.rep.fail("round %d: %d of %d concurrent Closes returned nil, want exactly 1", r, n, closers)
	}
	if err := s.Close(); !errors.Is(err, tier.ErrClosed) {
		rd.rep.fail("round %d: Close after the race = %v, want ErrClosed", r, err)
	}
	return !rd.rep.failed.Load()
}

// round is the shared state of one closeRacing round.
type round struct {
	s        tier.Store
	r        int
	rep      *reporter
	calls    atomic.Int64
	closeAt  int64         // the call at which Close starts
	closeNow chan struct{} // closed at the closeAt-th call

	done      atomic.Bool   // set once a Close returned
	closedCh  chan struct{} // closed once a Close returned
	closeOnce sync.Once
	released  atomic.Bool  // set once the Close that succeeded returned
	succeeded atomic.Int32 // Closes that returned nil
}

// work makes goroutine g's calls until callsAfter of them began after a
// Close returned.
func (rd *round) work(g int) {
	debug.SetPanicOnFault(true)
	c := caller{s: rd.s, rep: rd.rep, released: &rd.released,
		rng: rand.New(rand.NewPCG(uint64(rd.r), uint64(g)+2)), version: uint32(g+1) << 24}
	c.p, _ = rd.s.(tier.Persistent)
	c.ms, _ = rd.s.(tier.MetaSetter)
	c.lp, _ = rd.s.(tier.LookupPreparer)
	for after := 0; after < callsAfter && !rd.rep.failed.Load(); {
		wasClosed := rd.done.Load()
		err := c.call(wasClosed)
		if rd.calls.Add(1) == rd.closeAt {
			close(rd.closeNow)
		}
		switch {
		case wasClosed:
			after++
		case errors.Is(err, tier.ErrClosed):
			<-rd.closedCh // rather than spin while Close drains
		}
	}
}

// close closes the store once closeAt calls were made.
func (rd *round) close() {
	<-rd.closeNow
	err := rd.s.Close()
	switch {
	case err == nil:
		rd.succeeded.Add(1)
		rd.released.Store(true)
	case !errors.Is(err, tier.ErrClosed):
		rd.rep.fail("round %d: Close while in use = %v", rd.r, err)
	}
	rd.done.Store(true)
	rd.closeOnce.Do(func() { close(rd.closedCh) })
}

// reporter reports the first few failures of concurrent goroutines, so
// that a broken store does not flood the log.
type reporter struct {
	t      *testing.T
	n      atomic.Int32
	failed atomic.Bool
}

func (r *reporter) fail(format string, args ...any) {
	r.t.Helper()
	r.failed.Store(true)
	if r.n.Add(1) <= 10 {
		r.t.Errorf(format, args...)
	}
}

// caller makes one goroutine's calls in a closeRacing round.
type caller struct {
	s        tier.Store
	p        tier.Persistent
	ms       tier.MetaSetter
	lp       tier.LookupPreparer
	rep      *reporter
	released *atomic.Bool // set once the Close that succeeded returned
	rng      *rand.Rand
	version  uint32 // of the next Put, unique across the round's goroutines
}

// call makes one random call, checks its result and returns its error;
// wasClosed says that a Close had returned before the call began.
func (c *caller) call(wasClosed bool) (err error) {
	i := c.rng.IntN(raceKeys)
	key := sampleKey(i)
	method := "Used"
	defer func() {
		if p := recover(); p != nil {
			c.rep.fail("%s(%q) panicked with Close racing it: %v\n%s", method, key, p, debug.Stack())
		}
	}()
	var bad string
	switch op := c.rng.IntN(80); {
	case op < 20:
		method = "Put"
		bad, err = c.put(i)
	case op < 36:
		method = "Get"
		bad, err = c.get(key)
	case op < 48:
		method = "View"
		bad, err = c.view(key)
	case op < 56:
		method = "ViewMeta"
		bad, err = c.viewMeta(key)
	case op < 62:
		method = "Meta"
		var meta []byte
		meta, err = c.s.Meta(key)
		if err == nil {
			bad = checkSampleMeta(key, meta)
		}
	case op < 70:
		method = "Delete"
		var n int64
		n, err = c.s.Delete(key)
		if err == nil && n <= 0 {
			bad = fmt.Sprintf("Delete freed %d bytes", n)
		}
	case op < 72:
		method = "Scan"
		bad, err = c.scan()
	case op < 74 && c.p != nil:
		method = "Sync"
		err = c.p.Sync()
	case op < 76 && c.ms != nil:
		method = "SetMeta"
		var n int64
		n, err = c.ms.SetMeta(key, nil, 1<<30) // no meta: valid for any value
		if err == nil && n <= 0 {
			bad = fmt.Sprintf("SetMeta charged %d bytes", n)
		}
	case op < 78 && c.lp != nil:
		method = "PrepareLookups" // no error to check; the race detector and the fault handler watch
		c.lp.PrepareLookups([][]byte{[]byte(key), []byte(sampleKey(c.rng.IntN(raceKeys))), nil})
		return nil
	default:
		_, _ = c.s.Used(), c.s.Len() // no error to check; the race detector watches
		return nil
	}
	c.check(method, key, err, bad, wasClosed)
	return err
}

// check reports a call's result that is neither valid nor ErrClosed.
func (c *caller) check(method, key string, err error, bad string, wasClosed bool) {
	switch {
	case bad != "":
		c.rep.fail("%s(%q) while Close runs: %s (error %v)", method, key, bad, err)
	case wasClosed && !errors.Is(err, tier.ErrClosed):
		c.rep.fail("%s(%q) after Close returned = %v, want ErrClosed", method, key, err)
	case err == nil, errors.Is(err, tier.ErrClosed):
	case errors.Is(err, tier.ErrNotFound) && method != "Put" && method != "Scan" && method != "Sync":
	default:
		c.rep.fail("%s(%q) while Close runs = %v, want a result or ErrClosed", method, key, err)
	}
}

func (c *caller) put(i int) (string, error) {
	n := 16 + c.rng.IntN(1000)
	if c.rng.IntN(100) == 0 {
		n = 70 << 10 // past the slab of a memory store, past a disk store's write buffer threshold
	}
	c.version++
	v := sample(i, c.version, n, c.rng.IntN(2) == 0)
	size, err := c.s.Put(sampleKey(i), v, metaFor(v, c.rng.IntN(4) != 0))
	if err == nil && size <= 0 {
		return fmt.Sprintf("Put charged %d bytes", size), err
	}
	return "", err
}

func (c *caller) get(key string) (string, error) {
	got, err := get(c.s, key, []byte("dst"))
	switch {
	case len(got) < 3 || string(got[:3]) != "dst":
		return "Get did not append to dst", err
	case err != nil:
		return "", err
	}
	return checkSample(key, got[3:]), err
}

func (c *caller) view(key string) (string, error) {
	var bad string
	ran := false
	err := view(c.s, key, func(v []byte) error {
		ran = true
		bad = c.lend(key, v)
		return nil
	})
	if ran && err != nil && bad == "" {
		bad = "View called fn, which returned nil, and returned an error"
	}
	return bad, err
}

// lend checks a value that View or ViewMeta lends, valid until the callback
// returns: Close must wait for the callback (that is what keeps it from
// freeing the memory under it), so no Close may return meanwhile, and the
// bytes stay intact while the callback yields to the goroutine that closes.
func (c *caller) lend(key string, v []byte) string {
	closedBefore := c.released.Load()
	if bad := checkSample(key, v); bad != "" {
		return bad
	}
	runtime.Gosched()
	switch {
	case !closedBefore && c.released.Load():
		return "Close returned while a callback was reading the value it lent: Close does not wait for readers"
	case checkSample(key, v) != "":
		return "the lent value changed while the callback ran: " + checkSample(key, v)
	}
	return ""
}

func (c *caller) viewMeta(key string) (string, error) {
	var bad string
	ran := false
	err := c.s.ViewMeta(key, func(v, meta []byte) error {
		ran = true
		bad = c.lend(key, v)
		if bad == "" && len(meta) > 0 && string(meta) != string(v[:sampleHeader]) {
			k, version := seedOf(meta)
			bad = fmt.Sprintf("the meta of %q version %d with a value of version %d", sampleKey(k), version, versionOf(v))
		}
		return nil
	})
	if ran && err != nil && bad == "" {
		bad = "ViewMeta called fn, which returned nil, and returned an error"
	}
	return bad, err
}

func (c *caller) scan() (string, error) {
	var bad string
	err := c.s.Scan(func(key string, meta []byte, size int64) error {
		switch {
		case !isSampleKey(key):
			bad = fmt.Sprintf("Scan returned key %q, which was never stored", key)
		case size <= 0:
			bad = fmt.Sprintf("Scan: %q occupies %d bytes", key, size)
		default:
			if m := checkSampleMeta(key, meta); m != "" {
				bad = "Scan: " + m
			}
		}
		return nil
	})
	return bad, err
}

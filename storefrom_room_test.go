package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// heldReader gives the first bytes of its value at once, then waits for
// release before it gives the rest: a slow upload.
type heldReader struct {
	r       io.Reader
	first   int
	release chan struct{}
	read    int
}

func newHeldReader(value []byte, first int) *heldReader {
	return &heldReader{r: bytes.NewReader(value), first: first, release: make(chan struct{})}
}

func (h *heldReader) Read(p []byte) (int, error) {
	if h.read >= h.first {
		<-h.release
	} else {
		p = p[:min(len(p), h.first-h.read)]
	}
	n, err := h.r.Read(p)
	h.read += n
	return n, err
}

// waitStreaming waits until the tier's budget holds at least n bytes for
// streams in flight.
func waitStreaming(t *testing.T, m *tiermem.Manager, tr tiermem.Tier, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); m.Usage()[tr].Streaming < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the %v tier holds %d bytes for streams, want at least %d", tr, m.Usage()[tr].Streaming, n)
		}
	}
}

// TestStoreFromHoldsItsRoom: two slow streams into a 1 MiB hot tier take
// their room from its first bytes, demoting what was there, however long
// they last; a Store that then needs more than is left in hot goes to
// warm when it names no tier, and waits for the streams when it names
// hot; once the streams end, every value is whole.
func TestStoreFromHoldsItsRoom(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 1 << 20, Policy: tiermem.PolicyLRU},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 6 {
		must(t, m.Store(fmt.Sprint("e", i), bytes.Repeat([]byte{byte(i)}, 100<<10)))
	}
	const size = 400 << 10
	values := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	readers := []*heldReader{newHeldReader(values[0], 1024), newHeldReader(values[1], 1024)}
	errs := make(chan error, 2)
	for i, r := range readers {
		go func() { errs <- m.StoreFrom(fmt.Sprint("s", i), r, size) }()
	}
	waitStreaming(t, m, tiermem.Hot, 2*size)
	u := m.Usage()[tiermem.Hot]
	if u.Used+u.Streaming > u.Capacity {
		t.Errorf("hot uses %d bytes and holds %d for streams: more than its budget of %d", u.Used, u.Streaming, u.Capacity)
	}
	inHot := 0
	for i := range 6 {
		if tierOf(t, m, fmt.Sprint("e", i)) == tiermem.Hot {
			inHot++
		}
	}
	if inHot > 2 {
		t.Errorf("%d of the six 100 KiB entries stayed in hot beside 800 KiB of streams", inHot)
	}

	must(t, m.Store("placed", make([]byte, 300<<10)))
	if got := tierOf(t, m, "placed"); got != tiermem.Warm {
		t.Errorf("a Store that hot's room beside the streams cannot hold went to %v, want warm", got)
	}
	var released atomic.Bool
	named := make(chan error, 1)
	go func() {
		err := m.Store("named", make([]byte, 300<<10), tiermem.InTier(tiermem.Hot))
		if !released.Load() {
			err = fmt.Errorf("returned %v before the streams ended", err)
		}
		named <- err
	}()
	time.Sleep(50 * time.Millisecond)
	released.Store(true)
	for _, r := range readers {
		close(r.release)
	}
	for range readers {
		must(t, <-errs)
	}
	if err := <-named; err != nil {
		t.Errorf("a Store into hot that waited for the streams' room: %v", err)
	}
	for i, want := range values {
		key := fmt.Sprint("s", i)
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", key, len(got), err)
		}
	}
	if u := m.Usage()[tiermem.Hot]; u.Streaming != 0 || u.Used > u.Capacity {
		t.Errorf("after the streams: hot uses %d of %d bytes and holds %d for streams", u.Used, u.Capacity, u.Streaming)
	}
}

// TestStoreFromColdHoldsItsRoom: a slow stream into the last tier, cold,
// holds its room while it is staged: a Store that needs that room waits
// for it, then fails with ErrNoSpace naming the stream instead of
// overfilling the disk's budget, and the streamed value is stored whole
// once it ends.
func TestStoreFromColdHoldsItsRoom(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Size: 4 << 20}})
	value := bytes.Repeat([]byte{'c'}, 3<<20)
	r := newHeldReader(value, 64<<10)
	errs := make(chan error, 1)
	go func() { errs <- m.StoreFrom("big", r, int64(len(value)), tiermem.InTier(tiermem.Cold)) }()
	waitStreaming(t, m, tiermem.Cold, int64(len(value)))
	err := m.Store("other", make([]byte, 2<<20), tiermem.InTier(tiermem.Cold))
	if !errors.Is(err, tiermem.ErrNoSpace) || !strings.Contains(err.Error(), "streamed") {
		t.Errorf("Store into cold while a stream holds its room = %v, want ErrNoSpace naming the stream", err)
	}
	close(r.release)
	must(t, <-errs)
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("big: %d bytes, %v", len(got), err)
	}
	if u := m.Usage()[tiermem.Cold]; u.Streaming != 0 {
		t.Errorf("cold holds %d bytes for streams after the stream ended", u.Streaming)
	}
}

// streamWatch knows which of a test's streams are being read: each has
// had its first Read and has not yet given its last byte, so its value is
// in memory the tier prepared and not yet in what the tier uses.
type streamWatch struct {
	mu      sync.Mutex
	reading map[int]int64 // stream → its size
}

func (w *streamWatch) set(id int, size int64, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.reading[id] = size
	} else {
		delete(w.reading, id)
	}
}

func (w *streamWatch) snapshot() map[int]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := make(map[int]int64, len(w.reading))
	for id, n := range w.reading {
		s[id] = n
	}
	return s
}

// watchedReader is a slow reader whose stream is marked as being read
// from its first Read until it gives its last byte.
type watchedReader struct {
	r      io.Reader
	w      *streamWatch
	id     int
	size   int64
	left   int64
	pause  time.Duration
	marked bool
}

func (r *watchedReader) Read(p []byte) (int, error) {
	if !r.marked {
		r.w.set(r.id, r.size, true)
		r.marked = true
	}
	time.Sleep(r.pause)
	p = p[:min(int64(len(p)), r.left, 16<<10)]
	if int64(len(p)) == r.left {
		r.w.set(r.id, r.size, false) // the last bytes: the value is about to be stored
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

// TestStreamsNeverPassTheHotBudget: eight goroutines stream values of
// 20–120 KiB into a 384 KiB hot tier, slowly, beside Stores (which go
// wherever there is room), while a
// sampler checks that what hot uses plus the values being read into it
// never passes its budget. Every write succeeds and every key reads back
// its last value, whole; no room stays held. Then the same load runs into
// a Close: every write succeeds or fails with ErrClosed.
func TestStreamsNeverPassTheHotBudget(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 384 << 10},
		Warm: tiermem.TierOptions{Size: 32 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	watch := &streamWatch{reading: map[int]int64{}}
	var stored sync.Map // key → the value its last successful write stored
	var refused atomic.Int64
	stop := load(t, m, watch, &stored, &refused, false)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		before := watch.snapshot()
		u := m.Usage()[tiermem.Hot]
		after := watch.snapshot()
		var reading int64
		for id, n := range before {
			if _, ok := after[id]; ok {
				reading += n // being read all the while Usage looked
			}
		}
		if u.Used+reading > u.Capacity {
			t.Errorf("hot uses %d bytes and %d more are being streamed into it: more than its budget of %d", u.Used, reading, u.Capacity)
			break
		}
	}
	stop()
	n := 0
	stored.Range(func(k, v any) bool {
		n++
		if got, err := m.Retrieve(k.(string)); err != nil || !bytes.Equal(got, v.([]byte)) {
			t.Errorf("%s: %d bytes, %v; want its last value, %d bytes", k, len(got), err, len(v.([]byte)))
		}
		return true
	})
	if n == 0 {
		t.Fatal("no write succeeded")
	}
	for tr, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("the %v tier holds %d bytes for streams once none is left", tiermem.Tier(tr), u.Streaming)
		}
	}

	t.Logf("%d streams refused for the room others held", refused.Load())
	stop = load(t, m, watch, &stored, &refused, true)
	time.Sleep(50 * time.Millisecond)
	must(t, m.Close())
	stop()
}

// load writes from eight goroutines until the returned stop is called:
// two of three writes are slow streams into hot, the third a Store. A
// stream refused because the others hold hot's room is counted in
// refused; with closing set, ErrClosed is an expected outcome too.
func load(t *testing.T, m *tiermem.Manager, watch *streamWatch, stored *sync.Map, refused *atomic.Int64, closing bool) (stop func()) {
	var halt atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; !halt.Load(); i++ {
				key := fmt.Sprintf("g%d-%d", g, i%6)
				value := bytes.Repeat([]byte{byte(rng.IntN(256))}, 20<<10+rng.IntN(100<<10))
				var err error
				if i%3 == 2 {
					err = m.Store(key, value)
				} else {
					r := &watchedReader{r: bytes.NewReader(value), w: watch, id: g<<32 | i,
						size: int64(len(value)), left: int64(len(value)), pause: time.Duration(rng.IntN(300)) * time.Microsecond}
					err = m.StoreFrom(key, r, int64(len(value)), tiermem.InTier(tiermem.Hot))
					watch.set(r.id, 0, false)
				}
				switch {
				case err == nil:
					stored.Store(key, value)
				case errors.Is(err, tiermem.ErrNoSpace) && strings.Contains(err.Error(), "streamed into it"):
					refused.Add(1) // the other streams hold hot's room: refused at once, and the key keeps its value
				case closing && errors.Is(err, tiermem.ErrClosed):
					return
				default:
					t.Errorf("writing %s: %v", key, err)
					return
				}
			}
		}()
	}
	return func() {
		halt.Store(true)
		wg.Wait()
	}
}

// TestStreamReplacingAnEntryHoldsItsWholeRoom: a stream that replaces a
// key's entry in hot holds the whole value's room, not the difference: the
// old entry stays an ordinary victim, and when later Stores demote it and
// fill hot, what hot uses plus the value being read still fits its budget.
func TestStreamReplacingAnEntryHoldsItsWholeRoom(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 1 << 20, Policy: tiermem.PolicyLRU},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	const size = 400 << 10
	must(t, m.Store("k", bytes.Repeat([]byte{'o'}, size), tiermem.InTier(tiermem.Hot)))
	for i := range 5 { // k and five take 951 KB of hot's 1 MiB (entries are charged whole 8 KiB pages): no room for a sixth
		must(t, m.Store(fmt.Sprint("f", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
	}
	if tierOf(t, m, "k") != tiermem.Hot {
		t.Fatal("k left hot before the test began")
	}
	value := bytes.Repeat([]byte{'n'}, size)
	r, errs := streamBegun(t, m, "k", value, tiermem.InTier(tiermem.Hot))
	t.Logf("while streaming k: hot %+v", m.Usage()[tiermem.Hot])
	// Stores that need hot's room: the old k is the oldest victim.
	for i := range 8 {
		must(t, m.Store(fmt.Sprint("g", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
	}
	u := m.Usage()[tiermem.Hot]
	oldInHot := tierOf(t, m, "k") == tiermem.Hot
	t.Logf("after the Stores: hot %+v, old k in hot: %v", u, oldInHot)
	if !oldInHot && u.Used+size > u.Capacity {
		t.Errorf("hot uses %d bytes while %d more are being read into it (its old entry for the key demoted, Streaming %d): %d over its budget of %d",
			u.Used, size, u.Streaming, u.Used+size-u.Capacity, u.Capacity)
	}
	close(r.release)
	must(t, <-errs)
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("k: %d bytes, %v", len(got), err)
	}
	if u := m.Usage()[tiermem.Hot]; u.Streaming != 0 || u.Used > u.Capacity {
		t.Errorf("after the stream: hot %+v", u)
	}
}

// TestStreamDoesNotCountOnTheEntryItReplaces: replacing k (400 KiB, hot's
// oldest entry) with a 600 KiB stream demotes hot's victims, k first, until
// the whole 600 KiB fits: the stream never reads more into hot than hot's
// budget holds for it.
func TestStreamDoesNotCountOnTheEntryItReplaces(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 1 << 20, Policy: tiermem.PolicyLRU},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, m.Store("k", make([]byte, 400<<10), tiermem.InTier(tiermem.Hot)))
	for i := range 6 {
		must(t, m.Store(fmt.Sprint("f", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
	}
	const size = 600 << 10
	value := bytes.Repeat([]byte{'n'}, size)
	r, errs := streamBegun(t, m, "k", value, tiermem.InTier(tiermem.Hot))
	u := m.Usage()[tiermem.Hot]
	t.Logf("while streaming: hot %+v, k in %v", u, tierOf(t, m, "k"))
	if tierOf(t, m, "k") != tiermem.Hot && u.Used+size > u.Capacity {
		t.Errorf("hot uses %d bytes while a %d-byte value is read into it (Streaming %d), its old entry demoted: %d over its budget of %d",
			u.Used, size, u.Streaming, u.Used+size-u.Capacity, u.Capacity)
	}
	close(r.release)
	must(t, <-errs)
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("k: %d bytes, %v", len(got), err)
	}
}

// TestDemotionPassesATierStreamsHold: warm's room is held by a slow
// stream. A Store into hot that must demote one hot entry to make room
// finds warm with no victim and only the stream in flight: the demotion
// goes on to cold at once, rather than wait for a stream that may last
// minutes.
func TestDemotionPassesATierStreamsHold(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot:  tiermem.TierOptions{Size: 1 << 20, Policy: tiermem.PolicyLRU},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 9 {
		must(t, m.Store(fmt.Sprint("h", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
	}
	const size = 1<<20 - 16<<10
	r := newHeldReader(make([]byte, size), 1024)
	errs := make(chan error, 1)
	go func() { errs <- m.StoreFrom("s", r, size, tiermem.InTier(tiermem.Warm)) }()
	defer func() {
		close(r.release)
		must(t, <-errs)
	}()
	waitStreaming(t, m, tiermem.Warm, size)
	start := time.Now()
	must(t, m.Store("x", make([]byte, 150<<10), tiermem.InTier(tiermem.Hot)))
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a Store into hot that demotes one entry took %v: the demotion waited for the stream holding warm's room", d)
	}
}

// TestDurableStoreWaitsForTheColdLogsRoom: with Durability Always, a
// Store into an empty hot tier also needs room in the cold log, which a
// slow stream holds: the Store waits for it (the log copy has nowhere else
// to go) and, when the stream fails and gives its room back, lands in hot,
// where it was placed; the streams' hold on the log is not taken for hot's.
func TestDurableStoreWaitsForTheColdLogsRoom(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Glacier: tiermem.GlacierOptions{Disabled: true},
		Hot:     tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 4 << 20}})
	const size = 4<<20 - 4<<10
	r := newHeldReader(make([]byte, size), 64<<10)
	errs := make(chan error, 1)
	go func() { errs <- m.StoreFrom("big", &failAfterRelease{r}, size, tiermem.InTier(tiermem.Cold)) }()
	waitStreaming(t, m, tiermem.Cold, size)
	time.AfterFunc(100*time.Millisecond, func() { close(r.release) }) // the upload's client goes away
	must(t, m.Store("x", make([]byte, 16<<10)))
	if e := <-errs; !errors.Is(e, errGone) {
		t.Errorf("the failed upload: %v", e)
	}
	if got := tierOf(t, m, "x"); got != tiermem.Hot {
		t.Errorf("an unnamed 16 KiB Store into an empty 1 MiB hot tier went to %v", got)
	}
}

// streamBegun starts a StoreFrom of value under key that reads its first
// KiB, then waits for the returned reader's release, and returns once the
// stream has its room and began reading; its error comes on the channel.
func streamBegun(t *testing.T, m *tiermem.Manager, key string, value []byte, opts ...tiermem.StoreOption) (*heldReader, <-chan error) {
	t.Helper()
	r := newHeldReader(value, 1024)
	began := make(chan struct{})
	errs := make(chan error, 1)
	go func() { errs <- m.StoreFrom(key, &signalReader{r: r, began: began}, int64(len(value)), opts...) }()
	select {
	case <-began:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream never began")
	}
	return r, errs
}

// signalReader closes began at its first Read.
type signalReader struct {
	r     io.Reader
	began chan struct{}
	once  sync.Once
}

func (s *signalReader) Read(p []byte) (int, error) {
	s.once.Do(func() { close(s.began) })
	return s.r.Read(p)
}

var errGone = errors.New("the client went away")

// failAfterRelease is a held reader whose rest, once released, is an error.
type failAfterRelease struct{ h *heldReader }

func (f *failAfterRelease) Read(p []byte) (int, error) {
	if f.h.read >= f.h.first {
		<-f.h.release
		return 0, errGone
	}
	return f.h.Read(p)
}

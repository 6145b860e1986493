package object_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// hooked is a Mem whose Deletes and Gets first call onDelete and onGet,
// which may block or fail them.
type hooked struct {
	*object.Mem
	mu              sync.Mutex
	onDelete, onGet func(name string) error
}

func (h *hooked) setOnGet(fn func(name string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onGet = fn
}

func (h *hooked) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	h.mu.Lock()
	fn := h.onGet
	h.mu.Unlock()
	if fn != nil {
		if err := fn(name); err != nil {
			return nil, err
		}
	}
	return h.Mem.Get(ctx, name, off, n)
}

func (h *hooked) setOnDelete(fn func(name string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onDelete = fn
}

func (h *hooked) Delete(ctx context.Context, name string) error {
	h.mu.Lock()
	fn := h.onDelete
	h.mu.Unlock()
	if fn != nil {
		if err := fn(name); err != nil {
			return err
		}
	}
	return h.Mem.Delete(ctx, name)
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestHostileConcurrentRetiredDeletesKeepDeletedKeysDeleted: a key deleted
// and synced stays deleted after a crash, whatever two Compacts do at
// once. One Compact is deleting compacted pack 1, slowly, while b is
// deleted and a second Compact rewrites pack 2, which holds the
// tombstones hiding pack 1's frames, and deletes it. A crash then finds
// pack 1 in the bucket: its keys must still read ErrNotFound. Before,
// pack 1 had left the store's packs when its delete began, so the second
// Compact dropped the tombstones and deleted pack 2 while pack 1's delete
// was in flight: a reopen read k's deleted value and a's 3000 bytes.
// Compaction now keeps a tombstone as long as a retired pack whose frame
// it hides is not yet deleted.
func TestHostileConcurrentRetiredDeletesKeepDeletedKeysDeleted(t *testing.T) {
	b := &hooked{Mem: object.NewMem()}
	st := mustOpen(t, b, quick())
	// Pack 1: k and a. Pack 2: their tombstones and b.
	for k, v := range map[string][]byte{"k": []byte("the deleted value"), "a": randomBytes(1, 3000)} {
		if _, err := st.Put(k, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, st)
	for _, k := range []string{"a", "k"} {
		if _, err := st.Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Put("b", randomBytes(2, 3000), nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, st)

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.setOnDelete(func(name string) error {
		if !strings.HasSuffix(name, "0000000000000001.idx") {
			return nil
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			return nil
		}
		close(entered)
		<-release // a slow request, failing in the end
		return errors.New("injected: 503 Slow Down")
	})
	compacted := make(chan error, 1)
	go func() { compacted <- st.Compact() }() // retires pack 1 only: pack 2's tombstones still hide it
	<-entered

	// Meanwhile b is deleted too and the Manager's loop compacts again:
	// pack 2 is all dead now, its tombstones hide nothing in s.packs.
	if _, err := st.Delete("b"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, st)
	if err := st.Compact(); err != nil {
		t.Fatalf("second Compact: %v", err)
	}
	// The process dies here: what the bucket holds is what a reopen finds.
	reopened, err := object.Open(b.Mem, quick())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	for _, k := range []string{"k", "a", "b"} {
		if v, err := get(reopened, k); !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("%s, deleted and synced before the crash, reads %d bytes %q, err %v; want ErrNotFound", k, len(v), truncated(v), err)
		}
	}
	close(release)
	if cerr := <-compacted; cerr != nil {
		t.Logf("first Compact: %v", cerr)
	}
	mustClose(t, st)
	_ = reopened.Close() // its catalog names pack 1, which st deleted meanwhile
}

func truncated(v []byte) []byte {
	if len(v) > 20 {
		return v[:20]
	}
	return v
}

// TestHostileOpenStopsAtTheFirstUnavailablePack: Open of a store that
// stops answering after its listing fails with ErrUnavailable after the
// reads in flight, one error, not one per pack. Before, it read every
// pack, each with all its retries and backoff, and joined 200 errors (31
// KB) from 600 GETs: with the default options a bucket of 2,000 packs
// took minutes to fail (hours, against a server that stalls), and the
// Manager's Open with it.
func TestHostileOpenStopsAtTheFirstUnavailablePack(t *testing.T) {
	mem := object.NewMem()
	opts := quick()
	opts.PackSize = 4 << 10
	st := mustOpen(t, mem, opts)
	const packs = 200
	for i := range packs {
		if _, err := st.Put(key(i), randomBytes(uint64(i), 4<<10), nil); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, st)
	f := newFaulty(mem)
	f.inject(rule{op: "get", match: "pack/", fault: fail, times: -1})
	_, err := object.Open(f, opts)
	if !errors.Is(err, object.ErrUnavailable) {
		t.Fatalf("Open of a store that stopped answering: %v; want ErrUnavailable", err)
	}
	attempts := int64(opts.Retries + 1)
	if gets := f.gets.Load(); gets > 4*8*attempts {
		t.Errorf("Open made %d GETs of a store that failed them all, %d per pack for %d packs: it does not stop at the first pack the store is unavailable for", gets, gets/packs, packs)
	}
	if n := strings.Count(err.Error(), "unavailable"); n > 8 {
		t.Errorf("Open's error joins %d failures (%d bytes); one says it all", n, len(err.Error()))
	}
}

// TestHostileDeletesOnAFailingBucketHoldBoundedMemory: while the bucket
// refuses uploads, Deletes (the Manager deletes from glacier every key it
// stores elsewhere) hold no more than Options.Uploads promises, (Uploads+2)
// × PackSize of packs not yet durable: like Puts, they retry the failed
// upload first and fail while it fails. Before, every Delete succeeded
// and appended its tombstone: 300 of them held 613,900 bytes against a
// bound of 12,288.
func TestHostileDeletesOnAFailingBucketHoldBoundedMemory(t *testing.T) {
	mem := object.NewMem()
	f := newFaulty(mem)
	opts := quick()
	opts.PackSize, opts.Uploads = 4<<10, 1
	st := mustOpen(t, f, opts)
	defer func() {
		f.heal()
		mustClose(t, st)
	}()
	const keys = 300
	long := func(i int) string { return fmt.Sprintf("%04d-%s", i, strings.Repeat("k", 2000)) }
	for i := range keys {
		if _, err := st.Put(long(i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, st)
	f.inject(rule{op: "put", match: "pack/", fault: fail, times: -1})
	deleted := 0
	for i := range keys {
		if _, err := st.Delete(long(i)); err == nil {
			deleted++
		}
	}
	packs, err := st.Packs()
	if err != nil {
		t.Fatal(err)
	}
	var held int64
	for _, p := range packs {
		if !p.Durable {
			held += p.Bytes
		}
	}
	if bound := int64(opts.Uploads+2) * opts.PackSize; held > bound {
		t.Errorf("%d Deletes succeeded on a bucket refusing every upload; %d bytes of packs are held in memory, over the (Uploads+2) x PackSize = %d bytes Options promises", deleted, held, bound)
	}
}

// flaky is a Mem whose writes fail at random while failing is set.
type flaky struct {
	*object.Mem
	mu      sync.Mutex
	rng     *rand.Rand
	failing bool
}

func (f *flaky) fails() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failing && f.rng.IntN(4) == 0
}

func (f *flaky) heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = false
}

func (f *flaky) Put(ctx context.Context, name string, data []byte) error {
	if f.fails() {
		return errors.New("injected: 503 Slow Down")
	}
	return f.Mem.Put(ctx, name, data)
}

func (f *flaky) CreateObject(ctx context.Context, name string, data []byte) error {
	if f.fails() {
		return errors.New("injected: 503 Slow Down")
	}
	return f.Mem.CreateObject(ctx, name, data)
}

func (f *flaky) Delete(ctx context.Context, name string) error {
	if f.fails() {
		return errors.New("injected: 503 Slow Down")
	}
	return f.Mem.Delete(ctx, name)
}

// TestHostileRevertCompactSyncAtOnce: Revert, Compact and Sync may run at
// once on a bucket that fails a quarter of its writes and deletes. Writers
// Put, Sync and, when the Sync fails, Revert their key to what it held (as
// the Manager's undo does), while Compact and Sync run in a loop beside
// them: every read sees the writer's model, and once the bucket heals,
// Close and a reopen hold exactly the model, and Verify is clean.
func TestHostileRevertCompactSyncAtOnce(t *testing.T) {
	b := &flaky{Mem: object.NewMem(), rng: rand.New(rand.NewPCG(3, 4)), failing: true}
	opts := quick()
	opts.PackSize, opts.Retries, opts.MinLiveShare = 4<<10, -1, 0.9
	st := mustOpen(t, b, opts)
	const workers, keysEach, ops = 4, 8, 150
	models := make([]map[string][]byte, workers)
	done := make(chan struct{})
	var bg sync.WaitGroup
	for range 2 {
		bg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				_ = st.Compact()
				_ = st.Sync()
			}
		})
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		model := map[string][]byte{}
		models[w] = model
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range ops {
				k := fmt.Sprintf("w%d-k%d", w, rng.IntN(keysEach))
				v := fmt.Appendf(nil, "%s v%d %s", k, i, bytes.Repeat([]byte{'x'}, rng.IntN(1500)))
				old, had := model[k]
				if _, err := st.Put(k, v, nil); err != nil {
					continue // refused while an upload fails: the key keeps old
				}
				if err := st.Sync(); err != nil {
					if _, err := st.Revert(k, old, nil, had); err != nil {
						errs <- fmt.Errorf("Revert(%s): %w", k, err)
						return
					}
				} else {
					model[k] = v
				}
				got, err := get(st, k)
				want, ok := model[k]
				switch {
				case !ok && errors.Is(err, tier.ErrNotFound):
				case err != nil || !bytes.Equal(got, want):
					errs <- fmt.Errorf("op %d: %s reads %.30q, %v; want %.30q (held %v)", i, k, got, err, want, ok)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b.heal()
	mustClose(t, st)
	re := mustOpen(t, b.Mem, opts)
	defer re.Close()
	n := 0
	for _, model := range models {
		for k, v := range model {
			n++
			if got, err := get(re, k); err != nil || !bytes.Equal(got, v) {
				t.Errorf("after the reopen %s reads %.30q, %v; want %.30q", k, got, err, v)
			}
		}
	}
	if re.Len() != int64(n) {
		t.Errorf("after the reopen Len = %d, want %d", re.Len(), n)
	}
	if err := re.Verify(); err != nil {
		t.Errorf("Verify after the reopen: %v", err)
	}
}

// lateIndex is a Mem whose first CreateObject of a name ending in suffix
// times out for the client but lands later: when land is called, or just
// before the first later CreateObject of a name ending in landBefore: a
// PUT still in flight at the server when its deadline fired.
type lateIndex struct {
	*object.Mem
	suffix     string
	mu         sync.Mutex // protects landBefore and held
	landBefore string
	held       map[string][]byte
}

func (l *lateIndex) CreateObject(ctx context.Context, name string, data []byte) error {
	l.mu.Lock()
	landNow := l.landBefore != "" && strings.HasSuffix(name, l.landBefore)
	l.mu.Unlock()
	if landNow {
		if err := l.landHeld(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	if strings.HasSuffix(name, l.suffix) && l.held == nil {
		l.held = map[string][]byte{name: bytes.Clone(data)}
		l.mu.Unlock()
		return fmt.Errorf("injected: create %s: %w", name, context.DeadlineExceeded)
	}
	l.mu.Unlock()
	return l.Mem.CreateObject(ctx, name, data)
}

func (l *lateIndex) land(t *testing.T) {
	t.Helper()
	if err := l.landHeld(); err != nil {
		t.Fatal(err)
	}
}

// landHeld stores the objects held back, once.
func (l *lateIndex) landHeld() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, data := range l.held {
		if err := l.Mem.CreateObject(context.Background(), name, data); err != nil {
			return err
		}
		delete(l.held, name)
	}
	return nil
}

// TestHostileLateIndexAfterACrashFailsClosedAndSaysWhy: a crash that left
// the index of a pack no Sync acknowledged, newer than every pack (its
// index upload timed out, the upload deleted the pack again, and the
// timed-out PUT, still in flight at the server, landed after those
// deletes) makes Open fail with ErrCorrupt, as a pack deleted outside the
// store does: the store cannot tell the two apart, and opening without
// the pack would lose acknowledged values silently in the second case.
// The error names the index and says when deleting it is safe; once the
// operator deletes it, the store opens with every acknowledged value and
// goes on writing.
func TestHostileLateIndexAfterACrashFailsClosedAndSaysWhy(t *testing.T) {
	b, opts, _ := failedIndexUpload(t)
	b.land(t) // the PUT the client gave up on reaches the bucket
	// The process dies here.
	_, err := object.Open(b.Mem, opts)
	if !errors.Is(err, tier.ErrCorrupt) || !strings.Contains(err.Error(), "0000000000000002.idx") ||
		!strings.Contains(err.Error(), "deleting this index lets the store open") {
		t.Fatalf("reopen with a newest index whose pack is gone = %v; want ErrCorrupt naming the index and what to do", err)
	}
	var late string
	err = b.Mem.List(context.Background(), "", func(name string, _ int64) error {
		if strings.HasSuffix(name, "0000000000000002.idx") {
			late = name
		}
		return nil
	})
	if err != nil || late == "" {
		t.Fatalf("listing the bucket for the late index: %q, %v", late, err)
	}
	if err := b.Mem.Delete(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	re, err := object.Open(b.Mem, opts)
	if err != nil {
		t.Fatalf("reopen once the late index is deleted: %v", err)
	}
	if v, err := get(re, "acked"); err != nil || string(v) != "durable" {
		t.Errorf("acked after the reopen: %q, %v", v, err)
	}
	if v, err := get(re, "failed"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("failed, never acknowledged, after the reopen: %q, %v; want ErrNotFound", v, err)
	}
	if _, err := re.Put("later", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	mustClose(t, re)
	again := mustOpen(t, b.Mem, opts)
	defer again.Close()
	if v, err := get(again, "later"); err != nil || string(v) != "v" {
		t.Errorf("later after a second reopen: %q, %v", v, err)
	}
	if err := again.Verify(); err != nil {
		t.Errorf("Verify after a second reopen: %v", err)
	}
}

// TestHostileLateIndexWriteAfterRevertDoesNotWedgeTheStore: a store whose
// own index PUT, given up on, landed late still uploads, Syncs and takes
// Puts, and the bucket ends with the pack's current index. The process
// lives on after the failed Sync and takes the Put back with Revert (the
// Manager's undo of a failed Store into glacier), which rewrites the pack
// and its index in memory; then the old index lands. Before, the next
// upload found "other bytes" under the index's name and blamed another
// Store sharing the prefix: every later Sync failed and every Put was
// refused, and the bucket kept a pack beside the index of its older
// version. The next upload of the pack now deletes what may have landed
// first.
func TestHostileLateIndexWriteAfterRevertDoesNotWedgeTheStore(t *testing.T) {
	b, opts, st := failedIndexUpload(t)
	defer st.Close()
	if _, err := st.Revert("failed", nil, nil, false); err != nil {
		t.Fatal(err)
	}
	b.land(t)
	if err := st.Sync(); err != nil {
		t.Errorf("Sync once the bucket answers again: %v", err)
	}
	if _, err := st.Put("later", []byte("v"), nil); err != nil {
		t.Errorf("Put once the bucket answers again: %v", err)
	}
	wantLateIndexGone(t, b.Mem, opts)
}

// failedIndexUpload opens a store over a bucket whose index request for
// pack 2 times out (held, to land later: lateIndex), with "acked" durable
// in pack 1 and "failed" in pack 2, whose Sync failed.
func failedIndexUpload(t *testing.T) (*lateIndex, *object.Options, *object.Store) {
	t.Helper()
	b := &lateIndex{Mem: object.NewMem(), suffix: "0000000000000002.idx"}
	opts := quick()
	opts.Retries = -1
	st := mustOpen(t, b, opts)
	if _, err := st.Put("acked", []byte("durable"), nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, st)
	if _, err := st.Put("failed", []byte("never acknowledged"), nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Sync(); err == nil {
		t.Fatal("Sync with its index upload timing out succeeded")
	}
	return b, opts, st
}

// wantLateIndexGone checks the store in b after a late index landed and
// the pack was uploaded again: it opens, acked reads back, failed (taken
// back) is absent, and every pack verifies against its index.
func wantLateIndexGone(t *testing.T, b object.Bucket, opts *object.Options) {
	t.Helper()
	re := mustOpen(t, b, opts)
	defer re.Close()
	if v, err := get(re, "acked"); err != nil || string(v) != "durable" {
		t.Errorf("acked after a reopen: %q, %v", v, err)
	}
	if v, err := get(re, "failed"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("failed, taken back, after a reopen: %q, %v; want ErrNotFound", v, err)
	}
	if err := re.Verify(); err != nil {
		t.Errorf("Verify after a reopen: %v", err)
	}
}

// TestHostileLateIndexLandingDuringTheRetryIsReplaced: an index PUT given
// up on that lands while the pack's next upload runs, after that upload
// deleted what the bucket held of the pack, is replaced by the pack's
// current index: the store's own earlier write, not another writer's. The
// pack object in place is the store's own, of which the index is built,
// so an index of other bytes can only be of an older version of it.
// Before, the upload declared another Store on the prefix, and the store
// refused every later Sync and Put.
func TestHostileLateIndexLandingDuringTheRetryIsReplaced(t *testing.T) {
	b, opts, st := failedIndexUpload(t)
	defer st.Close()
	if _, err := st.Revert("failed", nil, nil, false); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.landBefore = "0000000000000002.pack" // as the retry creates the pack
	b.mu.Unlock()
	if err := st.Sync(); err != nil {
		t.Errorf("Sync with the old index landing during it: %v", err)
	}
	if _, err := st.Put("later", []byte("v"), nil); err != nil {
		t.Errorf("Put after it: %v", err)
	}
	mustSync(t, st)
	wantLateIndexGone(t, b.Mem, opts)
}

// TestHostileSyncDeletingARetiredPackWhileCompactRetiresTheNext: keys
// deleted and synced stay deleted after a crash in the Manager's usual
// pattern: a Compact retires pack 1, and while it reads pack 2 a Sync (a
// Store into glacier, with a durable log) takes pack 1 to delete it,
// slowly; the Compact then rewrites pack 2, which holds the tombstones
// hiding pack 1's frames, and deletes it. Before, the Compact dropped
// those tombstones (pack 1 had left the store's packs) and deleted pack 2
// while pack 1's delete was in flight: a crash then brought k and a back.
func TestHostileSyncDeletingARetiredPackWhileCompactRetiresTheNext(t *testing.T) {
	b := &hooked{Mem: object.NewMem()}
	st := mustOpen(t, b, quick())
	put := func(k string, v []byte) {
		t.Helper()
		if _, err := st.Put(k, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	del := func(k string) {
		t.Helper()
		if _, err := st.Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	put("k", []byte("the deleted value"))
	put("a", randomBytes(1, 3000))
	mustSync(t, st) // pack 1: k, a
	del("a")
	del("k")
	put("b", randomBytes(2, 6000))
	put("c", []byte("live"))
	mustSync(t, st) // pack 2: their tombstones, b, c
	del("b")
	mustSync(t, st) // pack 3: b's tombstone

	readingPack2, releaseRead := make(chan struct{}), make(chan struct{})
	var readOnce sync.Once
	b.setOnGet(func(name string) error {
		if strings.HasSuffix(name, "0000000000000002.pack") {
			readOnce.Do(func() {
				close(readingPack2)
				<-releaseRead
			})
		}
		return nil
	})
	deleting, releaseDelete := make(chan struct{}), make(chan struct{})
	var deleteOnce sync.Once
	b.setOnDelete(func(name string) error {
		if !strings.HasSuffix(name, "0000000000000001.idx") {
			return nil
		}
		first := false
		deleteOnce.Do(func() { first = true })
		if first {
			close(deleting)
			<-releaseDelete // a slow request
		}
		return nil
	})
	compacted := make(chan error, 1)
	go func() { compacted <- st.Compact() }()
	<-readingPack2 // pack 1 is retired, pack 2 is being read
	synced := make(chan error, 1)
	go func() { synced <- st.Sync() }()
	<-deleting // the Sync deletes pack 1
	close(releaseRead)
	if err := <-compacted; err != nil {
		t.Fatalf("Compact: %v", err)
	}
	// The process dies here.
	reopened, err := object.Open(b.Mem, quick())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	for _, k := range []string{"k", "a"} {
		if v, err := get(reopened, k); !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("%s, deleted and synced before the crash, reads %d bytes %q, err %v; want ErrNotFound", k, len(v), truncated(v), err)
		}
	}
	close(releaseDelete)
	if err := <-synced; err != nil {
		t.Errorf("Sync: %v", err)
	}
	mustClose(t, st)
	_ = reopened.Close()
}

// TestHostileLenHoldsWhileRevertReplacesAFrame: Len never dips below the
// keys held, also while Revert replaces a key's frame in place (the
// Manager's undo of a failed Store into glacier; Usage().Items and the
// read-frequency estimate read Len without a lock). A store holding one
// key never reports Len 0 while Puts of it are taken back. Before,
// Revert uncounted the key before it counted it again: Len read 0 about
// 200,000 times in 1.3 million polls.
func TestHostileLenHoldsWhileRevertReplacesAFrame(t *testing.T) {
	st := mustOpen(t, object.NewMem(), &object.Options{PackSize: 16 << 10})
	defer st.Close()
	old := bytes.Repeat([]byte{1}, 1000)
	if _, err := st.Put("only", old, nil); err != nil {
		t.Fatal(err)
	}
	var dips, polls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range 100 {
				if st.Len() == 0 {
					dips.Add(1)
				}
			}
			polls.Add(100)
		}
	})
	for i := range 500 {
		if _, err := st.Put("only", bytes.Repeat([]byte{2}, 1000+i%7), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Revert("only", old, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := dips.Load(); n > 0 {
		t.Errorf("Len read 0 %d times in %d polls while the store held its one key and Reverts replaced its frame", n, polls.Load())
	}
}

// TestHostileEveryFlipAndCutOfRevertedPacks: damage to a pack Revert
// rebuilt (its offsets, end record and index) is ErrCorrupt, never wrong
// data. Every single-bit flip and every truncation of every object of a
// small store, whose newest pack Revert rewrote twice (a frame replaced
// by a tombstone, one by an older value), makes each key read its value
// or ErrCorrupt (or fails Open with ErrCorrupt): never an older value,
// never ErrNotFound for a key held, never a deleted key back.
func TestHostileEveryFlipAndCutOfRevertedPacks(t *testing.T) {
	mem := object.NewMem()
	opts := quick()
	opts.Retries = -1
	st := mustOpen(t, mem, opts)
	want := map[string][]byte{}
	put := func(k, v string) {
		t.Helper()
		if _, err := st.Put(k, []byte(v), []byte("m"+k)); err != nil {
			t.Fatal(err)
		}
		want[k] = []byte(v)
	}
	put("k", "old value of k")
	put("x", "x value")
	mustSync(t, st)
	put("k", "newer k")
	put("y", "y value")
	put("z", "zzz")
	if _, err := st.Delete("x"); err != nil {
		t.Fatal(err)
	}
	delete(want, "x")
	if w, err := st.Revert("y", nil, nil, false); err != nil || !w {
		t.Fatalf("Revert(y) = %v, %v", w, err)
	}
	delete(want, "y")
	if w, err := st.Revert("z", []byte("z0"), []byte("mz"), true); err != nil || !w {
		t.Fatalf("Revert(z) = %v, %v", w, err)
	}
	want["z"] = []byte("z0")
	mustClose(t, st)

	ctx := context.Background()
	objects := map[string][]byte{}
	if err := mem.List(ctx, "", func(name string, n int64) error {
		b, err := mem.Get(ctx, name, 0, n)
		objects[name] = b
		return err
	}); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for name, orig := range objects {
		n := len(orig)
		for try := range 9 * n {
			b := bytes.Clone(orig)
			if try < 8*n {
				b[try/8] ^= 1 << (try % 8)
			} else {
				b = b[:try-8*n]
			}
			if err := mem.Put(ctx, name, b); err != nil {
				t.Fatal(err)
			}
			s2, err := object.Open(mem, opts)
			if err != nil {
				if !errors.Is(err, tier.ErrCorrupt) {
					t.Errorf("%s, damage %d: Open: %v; want ErrCorrupt", name, try, err)
				}
				continue
			}
			for _, k := range []string{"k", "x", "y", "z"} {
				v, err := get(s2, k)
				w, held := want[k]
				switch {
				case errors.Is(err, tier.ErrCorrupt):
				case !held && errors.Is(err, tier.ErrNotFound):
				case held && err == nil && bytes.Equal(v, w):
				default:
					if bad++; bad < 10 {
						t.Errorf("%s, damage %d: %s reads %q, %v; want %q (held %v) or ErrCorrupt", name, try, k, v, err, w, held)
					}
				}
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := mem.Put(ctx, name, orig); err != nil {
			t.Fatal(err)
		}
	}
}

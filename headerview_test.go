package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem"
)

// viewed is what an UpdateHeaderView's view saw.
type viewed struct {
	calls  int
	value  []byte
	shared bool
}

func (v *viewed) fn(value []byte, shared bool) error {
	v.calls++
	v.value, v.shared = bytes.Clone(value), shared
	return nil
}

func setTTL(d time.Duration) func(e *tiermem.Entry) (bool, error) {
	return func(e *tiermem.Entry) (bool, error) {
		e.Expires = time.Now().Add(d)
		return e.Found, nil
	}
}

// UpdateHeaderView (the server's GETEX) changes the TTL and hands view the
// value, in every tier: a large hot value where the tier holds it (shared,
// no copy), a warm or cold one for view to copy, a key only glacier holds
// (the general path) as the update's own copy.
func TestUpdateHeaderViewInEveryTier(t *testing.T) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		t.Run(tr.String(), func(t *testing.T) {
			m, err := tiermem.Open(t.TempDir(), glacierOptions(64<<20))
			must(t, err)
			defer m.Close()
			value := valueFor("k")
			if tr == tiermem.Hot {
				value = bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB: the hot tier lends it
				must(t, m.SetBudget(tiermem.Hot, 1<<20))
			}
			must(t, m.Store("k", value, tiermem.InTier(tr)))
			var v viewed
			must(t, m.UpdateHeaderView("k", setTTL(time.Hour), v.fn))
			if v.calls != 1 || !bytes.Equal(v.value, value) {
				t.Fatalf("view called %d times with %d bytes (equal %v)", v.calls, len(v.value), bytes.Equal(v.value, value))
			}
			at, err := m.ExpireTime("k")
			if err != nil || time.Until(at) < 59*time.Minute {
				t.Errorf("after UpdateHeaderView, the TTL ends at %v (%v)", at, err)
			}
			if tr == tiermem.Hot {
				var at, tierAt uintptr
				shared := false
				n := allocatedBy(func() {
					err = m.UpdateHeaderView("k", setTTL(2*time.Hour), func(value []byte, s bool) error {
						at, shared = uintptr(unsafe.Pointer(unsafe.SliceData(value))), s
						return nil
					})
				})
				must(t, err)
				must(t, m.ViewShared("k", func(value []byte, _ bool) error {
					tierAt = uintptr(unsafe.Pointer(unsafe.SliceData(value)))
					return nil
				}))
				if !shared || at != tierAt || n > uint64(len(value))/2 {
					t.Errorf("a 128 KiB hot value: shared %v, where the tier holds it %v, %d bytes allocated; want it lent, no copy", shared, at == tierAt, n)
				}
			}
			if tr == tiermem.Glacier && !v.shared {
				t.Error("a glacier value, copied by the update, was not handed over as view's to keep")
			}
		})
	}
}

// What view sees and when it is called: not for an absent key, not when fn
// fails; with the old value when fn's TTL deletes the key; and view's own
// error is returned with the change made.
func TestUpdateHeaderViewCalls(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("v1")))

	var v viewed
	must(t, m.UpdateHeaderView("absent", setTTL(time.Hour), v.fn))
	if v.calls != 0 {
		t.Errorf("view was called for an absent key")
	}
	if _, err := m.Retrieve("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("UpdateHeaderView of an absent key left it: %v", err)
	}

	boom := errors.New("boom")
	err := m.UpdateHeaderView("k", func(*tiermem.Entry) (bool, error) { return false, boom }, v.fn)
	if !errors.Is(err, boom) || v.calls != 0 {
		t.Errorf("fn's error: %v, view called %d times; want boom and none", err, v.calls)
	}

	viewErr := errors.New("view failed")
	err = m.UpdateHeaderView("k", setTTL(time.Hour), func([]byte, bool) error { return viewErr })
	if !errors.Is(err, viewErr) {
		t.Errorf("view's error: got %v", err)
	}
	if at, _ := m.ExpireTime("k"); at.IsZero() {
		t.Error("a view's error undid the change")
	}

	// A TTL in the past deletes the key: view still gets the value (Redis's
	// GETEX key PXAT 1).
	must(t, m.UpdateHeaderView("k", setTTL(-time.Hour), v.fn))
	if v.calls != 1 || string(v.value) != "v1" {
		t.Errorf("view of a key the change deletes: %d calls, %q", v.calls, v.value)
	}
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after a TTL in the past: %v, want ErrNotFound", err)
	}
}

// UpdateHeaderViews race Stores and Deletes of the same keys: view only
// ever sees a whole value some Store wrote, and the TTL it set is the
// key's (the change and the view are one step: a Store between them would
// leave the viewed value without the TTL).
func TestUpdateHeaderViewRacingStores(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 4 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
	values := make([][]byte, 4)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 70<<10+i*1000) // lent by hot
	}
	valid := func(b []byte) bool {
		for _, v := range values {
			if bytes.Equal(b, v) {
				return true
			}
		}
		return false
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprint("k", i%3)
				tier := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[(i+g)%3]
				if i%11 == 0 {
					m.Delete(key)
					continue
				}
				if err := m.Store(key, values[(i+g)%len(values)], tiermem.InTier(tier)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var kept [][]byte // shared values, kept past view as a reply queue keeps them
	var bad error
	for i := 0; i < 3000 && bad == nil; i++ {
		key := fmt.Sprint("k", i%3)
		bad = m.UpdateHeaderView(key, setTTL(time.Hour), func(value []byte, shared bool) error {
			if !valid(value) {
				return fmt.Errorf("view saw %d bytes that no Store wrote", len(value))
			}
			if shared {
				kept = append(kept, value)
			}
			return nil
		})
	}
	close(stop)
	wg.Wait()
	if bad != nil {
		t.Fatal(bad)
	}
	for _, v := range kept {
		if !valid(v) {
			t.Fatal("a shared value changed after view returned, under later Stores")
		}
	}
}

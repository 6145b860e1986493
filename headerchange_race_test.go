package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// An UpdateHeader whose fn keeps an absent key (a pin or a TTL set
// unconditionally) leaves it absent: it stores no empty value.
func TestUpdateHeaderOnAbsentKeyCreatesNothing(t *testing.T) {
	m := open(t, nil)
	err := m.UpdateHeader("absent", func(e *tiermem.Entry) (bool, error) {
		e.Pinned, e.Expires = true, time.Now().Add(time.Hour)
		return true, nil
	})
	must(t, err)
	if v, err := m.Retrieve("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after UpdateHeader on an absent key: Retrieve = %q, %v; want ErrNotFound", v, err)
	}
}

// Header changes racing Stores, Deletes, Copies and Moves of the
// same keys in tiny hot and warm tiers: no tier ends over its budget, no
// call fails but with ErrNotFound, and each key holds the value its
// goroutine stored last (a header change never brings back an older value).
func TestHeaderChangesRacingCopiesAndMoves(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 96 << 10}, Warm: tiermem.TierOptions{Size: 192 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
	const workers, keysEach = 4, 6
	var last [workers][keysEach]atomic.Int64
	var over atomic.Value
	var wg sync.WaitGroup
	value := func(g, k, v int) []byte {
		return bytes.Repeat([]byte{byte(g), byte(k), byte(v), byte(v >> 8)}, (3000+v%6000)/4)
	}
	for g := range workers {
		wg.Go(func() {
			for i := 1; i < 1500; i++ {
				k := (i * 7) % keysEach
				key := fmt.Sprintf("g%d-%d", g, k)
				var err error
				switch i % 9 {
				case 0, 1:
					tr := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3]
					err = m.Store(key, value(g, k, i), tiermem.InTier(tr))
					if err == nil {
						last[g][k].Store(int64(i))
					}
				case 2:
					err = m.Expire(key, time.Hour)
				case 3:
					_, err = m.Persist(key)
				case 4:
					err = m.Pin(key)
				case 5:
					err = m.Unpin(key)
				case 6:
					err = m.Copy(key, []tiermem.Tier{tiermem.Hot, tiermem.Warm}[i%2])
				case 7:
					err = m.Move(key, []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3])
				case 8:
					err = m.UpdateEntry(key, func(e *tiermem.Entry) (bool, error) {
						e.Expires = time.Now().Add(time.Duration(i) * time.Minute)
						return e.Found, nil
					})
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrNoSpace) {
					t.Errorf("%s, op %d: %v", key, i%9, err)
					return
				}
				u := m.Usage()
				for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
					if u[tr].Used > u[tr].Capacity {
						over.Store(fmt.Sprintf("%v tier: %d of %d bytes", tr, u[tr].Used, u[tr].Capacity))
					}
				}
			}
		})
	}
	wg.Wait()
	if o := over.Load(); o != nil {
		t.Errorf("a tier went over its budget: %v", o)
	}
	for g := range workers {
		for k := range keysEach {
			key := fmt.Sprintf("g%d-%d", g, k)
			v := int(last[g][k].Load())
			if v == 0 {
				continue
			}
			got, err := m.Retrieve(key)
			if err != nil || !bytes.Equal(got, value(g, k, v)) {
				t.Errorf("%s: %d bytes, %v; want version %d", key, len(got), err, v)
			}
		}
	}
}

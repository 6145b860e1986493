package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

var hostileTiers = []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}

// readOpenValue reads a ValueReader whole.
func readOpenValue(t *testing.T, r *tiermem.ValueReader) []byte {
	t.Helper()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatalf("reading the open value: %v", err)
	}
	return got
}

// TestHostileOpenValueOutlivesExpiry: a ValueReader's bytes are "those of the
// value when it was opened, whatever Stores, Deletes, moves or a Close happen
// meanwhile". The key expires while the reader is open, a pass deletes it,
// and other values are stored over the room it left.
func TestHostileOpenValueOutlivesExpiry(t *testing.T) {
	for _, tr := range hostileTiers {
		for _, size := range []int{1000, 200 << 10} {
			t.Run(fmt.Sprint(tr, "/", size), func(t *testing.T) {
				m, clock := openClocked(t, tiermem.Options{DemoteAfter: -1})
				want := hostileValue(1, 0, size)
				must(t, m.Store("k", want, tiermem.InTier(tr), tiermem.WithTTL(time.Second)))
				r, err := m.OpenValue("k")
				must(t, err)
				defer r.Close()
				clock.Advance(2 * time.Second)
				must(t, m.Migrate())
				if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
					t.Fatalf("expired key: Retrieve = %v", err)
				}
				for i := range 20 {
					must(t, m.Store(fmt.Sprint("o", i), hostileValue(2, i, size), tiermem.InTier(tr)))
				}
				must(t, m.Migrate())
				if got := readOpenValue(t, r); !bytes.Equal(got, want) {
					t.Fatalf("the reader opened before the key expired reads other bytes (%d of %d, equal prefix %v)",
						len(got), len(want), bytes.HasPrefix(want, got[:min(len(got), 16)]))
				}
			})
		}
	}
}

// TestHostileTTLKeptExactlyAcrossMoves: a value keeps its expiry to the
// nanosecond through Move to every tier and back, Copy, Rename and CopyKey,
// with and without a durable log, and a pass at a time before it never
// removes it.
func TestHostileTTLKeptExactlyAcrossMoves(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m, clock := openClocked(t, tiermem.Options{DemoteAfter: -1, Durability: d})
			must(t, m.Store("k", hostileValue(3, 0, 5000), tiermem.InTier(tiermem.Hot), tiermem.WithTTL(time.Hour+123*time.Nanosecond)))
			at, err := m.ExpireTime("k")
			must(t, err)
			key := "k"
			check := func(step string) {
				t.Helper()
				got, err := m.ExpireTime(key)
				if err != nil {
					t.Fatalf("after %s: %v", step, err)
				}
				if !got.Equal(at) {
					t.Fatalf("after %s: expires at %v, want %v", step, got, at)
				}
			}
			for i, to := range []tiermem.Tier{tiermem.Glacier, tiermem.Hot, tiermem.Cold, tiermem.Warm, tiermem.Glacier, tiermem.Cold, tiermem.Hot} {
				must(t, m.Move(key, to))
				check(fmt.Sprint("Move to ", to))
				must(t, m.Copy(key, tiermem.Glacier))
				check("Copy to glacier")
				next := fmt.Sprint("k", i)
				must(t, m.Rename(key, next, false))
				key = next
				check("Rename")
				must(t, m.CopyKey(key, key+"c", false))
				c, err := m.ExpireTime(key + "c")
				must(t, err)
				if !c.Equal(at) {
					t.Fatalf("CopyKey's copy expires at %v, want %v", c, at)
				}
			}
			clock.Advance(time.Hour - time.Second)
			must(t, m.Migrate())
			check("a pass before the expiry")
			clock.Advance(2 * time.Second)
			must(t, m.Migrate())
			if n, err := m.Len(); err != nil || n != 0 {
				t.Fatalf("after the expiry: Len = %d, %v; want 0", n, err)
			}
		})
	}
}

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

// errAfterReader gives n bytes of zeros, then fails with err.
type errAfterReader struct {
	n   int
	err error
}

func (r *errAfterReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

// noRoomLeft checks that no tier holds room for streams.
func noRoomLeft(t *testing.T, m *tiermem.Manager, what string) {
	t.Helper()
	for tr, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%s: the %v tier holds %d bytes for streams afterwards", what, tiermem.Tier(tr), u.Streaming)
		}
	}
}

// fillCheck deletes keys and stores one value of nearly the tier's whole
// free room in it: with room leaked (reserved and never given back) that
// Store would wait for it and fail with ErrNoSpace.
func fillCheck(t *testing.T, m *tiermem.Manager, tr tiermem.Tier, keys []string, what string) {
	t.Helper()
	for _, k := range keys {
		if err := m.Delete(k); err != nil && !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatal(err)
		}
	}
	u := m.Usage()[tr]
	n := int(u.Capacity - u.Used - 16<<10) // the hot tier rounds a large entry up to whole 8 KiB pages
	if err := m.Store("fill-check", make([]byte, n), tiermem.InTier(tr)); err != nil {
		t.Errorf("%s: a value of %d bytes into the %v tier (%+v) afterwards: %v", what, n, tr, u, err)
	}
	must(t, m.Delete("fill-check"))
}

// TestStreamPathsLeaveNoRoom: every way a StoreFrom ends (stored, a short
// stream, a failing reader, too large, replacing itself, unnamed) into
// hot, warm (below and past its own-mapping size) and cold (below and past
// the staging size), plain, durable, with analytics and with glacier,
// leaves no room held, and each tier fills to its budget afterwards.
func TestStreamPathsLeaveNoRoom(t *testing.T) {
	for _, mode := range []string{"plain", "durable", "analytics", "glacier"} {
		t.Run(mode, func(t *testing.T) {
			o := &tiermem.Options{MigrateInterval: -1,
				Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 2 << 20},
				Cold: tiermem.TierOptions{Size: 16 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}}
			if mode == "durable" {
				o.Durability = tiermem.Always
			}
			if mode == "glacier" {
				o.Glacier = tiermem.GlacierOptions{}
				o.Cold.Size = 1 << 20
			}
			m := open(t, o)
			if mode == "analytics" {
				must(t, m.EnableAnalytics(time.Hour))
			}
			type tc struct {
				tier tiermem.Tier
				size int
			}
			cases := []tc{{tiermem.Hot, 1000}, {tiermem.Hot, 300 << 10}, {tiermem.Warm, 1000}, {tiermem.Warm, 300 << 10}, {tiermem.Cold, 1000}, {tiermem.Cold, 300 << 10}}
			var keys []string
			for i, c := range cases {
				for j, opts := range [][]tiermem.StoreOption{{tiermem.InTier(c.tier)}, {tiermem.InTier(c.tier), tiermem.Pinned(), tiermem.WithTTL(time.Hour)}} {
					key := fmt.Sprintf("k%d-%d", i, j)
					keys = append(keys, key)
					what := fmt.Sprintf("%s %v %d opts %d", mode, c.tier, c.size, j)
					// short stream
					err := m.StoreFrom(key, bytes.NewReader(make([]byte, c.size/2)), int64(c.size), opts...)
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("%s: short stream: %v", what, err)
					}
					noRoomLeft(t, m, what+" short")
					// failing reader
					boom := errors.New("boom")
					if err := m.StoreFrom(key, &errAfterReader{n: c.size / 3, err: boom}, int64(c.size), opts...); !errors.Is(err, boom) {
						t.Errorf("%s: failing reader: %v", what, err)
					}
					noRoomLeft(t, m, what+" reader error")
					// too large
					if err := m.StoreFrom(key, bytes.NewReader(nil), 1<<40, opts...); !errors.Is(err, tiermem.ErrTooLarge) {
						t.Errorf("%s: too large: %v", what, err)
					}
					// whole, then again replacing itself
					for range 2 {
						v := bytes.Repeat([]byte{byte(i + j)}, c.size)
						must(t, m.StoreFrom(key, bytes.NewReader(v), int64(c.size), opts...))
						if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, v) {
							t.Errorf("%s: %d bytes, %v", what, len(got), err)
						}
						noRoomLeft(t, m, what+" whole")
					}
					// unnamed
					must(t, m.StoreFrom(key+"u", bytes.NewReader(make([]byte, c.size)), int64(c.size)))
					keys = append(keys, key+"u")
					noRoomLeft(t, m, what+" unnamed")
				}
			}
			for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
				fillCheck(t, m, tr, keys, mode)
			}
		})
	}
}

// TestStreamChurnLeavesNoRoom: streams (slow, short, failing; named
// and not) race with Stores, Deletes, Moves, Migrate passes and budget
// changes on a handful of keys; afterwards no tier holds room for streams
// and every memory tier can be filled to its budget at once.
func TestStreamChurnLeavesNoRoom(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 512 << 10}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	stop := time.Now().Add(2 * time.Second)
	done := make(chan struct{})
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for g := range 6 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; time.Now().Before(stop); i++ {
				key := fmt.Sprint("c", (g+i)%5)
				size := []int{2 << 10, 40 << 10, 90 << 10, 200 << 10}[(g*7+i)%4]
				var opts []tiermem.StoreOption
				if i%3 != 0 {
					opts = append(opts, tiermem.InTier(tiers[(g+i)%3]))
				}
				var err error
				switch i % 7 {
				case 0:
					err = m.StoreFrom(key, &errAfterReader{n: size / 2, err: io.ErrClosedPipe}, int64(size), opts...)
				case 1:
					err = m.StoreFrom(key, bytes.NewReader(make([]byte, size-1)), int64(size), opts...)
				case 2:
					err = m.Delete(key)
				case 3:
					err = m.Store(key, make([]byte, size), opts...)
				case 4:
					err = m.Move(key, tiers[i%3])
				case 5:
					if g == 0 {
						err = m.Migrate()
					} else if g == 1 {
						err = m.SetBudget(tiermem.Hot, int64([]int{256 << 10, 512 << 10}[i%2]))
					}
				default:
					r := &watchedReader{r: bytes.NewReader(make([]byte, size)), w: &streamWatch{reading: map[int]int64{}},
						size: int64(size), left: int64(size), pause: 200 * time.Microsecond}
					err = m.StoreFrom(key, r, int64(size), opts...)
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrNoSpace) &&
					!errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.ErrClosedPipe) {
					t.Errorf("op %d on %s: %v", i%7, key, err)
				}
			}
		}()
	}
	for range 6 {
		<-done
	}
	must(t, m.SetBudget(tiermem.Hot, 512<<10))
	noRoomLeft(t, m, "churn")
	var keys []string
	for i := range 5 {
		keys = append(keys, fmt.Sprint("c", i))
	}
	for _, tr := range tiers {
		fillCheck(t, m, tr, keys, "churn")
	}
}

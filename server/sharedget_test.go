package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestGetOfLargeValuesIsNotCopied pipelines GETs of a 6 MiB value (a hot
// one is sent where the hot tier holds it, a warm one from its mapping and
// a cold one from its segment, in pieces through one pooled buffer), a
// small one and a missing one, with a SET between them, and checks every
// reply byte for byte. The server's Go allocations for the warm and cold
// GETs are within 12 MiB of those for the hot ones (pooled buffers, which
// the race detector's pools drop at random): none of the 4 GETs copied
// the value, which would be 24 MiB more (the client's reads allocate alike
// for all).
func TestGetOfLargeValuesIsNotCopied(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	big := make([]byte, 6<<20) // within the test server's 8 MiB hot budget
	rand.NewChaCha8([32]byte{1}).Read(big)
	allocated := map[tiermem.Tier]uint64{}
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		if err := m.Store("big", big, tiermem.InTier(tier)); err != nil {
			t.Fatal(err)
		}
		allocated[tier] = pipelineBigGets(t, addr, big)
	}
	t.Logf("4 pipelined GETs of 6 MiB allocated %.1f MiB from hot, %.1f MiB from warm, %.1f MiB from cold",
		float64(allocated[tiermem.Hot])/(1<<20), float64(allocated[tiermem.Warm])/(1<<20), float64(allocated[tiermem.Cold])/(1<<20))
	for _, tier := range []tiermem.Tier{tiermem.Warm, tiermem.Cold} {
		if allocated[tier] > allocated[tiermem.Hot]+12<<20 { // a copy each: 24 MiB more
			t.Errorf("GETs of a %v value allocated %d bytes, of the same value in hot %d: it was copied", tier, allocated[tier], allocated[tiermem.Hot])
		}
	}
}

// pipelineBigGets sends 4 rounds of GET big, SET small, GET small, GET
// missing, checks the replies, and returns the bytes allocated meanwhile.
func pipelineBigGets(t *testing.T, addr string, big []byte) uint64 {
	c := dial(t, addr)
	var req, want bytes.Buffer
	for i := range 4 {
		req.Write(encode("GET", "big"))
		fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(big), big)
		req.Write(encode("SET", "small", strconv.Itoa(i)))
		want.WriteString("+OK\r\n")
		req.Write(encode("GET", "small"))
		fmt.Fprintf(&want, "$1\r\n%d\r\n", i)
		req.Write(encode("GET", "missing"))
		want.WriteString("$-1\r\n")
	}
	got := bytes.NewBuffer(make([]byte, 0, want.Len()+4096))
	grew := allocatedBy(func() {
		c.send(req.Bytes())
		for range 16 {
			got.Write(c.reply())
		}
	})
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("replies differ: %d bytes, want %d", got.Len(), want.Len())
	}
	return grew
}

// TestGetOfLargeHotValuesWhileTheyChange GETs a large hot value from
// several connections while others replace it with values of the same
// size (which a small entry would take in place) and delete it: every
// reply is one whole value that was stored, or null.
func TestGetOfLargeHotValuesWhileTheyChange(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	values := make([][]byte, 4)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
	}
	if err := m.Store("k", values[0], tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 200 {
				var err error
				if i%10 == 9 {
					err = m.Delete("k")
				} else {
					err = m.Store("k", values[(w+i)%len(values)], tiermem.InTier(tiermem.Hot))
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) { // the other writer deleted it first
					t.Error(err)
					return
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			c := dial(t, addr)
			for range 100 {
				r := c.do("GET", "k")
				if string(r) == "$-1\r\n" {
					continue
				}
				head := fmt.Sprintf("$%d\r\n", 256<<10)
				if !bytes.HasPrefix(r, []byte(head)) || !bytes.HasSuffix(r, []byte("\r\n")) {
					t.Errorf("a reply of %d bytes starting %q", len(r), r[:min(len(r), 12)])
					return
				}
				body := r[len(head) : len(r)-2]
				if !bytes.Equal(body, bytes.Repeat(body[:1], len(body))) {
					t.Error("a reply mixes two values")
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestOldValueRepliesAreNotCopied: GETSET and SET ... GET of a 6 MiB
// value reply the copy the Manager hands them (Entry.Value) where it lies.
// Each allocates within 3 MiB of the Manager's own (6 MiB a copy: the old
// value's) plus what a GET of the same hot value allocates (the client's
// reads): a copy into the connection's buffer would be 6 MiB more. GETEX
// and GETDEL make no copy at all: GETEX's TTL goes where the value lies,
// and the reply is sent from there, as a GET's (UpdateHeaderView); GETDEL
// takes the value where it lies (TakeValue) from hot, warm and cold. GETEX
// allocated 18 MiB when a TTL change rewrote the value, and 6 MiB when it
// replied UpdateEntry's copy; GETDEL allocated 6 MiB, and read a cold
// value whole.
func TestOldValueRepliesAreNotCopied(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	big := make([]byte, 6<<20)
	rand.NewChaCha8([32]byte{2}).Read(big)
	want := fmt.Appendf(nil, "$%d\r\n%s\r\n", len(big), big)
	c := dial(t, addr)
	var roundTripIn func(tr tiermem.Tier, args ...string) uint64
	roundTrip := func(args ...string) uint64 {
		t.Helper()
		return roundTripIn(tiermem.Hot, args...)
	}
	roundTripIn = func(tr tiermem.Tier, args ...string) uint64 {
		t.Helper()
		if err := m.Store("big", big, tiermem.InTier(tr)); err != nil {
			t.Fatal(err)
		}
		var got []byte
		grew := allocatedBy(func() {
			c.send(encode(args...))
			got = c.reply()
		})
		if !bytes.Equal(got, want) {
			t.Fatalf("%v replied %d bytes, want the %d of the value", args, len(got), len(want))
		}
		return grew
	}
	get := roundTrip("GET", "big")
	for _, tc := range []struct {
		args   []string
		copies uint64 // the Manager's
	}{
		{[]string{"GETSET", "big", "small"}, 1},
		{[]string{"SET", "big", "small", "GET"}, 1},
		{[]string{"GETEX", "big", "EX", "100"}, 0},
		{[]string{"GETEX", "big", "PERSIST"}, 0},
	} {
		if grew := roundTrip(tc.args...); grew > get+(tc.copies*6+3)<<20 {
			t.Errorf("%v allocated %.1f MiB, a GET %.1f MiB: the old value was copied again",
				tc.args, float64(grew)/(1<<20), float64(get)/(1<<20))
		}
	}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		if grew := roundTripIn(tr, "GETDEL", "big"); grew > get+3<<20 {
			t.Errorf("GETDEL of a %v value allocated %.1f MiB, a GET of a hot one %.1f MiB: the value was copied",
				tr, float64(grew)/(1<<20), float64(get)/(1<<20))
		}
		if _, err := m.Tier("big"); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("after GETDEL of a %v value: %v, want ErrNotFound", tr, err)
		}
	}
	for _, tr := range []tiermem.Tier{tiermem.Warm, tiermem.Cold} {
		// A copy would be 6 MiB more; under -race, sync.Pool drops some of
		// the verifying pass's 1 MiB buffers, so 4 MiB of slack, not 3.
		if grew := roundTripIn(tr, "GETEX", "big", "EX", "100"); grew > get+4<<20 {
			t.Errorf("GETEX EX of a %v value allocated %.1f MiB, a GET of a hot one %.1f MiB: the value was copied",
				tr, float64(grew)/(1<<20), float64(get)/(1<<20))
		}
	}
}

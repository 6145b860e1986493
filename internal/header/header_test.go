package header_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/header"
)

var samples = []header.Header{
	{},
	{Pinned: true},
	{Expires: 1_800_000_000_000_000_000},
	{Kind: header.Array, DType: 3, Shape: []int{}},
	{Kind: header.Array, DType: 1, Shape: []int{1000, 1000}, Pinned: true, Expires: 5},
	{Kind: header.Array, DType: 12, Shape: []int{0, header.MaxDim}},
	{Kind: header.Value, Codec: 200},
}

func TestRoundTrip(t *testing.T) {
	for _, h := range samples {
		b := h.Encode()
		if h.Plain() != (b == nil) {
			t.Errorf("%+v: Plain %v but encoded to %d bytes", h, h.Plain(), len(b))
		}
		got, err := header.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", h, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("Decode(Encode(%+v)) = %+v", h, got)
		}
		if header.IsPinned(b) != h.Pinned {
			t.Errorf("IsPinned(%+v) = %v", h, !h.Pinned)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"one byte":         {0x10},
		"version 2":        {0x20, 0},
		"unknown kind":     {0x17, 0},
		"unknown flag":     {0x10, 0x80},
		"cut expiry":       {0x10, 0x02, 1, 2, 3},
		"zero expiry":      {0x10, 0x02, 0, 0, 0, 0, 0, 0, 0, 0},
		"array no rank":    {0x11, 0, 1},
		"rank 65":          {0x11, 0, 1, 65},
		"missing dim":      {0x11, 0, 1, 2, 5},
		"huge dim":         {0x11, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"value no codec":   {0x12, 0},
		"trailing bytes":   {0x10, 0x01, 0},
		"trailing on dims": {0x11, 0, 1, 1, 5, 9},
		"damaged":          header.Damaged(),
		"damaged, pinned":  {0x10, 0x05},
	} {
		if _, err := header.Decode(b); !errors.Is(err, header.ErrCorrupt) {
			t.Errorf("%s: Decode(%x) = %v, want ErrCorrupt", name, b, err)
		}
	}
}

func TestExpired(t *testing.T) {
	now := time.Unix(100, 0)
	for _, c := range []struct {
		expires int64
		want    bool
	}{{0, false}, {now.UnixNano() - 1, true}, {now.UnixNano(), true}, {now.UnixNano() + 1, false}} {
		h := header.Header{Expires: c.expires}
		if got := h.Expired(now); got != c.want {
			t.Errorf("Expires %d at %d: Expired = %v, want %v", c.expires, now.UnixNano(), got, c.want)
		}
	}
}

// FuzzDecode feeds Decode arbitrary bytes, as a damaged disk would: it never
// panics, and what it accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, h := range samples {
		f.Add(h.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := header.Decode(b)
		if err != nil {
			if !errors.Is(err, header.ErrCorrupt) {
				t.Fatalf("Decode(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		if got := h.Encode(); string(got) != string(b) && len(b) != 0 {
			// Varints have more than one encoding; the canonical form must decode the same.
			again, err := header.Decode(got)
			if err != nil || !reflect.DeepEqual(again, h) {
				t.Fatalf("Decode(%x) = %+v, which encodes to %x and decodes to %+v, %v", b, h, got, again, err)
			}
		}
	})
}

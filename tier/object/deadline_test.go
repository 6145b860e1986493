package object

import (
	"testing"
	"time"
)

// TestRequestDeadlineGrowsWithSize: left to its default, a request's
// deadline is 10 s plus 1 s per 256 KiB, at most the 2-minute default, so
// that a store that stopped answering fails a small read in seconds; a
// RequestTimeout given is every request's.
func TestRequestDeadlineGrowsWithSize(t *testing.T) {
	resolved := func(o *Options) *retrying {
		r, err := o.resolve()
		if err != nil {
			t.Fatal(err)
		}
		return newRetrying(NewMem(), &r)
	}
	def, set := resolved(nil), resolved(&Options{RequestTimeout: 3 * time.Second})
	for _, c := range []struct {
		size     int64
		def, set time.Duration
	}{
		{0, 10 * time.Second, 3 * time.Second},
		{4 << 10, 10 * time.Second, 3 * time.Second},
		{256 << 10, 11 * time.Second, 3 * time.Second},
		{32 << 20, 2 * time.Minute, 3 * time.Second}, // 138 s, capped
		{1 << 40, 2 * time.Minute, 3 * time.Second},
	} {
		if got := def.deadline(c.size); got != c.def {
			t.Errorf("default options, %d bytes: deadline %v, want %v", c.size, got, c.def)
		}
		if got := set.deadline(c.size); got != c.set {
			t.Errorf("RequestTimeout 3s, %d bytes: deadline %v, want %v", c.size, got, c.set)
		}
	}
}

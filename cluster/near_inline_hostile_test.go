package cluster_test

import (
	"context"
	"fmt"
	"testing"
)

// TestHostileNearCopyOfInlineValue: a value of up to 64 KiB lives inline in
// its manifest, and a Retrieve returns it from there, never from the near
// cache: Store of such a value keeps no near copy, which would only take the
// local Manager's room (evicting copies it could serve).
func TestHostileNearCopyOfInlineValue(t *testing.T) {
	ctx := context.Background()
	m, near, _ := openNear(t, "hostile/")
	var kept []string
	for i := range 20 {
		key := fmt.Sprint("hostile/near-inline-", i)
		if err := near.Store(ctx, key, pattern(32<<10, byte(i))); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { near.Delete(context.Background(), key) })
		if _, err := m.Retrieve("hostile/" + key); err == nil {
			kept = append(kept, key)
		}
	}
	if len(kept) > 0 {
		t.Fatalf("the near cache holds copies of %d inline values of 32 KiB that no Retrieve reads (%v ...)", len(kept), kept[0])
	}
}

package web_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestPutDoesNotReadTheOldValue: a PUT without preconditions
// replaces a key's value without reading it: a 5-byte PUT over a 48 MiB
// value the cold tier keeps compressed must not decompress it into 48 MiB
// of Go memory (nor, for a glacier value, download it) just to learn
// whether the key held a value (201 against 204).
func TestPutDoesNotReadTheOldValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	const n = 48 << 20
	if err := m.Store("big", make([]byte, n), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, body := do(t, http.MethodPut, keyURL(srv, "big"), strings.NewReader("small"))
	runtime.ReadMemStats(&after)
	wantWritten(t, resp, body)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("an unconditional 5-byte PUT over a %d MiB cold value allocated %d MiB: it read the old value", n>>20, alloc>>20)
	}
}

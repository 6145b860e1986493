package tiermem

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/internal/freq"
)

// arenaKey is a key that says whether its bytes were changed: its number,
// then the number again, padded to lengths that vary.
func arenaKey(i int) string {
	s := strconv.Itoa(i)
	return fmt.Sprintf("%s/%s/%0*d", s, s, i%53, 0)
}

func checkArenaKey(key string) bool {
	var a, b int
	var pad string
	if n, _ := fmt.Sscanf(key, "%d/%d/%s", &a, &b, &pad); n < 2 || a != b {
		return false
	}
	return key == arenaKey(a)
}

// TestPromotionKeysOutliveTheirArena: keys that take returned stay intact
// while readers queue new keys (into new arenas) and further takes run,
// all at once; and every queued key comes out of some take.
func TestPromotionKeysOutliveTheirArena(t *testing.T) {
	p := newPromotions()
	const adders, per = 4, 20000
	var wg sync.WaitGroup
	buf := make([][]byte, adders)
	for g := range adders {
		wg.Go(func() {
			for i := range per {
				k := g*per + i
				// The caller's key over memory it rewrites at once.
				buf[g] = append(buf[g][:0], arenaKey(k)...)
				key := unsafe.String(unsafe.SliceData(buf[g]), len(buf[g])) // add must copy it
				p.add(key, freq.Hash(key))
				for j := range buf[g] {
					buf[g][j] = '#'
				}
			}
		})
	}
	var held []string
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	check := func() {
		for _, k := range held {
			if !checkArenaKey(k) {
				t.Fatalf("a key take returned changed to %q", k)
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		for _, k := range p.take() {
			if !checkArenaKey(k) {
				t.Fatalf("take returned %q", k)
			}
			held = append(held, k)
			seen[k] = true
		}
		check()
	}
	for _, k := range p.take() {
		held = append(held, k)
		seen[k] = true
	}
	check()
	if p.n.Load() != 0 {
		t.Errorf("%d keys counted as queued after the last take", p.n.Load())
	}
	if len(seen) == 0 {
		t.Fatal("no key was queued")
	}
}

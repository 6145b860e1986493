package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func ExampleManager_Rename() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("draft", []byte("hello"), tiermem.WithTTL(time.Hour))
	if err := m.Rename("draft", "final", false); err != nil {
		panic(err)
	}
	v, _ := m.Retrieve("final")
	_, err = m.Retrieve("draft")
	ttl, _ := m.ExpireTime("final")
	fmt.Println(string(v), errors.Is(err, tiermem.ErrNotFound), !ttl.IsZero())
	m.Store("other", []byte("x"))
	fmt.Println(errors.Is(m.Rename("final", "other", false), tiermem.ErrExists))
	fmt.Println(m.CopyKey("final", "backup", false))
	// Output:
	// hello true true
	// true
	// <nil>
}

// TestRenameKeepsKindExpiryPinAndTier renames an array stored in warm,
// pinned, with a TTL, over a bytes value in hot.
func TestRenameKeepsKindExpiryPinAndTier(t *testing.T) {
	m := open(t, nil)
	a := tiermem.NewArray([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	must(t, m.StoreArray("a", a, tiermem.InTier(tiermem.Warm), tiermem.WithTTL(time.Hour), tiermem.Pinned()))
	must(t, m.Store("b", []byte("old"), tiermem.InTier(tiermem.Hot)))
	at, err := m.ExpireTime("a")
	must(t, err)
	if err := m.Rename("a", "b", false); !errors.Is(err, tiermem.ErrExists) {
		t.Fatalf("Rename onto a key without replace: %v, want ErrExists", err)
	}
	must(t, m.Rename("a", "b", true))
	if _, err := m.Tier("a"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("the old key after Rename: %v", err)
	}
	got, err := m.RetrieveArray("b")
	must(t, err)
	if !bytes.Equal(got.Data, a.Data) || got.String() != "float32[2 3]" {
		t.Fatalf("renamed array %v %v", got, got.Data)
	}
	if tr := tierOf(t, m, "b"); tr != tiermem.Warm {
		t.Fatalf("renamed key in %v, want warm (the only copy: hot's older value is gone)", tr)
	}
	if at2, _ := m.ExpireTime("b"); !at2.Equal(at) {
		t.Fatalf("expiry %v after Rename, want %v", at2, at)
	}
	if p, _ := m.IsPinned("b"); !p {
		t.Fatal("the pin was lost")
	}
	if err := m.Rename("nosuch", "x", true); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("Rename of no key: %v", err)
	}
	if err := m.Rename("b", "", true); !errors.Is(err, tiermem.ErrInvalidKey) {
		t.Fatalf("Rename to an empty key: %v", err)
	}
	must(t, m.Rename("b", "b", true))
	if err := m.Rename("b", "b", false); !errors.Is(err, tiermem.ErrExists) {
		t.Fatalf("RENAMENX-style rename onto itself: %v", err)
	}
}

func TestCopyKeyCopiesEveryTier(t *testing.T) {
	m := open(t, nil)
	for i, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := fmt.Sprintf("k%d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tr), tiermem.WithTTL(time.Hour)))
		must(t, m.CopyKey(key, key+"-copy", false))
		for _, k := range []string{key, key + "-copy"} {
			v, err := m.Retrieve(k)
			must(t, err)
			if !bytes.Equal(v, valueFor(key)) {
				t.Fatalf("%s: %q", k, v)
			}
			if got := tierOf(t, m, k); got != tr {
				t.Fatalf("%s in %v, want %v", k, got, tr)
			}
			if at, _ := m.ExpireTime(k); at.IsZero() {
				t.Fatalf("%s lost its expiry", k)
			}
		}
		if err := m.CopyKey(key, key+"-copy", false); !errors.Is(err, tiermem.ErrExists) {
			t.Fatalf("CopyKey onto a key: %v", err)
		}
		if err := m.CopyKey(key, key, true); !errors.Is(err, tiermem.ErrExists) {
			t.Fatalf("CopyKey onto itself: %v", err)
		}
	}
}

// TestRenameKeepsEveryToken moves tokens among a few keys with Rename
// (never replacing), adds new ones with Store and a Rename, takes some
// out with a Rename to a private key and a Delete, moves keys between
// tiers and runs migration passes, all at once, and closes the Manager
// in the middle: after reopening, every token added
// and not taken out is under exactly one key.
func TestRenameKeepsEveryToken(t *testing.T) {
	for round := range 6 {
		dir := t.TempDir()
		opts := &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
			Warm: tiermem.TierOptions{Size: 64 << 10}, Cold: tiermem.TierOptions{Size: 1 << 30}}
		if round%2 == 1 {
			opts.Durability = tiermem.Always // the writes go through to the cold log
		}
		m, err := tiermem.Open(dir, opts)
		must(t, err)
		slot := func(i int) string { return fmt.Sprintf("slot%d", i) }
		var mu sync.Mutex
		added, removed := map[string]bool{}, map[string]bool{}
		tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
		for i := range 4 {
			tok := fmt.Sprintf("init-%d", i)
			must(t, m.Store(slot(i), []byte(tok), tiermem.InTier(tiers[i%3])))
			added[tok] = true
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				own := fmt.Sprintf("own%d", g)
				for i := 0; ; i++ {
					var err error
					switch rng.IntN(5) {
					case 4: // move a key to another tier, or run a migration pass
						if err = m.Move(slot(rng.IntN(8)), tiers[rng.IntN(3)]); rng.IntN(4) == 0 {
							err = m.Migrate()
						}
					case 0, 1: // move a token
						err = m.Rename(slot(rng.IntN(8)), slot(rng.IntN(8)), false)
					case 2: // add one
						tok := fmt.Sprintf("g%d-%d", g, i)
						if err = m.Store(own, []byte(tok), tiermem.InTier(tiers[rng.IntN(3)])); err == nil {
							mu.Lock()
							added[tok] = true
							mu.Unlock()
							if err = m.Rename(own, slot(rng.IntN(8)), false); errors.Is(err, tiermem.ErrExists) {
								err = m.Rename(own, fmt.Sprintf("spare%d-%d", g, i), false)
							}
						}
					case 3: // take one out
						if err = m.Rename(slot(rng.IntN(8)), own, false); err == nil {
							var v []byte
							if v, err = m.Retrieve(own); err == nil {
								if err = m.Delete(own); err == nil {
									mu.Lock()
									removed[string(v)] = true
									mu.Unlock()
								}
							}
						}
					}
					switch {
					case errors.Is(err, tiermem.ErrClosed):
						return
					case err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrExists):
						t.Error(err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+round*10) * time.Millisecond)
		must(t, m.Close())
		wg.Wait()
		m, err = tiermem.Open(dir, opts)
		must(t, err)
		seen := map[string]string{}
		var cursor uint64
		for {
			keys, next, err := m.Scan(cursor, "", 100)
			must(t, err)
			for _, k := range keys {
				v, err := m.Retrieve(k)
				must(t, err)
				if other, dup := seen[string(v)]; dup {
					t.Fatalf("round %d: token %q under %q and %q", round, v, other, k)
				}
				seen[string(v)] = k
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		for tok := range added {
			if _, ok := seen[tok]; !ok && !removed[tok] {
				t.Fatalf("round %d: token %q lost", round, tok)
			}
			if _, ok := seen[tok]; ok && removed[tok] {
				t.Fatalf("round %d: token %q taken out and still there", round, tok)
			}
		}
		t.Logf("round %d: %d tokens added, %d taken out, %d found", round, len(added), len(removed), len(seen))
		if len(seen) > len(added) {
			t.Fatalf("round %d: %d tokens found, %d added", round, len(seen), len(added))
		}
		must(t, m.Close())
	}
}

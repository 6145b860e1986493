package tiermem_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileExpiredKeyIsNeverServed: "an expired key is never served". A
// key whose TTL ran out (no pass has removed it yet) in any tier, small or
// large, must read as absent through every call that names it.
func TestHostileExpiredKeyIsNeverServed(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: -1})
	dir := t.TempDir()
	notFound := func(err error) error {
		if errors.Is(err, tiermem.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("got %v, want ErrNotFound", err)
	}
	openErr := func(v *tiermem.ValueReader, err error) error {
		if v != nil {
			v.Close()
		}
		return notFound(err)
	}
	calls := map[string]func(key string) error{
		"Retrieve": func(k string) error { _, err := m.Retrieve(k); return notFound(err) },
		"RetrieveShared": func(k string) error {
			_, _, err := m.RetrieveShared(nil, k)
			return notFound(err)
		},
		"View":            func(k string) error { return notFound(m.View(k, func([]byte) error { return nil })) },
		"ViewShared":      func(k string) error { return notFound(m.ViewShared(k, func([]byte, bool) error { return nil })) },
		"ViewSharedSmall": func(k string) error { return notFound(m.ViewSharedSmall(k, func([]byte, bool) error { return nil })) },
		"Tier":            func(k string) error { _, err := m.Tier(k); return notFound(err) },
		"ExpireTime":      func(k string) error { _, err := m.ExpireTime(k); return notFound(err) },
		"IsPinned":        func(k string) error { _, err := m.IsPinned(k); return notFound(err) },
		"IdleTime":        func(k string) error { _, err := m.IdleTime(k); return notFound(err) },
		"ReadCount":       func(k string) error { _, err := m.ReadCount(k); return notFound(err) },
		"OpenValue":       func(k string) error { return openErr(m.OpenValue(k)) },
		"OpenValueDeferred": func(k string) error {
			return openErr(m.OpenValueDeferred(k))
		},
		"TakeValue": func(k string) error { return openErr(m.TakeValue(k)) },
		"SaveTo":    func(k string) error { return notFound(m.SaveTo(k, filepath.Join(dir, k))) },
		"MoveHot":   func(k string) error { return notFound(m.Move(k, tiermem.Hot)) },
		"MoveCold":  func(k string) error { return notFound(m.Move(k, tiermem.Cold)) },
		"CopyHot":   func(k string) error { return notFound(m.Copy(k, tiermem.Hot)) },
		"Rename":    func(k string) error { return notFound(m.Rename(k, k+"-renamed", true)) },
		"CopyKey":   func(k string) error { return notFound(m.CopyKey(k, k+"-copied", true)) },
		"Pin":       func(k string) error { return notFound(m.Pin(k)) },
		"Persist":   func(k string) error { _, err := m.Persist(k); return notFound(err) },
		"Expire":    func(k string) error { return notFound(m.Expire(k, time.Hour)) },
		"Delete":    func(k string) error { return notFound(m.Delete(k)) },
		"Update": func(k string) error {
			return m.Update(k, func(old []byte, found bool) ([]byte, bool, error) {
				if found {
					return nil, false, fmt.Errorf("Update found the expired value (%d bytes)", len(old))
				}
				return nil, false, nil
			})
		},
		"Scan": func(k string) error {
			keys, _, err := m.Scan(0, k, 1000)
			if err != nil || len(keys) != 0 {
				return fmt.Errorf("Scan: %q, %v", keys, err)
			}
			return nil
		},
		"ScanInfo": func(k string) error {
			var listed []string
			err := m.ScanInfo(func(i tiermem.KeyInfo) bool {
				if i.Key == k {
					listed = append(listed, i.Key)
				}
				return true
			})
			if err != nil || len(listed) != 0 {
				return fmt.Errorf("ScanInfo lists the expired key: %v", err)
			}
			return nil
		},
		"Len": func(string) error {
			if n, err := m.Len(); err != nil || n != 0 {
				return fmt.Errorf("Len = %d, %v", n, err)
			}
			return nil
		},
	}
	for name, call := range calls {
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
			for _, size := range []int{100, 200 << 10} {
				key := fmt.Sprintf("%s-%v-%d", name, tr, size)
				must(t, m.Store(key, make([]byte, size), tiermem.InTier(tr), tiermem.WithTTL(time.Second)))
				clock.Advance(2 * time.Second)
				if err := call(key); err != nil {
					t.Errorf("%s of a key expired in %v (%d bytes): %v", name, tr, size, err)
				}
				must(t, m.Migrate()) // removes what is left of it
				for _, k := range []string{key, key + "-renamed", key + "-copied"} {
					if _, err := m.Retrieve(k); !errors.Is(err, tiermem.ErrNotFound) {
						t.Errorf("after %s of the expired %q, %q reads %v", name, key, k, err)
					}
				}
			}
		}
	}
}

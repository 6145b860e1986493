package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
)

const hostileDurDirEnv = "TIERMEM_HOSTILE_DURABILITY_DIR"

func hostileDurOptions() *tiermem.Options {
	return &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 10},
		Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: 64 << 20}, PromoteHits: 2}
}

// TestHostileDurabilityChild is no test of its own: the test below runs it
// in a child process. Writers store, delete, rename, move and pin their
// own keys while SetDurability switches among None, EverySecond and
// Always, ending on Always; once that last switch returned and the writers
// stopped, it writes what was acknowledged to a file and exits without
// Close, as a crash of the process would.
func TestHostileDurabilityChild(t *testing.T) {
	dir := os.Getenv(hostileDurDirEnv)
	if dir == "" {
		t.Skip("run by TestHostileSetDurabilityWhileWritingSurvivesACrash")
	}
	m, err := tiermem.Open(dir, hostileDurOptions())
	if err != nil {
		fmt.Println("child error:", err)
		os.Exit(3)
	}
	const writers, keys = 4, 8
	type state struct {
		gen     int // -1: absent
		pinned  bool
		unknown bool // a failed call: either outcome
	}
	models := make([][]state, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		models[w] = make([]state, keys)
		for i := range models[w] {
			models[w][i].gen = -1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			md := models[w]
			key := func(i int) string { return fmt.Sprint("w", w, "-", i) }
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i, j := n*7%keys, (n*3+1)%keys
				var err error
				switch n % 8 {
				case 0, 1, 2, 3:
					err = m.Store(key(i), hostileValue(w*keys+i, n, 3000+n%5*4000), tiermem.InTier(hostileTiers[n%3]))
					if err == nil {
						md[i] = state{gen: n}
					}
				case 4:
					err = m.Delete(key(i))
					if err == nil || errors.Is(err, tiermem.ErrNotFound) {
						md[i], err = state{gen: -1}, nil
					}
				case 5:
					if i == j {
						continue
					}
					err = m.Rename(key(i), key(j), true)
					if err == nil {
						md[j], md[i] = md[i], state{gen: -1}
					} else if errors.Is(err, tiermem.ErrNotFound) {
						err = nil
					}
				case 6:
					err = m.Move(key(i), hostileTiers[n/8%4])
					if errors.Is(err, tiermem.ErrNotFound) {
						err = nil
					}
				case 7:
					err = m.Pin(key(i))
					if err == nil {
						md[i].pinned = true
					} else if errors.Is(err, tiermem.ErrNotFound) {
						err = nil
					}
				}
				if err != nil {
					md[i].unknown, md[j].unknown = true, true
				}
			}
		}()
	}
	for _, d := range []tiermem.Durability{tiermem.Always, tiermem.None, tiermem.EverySecond, tiermem.None, tiermem.Always, tiermem.EverySecond, tiermem.None, tiermem.Always} {
		time.Sleep(40 * time.Millisecond)
		if err := m.SetDurability(d); err != nil {
			fmt.Println("child error: SetDurability:", err)
			os.Exit(3)
		}
	}
	time.Sleep(40 * time.Millisecond)
	close(stop)
	wg.Wait()
	var b bytes.Buffer
	for w := range writers {
		for i, s := range models[w] {
			fmt.Fprintf(&b, "w%d-%d %d %v %v\n", w, i, s.gen, s.pinned, s.unknown)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "model"), b.Bytes(), 0o644); err != nil {
		fmt.Println("child error:", err)
		os.Exit(3)
	}
	fmt.Println("ack")
	os.Exit(0) // no Close: the process ends as a crash would end it
}

// TestHostileSetDurabilityWhileWritingSurvivesACrash: SetDurability "while
// the Manager serves": after a switch to Always returns, every value
// stored before it is on disk and every later Store is, so a crash of the
// process loses nothing acknowledged, whatever switches ran among the
// Stores, Deletes, Renames, Moves and Pins before.
func TestHostileSetDurabilityWhileWritingSurvivesACrash(t *testing.T) {
	for round := range 2 {
		dir := t.TempDir()
		cmd := childtest.Command("TestHostileDurabilityChild", hostileDurDirEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ack") {
			t.Fatalf("round %d: child: %v\n%s", round, err, out)
		}
		model, err := os.ReadFile(filepath.Join(dir, "model"))
		must(t, err)
		m, err := tiermem.Open(dir, hostileDurOptions())
		must(t, err)
		var bad []string
		for _, line := range strings.Split(strings.TrimSpace(string(model)), "\n") {
			var key string
			var gen int
			var pinned, unknown bool
			if _, err := fmt.Sscanf(line, "%s %d %t %t", &key, &gen, &pinned, &unknown); err != nil {
				t.Fatalf("model line %q: %v", line, err)
			}
			if unknown {
				continue
			}
			got, err := m.Retrieve(key)
			switch {
			case gen < 0 && !errors.Is(err, tiermem.ErrNotFound):
				bad = append(bad, fmt.Sprintf("%s: deleted, reads %d bytes (%v)", key, len(got), err))
			case gen < 0:
			case err != nil:
				bad = append(bad, fmt.Sprintf("%s: holds generation %d, reads %v", key, gen, err))
			default:
				var w, i int
				fmt.Sscanf(key, "w%d-%d", &w, &i)
				if !bytes.HasSuffix(got, fmt.Appendf(nil, "/%d", gen)) {
					bad = append(bad, fmt.Sprintf("%s: holds generation %d, reads another (%d bytes, ends %q)", key, gen, len(got), got[max(0, len(got)-8):]))
				} else if p, _ := m.IsPinned(key); p != pinned {
					bad = append(bad, fmt.Sprintf("%s: pinned %v, want %v", key, p, pinned))
				}
			}
		}
		must(t, m.Close())
		if len(bad) > 0 {
			t.Fatalf("round %d: after the crash:\n%s", round, strings.Join(bad, "\n"))
		}
	}
}

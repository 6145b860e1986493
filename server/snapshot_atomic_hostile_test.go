package server_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// TestSnapshotHostileSaveSeesNoHalfMSET: MSET and MULTI/EXEC are atomic with
// respect to the other clients of the server (package doc: "they run
// alone"), and SAVE/BGSAVE write "a consistent point-in-time image"
// (Manager.Snapshot). A snapshot a client asks for must then hold the
// keys as one moment of the server's command stream shows them: never
// half of an MSET, a state that no client could ever read (Redis forks
// between commands, so its dump never holds half of one either).
func TestSnapshotHostileSaveSeesNoHalfMSET(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.tmsnap")
	addr, _, _ := startTiermem(t, &server.Options{SnapshotPath: path})
	const n = 64
	mset := func(c *client, v int) {
		args := []string{"MSET"}
		for k := range n {
			args = append(args, fmt.Sprint("acct:", k), fmt.Sprint(v))
		}
		if r := string(c.do(args...)); r != "+OK\r\n" {
			t.Errorf("MSET = %q", r)
		}
	}
	w := dial(t, addr)
	mset(w, 0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := 1; ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			mset(w, v)
		}
	})
	defer func() { close(stop); wg.Wait() }()
	s := dial(t, addr)
	for i := range 40 {
		if r := string(s.do("SAVE")); r != "+OK\r\n" {
			t.Fatalf("SAVE = %q", r)
		}
		f, err := tiermem.OpenSnapshot(path)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string][]string{}
		for k := range n {
			e, err := f.Lookup(fmt.Sprint("acct:", k))
			if err != nil {
				f.Close()
				t.Fatal(err)
			}
			seen[string(e.Value)] = append(seen[string(e.Value)], fmt.Sprint(k))
		}
		f.Close()
		if len(seen) != 1 {
			var parts []string
			for v, ks := range seen {
				parts = append(parts, fmt.Sprintf("%d keys hold %s", len(ks), v))
			}
			t.Fatalf("SAVE %d wrote half of an MSET: %s", i, strings.Join(parts, ", "))
		}
	}
}

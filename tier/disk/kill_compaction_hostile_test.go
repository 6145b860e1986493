package disk_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// The kill test's child overwrites and deletes a few keys per goroutine
// under SyncAlways while another goroutine compacts without pause, and
// prints "ok G I" once op I of goroutine G returned; the parent SIGKILLs
// it and checks every key against the ops acknowledged (op I+1 may or may
// not have landed).

const (
	killDirEnv   = "TIERMEM_HOSTILE_COLD_KILL_DIR"
	killRoundEnv = "TIERMEM_HOSTILE_COLD_KILL_ROUND"
	killWriters  = 3
	killKeys     = 6
)

var killOpts = &disk.Options{Sync: disk.SyncAlways, SegmentSize: 16 << 10, CompactThreshold: 0.05}

// killOp is op i of goroutine g in round r: a Put, a PutStaged, a
// SetMeta or a Delete of one of the goroutine's keys.
type killOpT struct {
	key   string
	kind  int // 0 Put, 1 PutStaged, 2 SetMeta, 3 Delete
	value []byte
	meta  []byte
}

func killOp(r, g, i int) killOpT {
	key := fmt.Sprintf("r%d-g%d-k%d", r, g, i%killKeys)
	n := 100 + (i*7919)%3000
	op := killOpT{key: key, kind: []int{0, 1, 2, 0, 3}[i%5], meta: []byte(fmt.Sprintf("meta@%d", i))}
	if op.kind == 1 && i%3 == 0 {
		n = 150<<10 + i // written straight from the copy buffer, in aligned pieces
	}
	if op.kind < 2 {
		op.value = bytes.Repeat([]byte(fmt.Sprintf("%s@%d;", key, i)), n/10+1)[:n]
	}
	return op
}

// killKV is a key's state: present, with value and meta.
type killKV struct {
	present     bool
	value, meta []byte
}

func (kv killKV) apply(op killOpT) killKV {
	switch op.kind {
	case 0, 1:
		return killKV{true, op.value, op.meta}
	case 2:
		if kv.present {
			return killKV{true, kv.value, op.meta}
		}
		return kv
	}
	return killKV{}
}

func (kv killKV) equal(o killKV) bool {
	return kv.present == o.present && bytes.Equal(kv.value, o.value) && bytes.Equal(kv.meta, o.meta)
}

func TestHostileColdKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("the child of TestHostileColdKillDuringCompaction")
	}
	r, _ := strconv.Atoi(os.Getenv(killRoundEnv))
	s, err := disk.Open(dir, killOpts)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	fmt.Println("ready")
	go func() {
		for {
			if err := s.Compact(); err != nil {
				fmt.Println("compact:", err)
				os.Exit(3)
			}
		}
	}()
	for g := range killWriters {
		go func() {
			for i := 0; ; i++ {
				op := killOp(r, g, i)
				var err error
				switch op.kind {
				case 0:
					_, err = s.Put(op.key, op.value, op.meta)
				case 1:
					var st *disk.Staged
					if st, err = s.Stage(bytes.NewReader(op.value), int64(len(op.value))); err == nil {
						_, err = s.PutStaged(op.key, st, op.meta)
						st.Discard()
					}
				case 2:
					_, err = s.SetMeta(op.key, op.meta, 1<<20)
				case 3:
					_, err = s.Delete(op.key)
				}
				if errors.Is(err, tier.ErrNotFound) {
					err = nil
				}
				if err != nil {
					fmt.Println("op:", err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Println("ok", g, i)
				out.Unlock()
			}
		}()
	}
	select {}
}

func TestHostileColdKillDuringCompaction(t *testing.T) {
	if os.Getenv(killDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	acked := map[string]killKV{}
	for r := range 25 {
		last, err := killRun(dir, r, time.Duration(30+rand.IntN(150))*time.Millisecond)
		if err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		next := map[string]killKV{} // the one key per goroutine whose op may have landed unacknowledged
		for g := range killWriters {
			for i := 0; i <= last[g]; i++ {
				op := killOp(r, g, i)
				acked[op.key] = acked[op.key].apply(op)
			}
			op := killOp(r, g, last[g]+1)
			next[op.key] = acked[op.key].apply(op)
		}
		s, err := disk.Open(dir, killOpts)
		if err != nil {
			t.Fatalf("round %d: Open after the kill: %v", r, err)
		}
		for g := range killWriters {
			for k := range killKeys {
				key := fmt.Sprintf("r%d-g%d-k%d", r, g, k)
				if _, ok := acked[key]; !ok {
					acked[key] = killKV{}
				}
			}
		}
		for key, want := range acked {
			var got killKV
			v, m, err := s.GetMeta(key, nil)
			switch {
			case err == nil:
				got = killKV{true, v, m}
			case !errors.Is(err, tier.ErrNotFound):
				s.Close()
				t.Fatalf("round %d: %q: %v", r, key, err)
			}
			if n, ok := next[key]; ok && got.equal(n) {
				acked[key] = n
				continue
			}
			if !got.equal(want) {
				s.Close()
				t.Fatalf("round %d: %q reads %v %.30q meta %q; acknowledged %v %.30q meta %q",
					r, key, got.present, got.value, got.meta, want.present, want.value, want.meta)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// killRun runs the child for round r, kills it after d and returns the
// last op each goroutine had acknowledged (-1 for none).
func killRun(dir string, r int, d time.Duration) ([]int, error) {
	cmd := childtest.Command("TestHostileColdKillChild", killDirEnv+"="+dir, fmt.Sprintf("%s=%d", killRoundEnv, r))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		return nil, fmt.Errorf("child did not start: %q", lines.Text())
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	last := make([]int, killWriters)
	for g := range last {
		last[g] = -1
	}
	for lines.Scan() {
		var g, i int
		if _, err := fmt.Sscanf(lines.Text(), "ok %d %d", &g, &i); err != nil {
			cmd.Process.Kill()
			return nil, fmt.Errorf("child says %q", lines.Text())
		}
		last[g] = i
	}
	io.Copy(io.Discard, stdout)
	return last, nil
}

package tiermem_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/tier/object"
)

// A model of what acknowledged calls leave, for the tests that kill a
// child process (or Close a Manager) in the middle of every kind of call
// and check each key after the reopen: the workers that make the calls
// (modelWorker), what they print, and the model the parent keeps of it.

// modelValue is the value with id: it starts with "v<id>:", so that a
// value found under any key names the write it came from, and is derived
// from id, so that a torn value is told apart.
func modelValue(id int64) []byte {
	rng := rand.New(rand.NewPCG(uint64(id), 99))
	n := 50 + rng.IntN(12000)
	if id%7 == 0 {
		n = 64<<10 + rng.IntN(100<<10)
	}
	v := fmt.Appendf(nil, "v%d:", id)
	for len(v) < n {
		v = append(v, byte(rng.Uint32()))
	}
	return v
}

// modelValueID returns the id a value read back was written with, or an
// error when its bytes are not those of that id.
func modelValueID(v []byte) (int64, error) {
	head, _, ok := bytes.Cut(v, []byte(":"))
	if !ok || len(head) < 2 || head[0] != 'v' {
		return 0, fmt.Errorf("no id in a value of %d bytes", len(v))
	}
	id, err := strconv.ParseInt(string(head[1:]), 10, 64)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(v, modelValue(id)) {
		return id, fmt.Errorf("value v%d is torn (%d bytes)", id, len(v))
	}
	return id, nil
}

const (
	modelCrashDirEnv   = "TIERMEM_HOSTILE_CRASH_DIR"
	modelCrashRoundEnv = "TIERMEM_HOSTILE_CRASH_ROUND" // the round, which picks the keys and values a child writes
	modelCrashWorkers  = 3
	modelCrashKeys     = 12 // per worker
)

func modelCrashOptions(d tiermem.Durability) *tiermem.Options {
	return &tiermem.Options{Durability: d, MigrateInterval: 20 * time.Millisecond, PromoteHits: 2,
		Hot: tiermem.TierOptions{Size: 96 << 10}, Warm: tiermem.TierOptions{Size: 192 << 10},
		Cold:    tiermem.TierOptions{Size: 768 << 10},
		Glacier: tiermem.GlacierOptions{Object: &object.Options{PackSize: 128 << 10, Compression: object.ZstdFastest}}}
}

// TestHostileCrashChild is the child of TestHostileCrashKeepsEveryAcknowledgedChange:
// with Durability Always, modelCrashWorkers goroutines each change their
// own keys (overwrite, delete, rename, copy, move, take, StoreMany,
// StoreFrom) until killed, printing "try W OP ARGS" before each call and
// "ack W", "miss W" (ErrNotFound: no change) or "fail W ERR" after it.
func TestHostileCrashChild(t *testing.T) {
	dir := os.Getenv(modelCrashDirEnv)
	if dir == "" {
		t.Skip("run by TestHostileCrashKeepsEveryAcknowledgedChange")
	}
	round, _ := strconv.Atoi(os.Getenv(modelCrashRoundEnv))
	m, err := tiermem.Open(dir, modelCrashOptions(tiermem.Always))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range modelCrashWorkers {
		wg.Go(func() { modelWorker(m, round, w, say, nil, nil) })
	}
	wg.Wait()
}

// modelWorker changes worker w's keys until stop is closed: it prints
// "try W OP ARGS" with say before each call and "ack W", "miss W"
// (ErrNotFound: no change), "closed W" (ErrClosed: no change) or "fail W
// ERR" after it. Values it opens (OpenValue) go to opened, when not nil.
func modelWorker(m *tiermem.Manager, round, w int, say func(format string, args ...any), stop <-chan struct{}, opened func(*tiermem.ValueReader)) {
	rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
	next := int64(round+1)*1_000_000 + int64(w)*100_000
	key := func() string { return fmt.Sprintf("w%d-k%d", w, rng.IntN(modelCrashKeys)) }
	tierOf := func() tiermem.Tier { return tiermem.Tier(rng.IntN(4)) }
	for {
		select {
		case <-stop:
			return
		default:
		}
		next++
		var err error
		switch op := rng.IntN(11); op {
		case 0, 1, 2:
			k, tr := key(), tierOf()
			say("try %d SET %s %d", w, k, next)
			if rng.IntN(3) == 0 {
				err = m.Store(k, modelValue(next))
			} else {
				err = m.Store(k, modelValue(next), tiermem.InTier(tr))
			}
		case 3:
			k := key()
			say("try %d SET %s %d", w, k, next)
			v := modelValue(next)
			size := int64(len(v))
			if rng.IntN(3) == 0 {
				size = -1
			}
			if rng.IntN(3) == 0 {
				err = m.StoreFrom(k, bytes.NewReader(v), size)
			} else {
				err = m.StoreFrom(k, bytes.NewReader(v), size, tiermem.InTier(tiermem.Tier(rng.IntN(3))))
			}
		case 4:
			k := key()
			say("try %d DEL %s", w, k)
			err = m.Delete(k)
		case 5:
			a, b := key(), key()
			if a == b {
				continue
			}
			say("try %d REN %s %s", w, a, b)
			err = m.Rename(a, b, true)
		case 6:
			a, b := key(), key()
			if a == b {
				continue
			}
			say("try %d CPY %s %s", w, a, b)
			err = m.CopyKey(a, b, true)
		case 7:
			k := key()
			say("try %d MOV %s", w, k)
			if rng.IntN(2) == 0 {
				err = m.Move(k, tierOf())
			} else {
				err = m.Copy(k, tierOf())
			}
		case 8:
			k := key()
			say("try %d DEL %s", w, k)
			var v *tiermem.ValueReader
			if v, err = m.TakeValue(k); v != nil {
				if opened != nil {
					opened(v)
				} else {
					v.Close()
				}
			}
		case 9:
			k1, k2 := key(), key()
			if k1 == k2 {
				continue
			}
			say("try %d MANY %s %d %s %d", w, k1, next, k2, next+1)
			err = m.StoreMany([][]byte{[]byte(k1), []byte(k2)}, [][]byte{modelValue(next), modelValue(next + 1)})
			next++
		case 10:
			k := key()
			say("try %d MOV %s", w, k)
			var v *tiermem.ValueReader
			if v, err = m.OpenValue(k); v != nil {
				if opened != nil {
					opened(v)
				} else {
					v.Close()
				}
			}
		}
		switch {
		case err == nil:
			say("ack %d", w)
		case errors.Is(err, tiermem.ErrNotFound):
			say("miss %d", w)
		case errors.Is(err, tiermem.ErrClosed):
			say("closed %d", w)
		default:
			say("fail %d %v", w, err)
		}
	}
}

// crashModel is what the parent knows each key holds: the id of its value
// (0: absent), and for a key a call in flight or failed may have changed,
// the ids it may hold instead.
type crashModel struct {
	has   map[string]int64
	maybe map[string]map[int64]bool
	hist  map[string][]string // the last calls on each key, for the failure message
}

// note records op's outcome in the history of the keys it names.
func (md *crashModel) note(op modelOp, outcome string) {
	if md.hist == nil {
		md.hist = map[string][]string{}
	}
	for _, a := range op.args {
		if strings.HasPrefix(a, "w") {
			h := append(md.hist[a], fmt.Sprintf("%s %s: %s", op.verb, strings.Join(op.args, " "), outcome))
			md.hist[a] = h[max(len(h)-10, 0):]
		}
	}
}

// modelOp is one call a worker began.
type modelOp struct {
	verb string
	args []string
}

// effects returns the ids the op leaves under each key it changes, given
// the model before it.
func (op modelOp) effects(md *crashModel) map[string]int64 {
	id := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	switch op.verb {
	case "SET":
		return map[string]int64{op.args[0]: id(op.args[1])}
	case "MANY":
		return map[string]int64{op.args[0]: id(op.args[1]), op.args[2]: id(op.args[3])}
	case "DEL":
		return map[string]int64{op.args[0]: 0}
	case "REN":
		return map[string]int64{op.args[0]: 0, op.args[1]: md.has[op.args[0]]}
	case "CPY":
		return map[string]int64{op.args[1]: md.has[op.args[0]]}
	}
	return nil // MOV changes no value
}

// uncertain marks the keys op may have changed as holding either what
// they held or what op leaves.
func (md *crashModel) uncertain(op modelOp) {
	for k, id := range op.effects(md) {
		if md.maybe[k] == nil {
			md.maybe[k] = map[int64]bool{}
		}
		md.maybe[k][md.has[k]] = true
		md.maybe[k][id] = true
	}
	// A key whose value is uncertain makes the keys it is copied to uncertain too.
	if op.verb == "REN" || op.verb == "CPY" {
		if src := md.maybe[op.args[0]]; src != nil {
			for id := range src {
				md.maybe[op.args[1]][id] = true
			}
		}
	}
}

// apply records an acknowledged op.
func (md *crashModel) apply(op modelOp) {
	eff := op.effects(md)
	var srcMaybe map[int64]bool
	if op.verb == "REN" || op.verb == "CPY" {
		srcMaybe = md.maybe[op.args[0]]
	}
	for k, id := range eff {
		md.has[k] = id
		delete(md.maybe, k)
	}
	if srcMaybe != nil {
		dst := op.args[1]
		md.maybe[dst] = map[int64]bool{}
		for id := range srcMaybe {
			md.maybe[dst][id] = true
		}
		if op.verb == "CPY" {
			md.maybe[op.args[0]] = srcMaybe
		}
	}
}

// TestHostileCrashKeepsEveryAcknowledgedChange kills a child that
// overwrites, deletes, renames, copies, moves, takes and batch-stores a
// small set of keys with Durability Always (three goroutines, small tiers
// so that room-making and passes move keys all the time, glacier
// included), and checks after each kill that every key holds what the
// acknowledged calls left: the newest acknowledged value, never an older
// one brought back, and no deleted key come back; a call cut off or
// failed may leave either outcome. (The other crash tests store fresh
// keys only.) It once failed now and then under load, when a Delete
// brought back an older glacier value, as
// TestHostileDeleteNeverBringsBackAnOlderGlacierValue shows every time.
func TestHostileCrashKeepsEveryAcknowledgedChange(t *testing.T) {
	dir := t.TempDir()
	md := &crashModel{has: map[string]int64{}, maybe: map[string]map[int64]bool{}}
	rng := rand.New(rand.NewPCG(7, 7))
	deadline := time.Now().Add(7 * time.Second)
	for round := 0; round < 12 && time.Now().Before(deadline); round++ {
		modelCrashRound(t, dir, round, time.Duration(50+rng.IntN(250))*time.Millisecond, md)
		m, err := tiermem.Open(dir, modelCrashOptions(tiermem.Always))
		if err != nil {
			t.Fatalf("round %d: Open after the kill: %v", round, err)
		}
		bad := md.check(m, modelCrashWorkers)
		m.Close()
		if len(bad) > 0 {
			t.Fatalf("round %d: after a SIGKILL and reopen with Durability Always:\n%s", round, strings.Join(bad, "\n"))
		}
	}
}

// modelCrashRound runs the child for about d after its first
// acknowledgement, kills it and applies what it acknowledged to md.
func modelCrashRound(t *testing.T, dir string, round int, d time.Duration, md *crashModel) {
	t.Helper()
	cmd := childtest.Command("TestHostileCrashChild", modelCrashDirEnv+"="+dir, fmt.Sprint(modelCrashRoundEnv, "=", round))
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	tr := &modelTracker{md: md, pending: map[string]modelOp{}}
	handle := func(line string) {
		if err := tr.handle(line); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(30 * time.Second)
	for tr.acks == 0 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the child exited before any acknowledgement")
			}
			handle(line)
		case <-timeout:
			t.Fatal("no acknowledgement in 30 s")
		}
	}
	kill := time.After(d)
loop:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break loop
			}
			handle(line)
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			kill = nil
		}
	}
	cmd.Wait()
	tr.cutOff()
}

// modelTracker applies what a worker reports to a model.
type modelTracker struct {
	md      *crashModel
	pending map[string]modelOp // by worker
	acks    int
}

func (tr *modelTracker) handle(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("worker: %s", line)
	}
	switch f[0] {
	case "try":
		tr.pending[f[1]] = modelOp{verb: f[2], args: f[3:]}
	case "ack":
		tr.md.note(tr.pending[f[1]], "ack")
		tr.md.apply(tr.pending[f[1]])
		delete(tr.pending, f[1])
		tr.acks++
	case "miss", "closed":
		tr.md.note(tr.pending[f[1]], f[0])
		delete(tr.pending, f[1])
	case "fail":
		tr.md.note(tr.pending[f[1]], line)
		tr.md.uncertain(tr.pending[f[1]])
		delete(tr.pending, f[1])
	default:
		return fmt.Errorf("worker: %s", line)
	}
	return nil
}

// cutOff marks the calls in flight when the worker died as uncertain.
func (tr *modelTracker) cutOff() {
	for _, op := range tr.pending {
		tr.md.note(op, "cut off")
		tr.md.uncertain(op)
	}
	clear(tr.pending)
}

// check reads every key of the workers and returns what differs from md.
func (md *crashModel) check(m *tiermem.Manager, workers int) []string {
	var bad []string
	for w := range workers {
		for i := range modelCrashKeys {
			k := fmt.Sprintf("w%d-k%d", w, i)
			got := int64(0)
			v, err := m.Retrieve(k)
			switch {
			case errors.Is(err, tiermem.ErrNotFound):
			case err != nil:
				bad = append(bad, fmt.Sprintf("%s: %v", k, err))
				continue
			default:
				if got, err = modelValueID(v); err != nil {
					bad = append(bad, fmt.Sprintf("%s: %v", k, err))
					continue
				}
			}
			if got == md.has[k] || md.maybe[k][got] {
				md.has[k] = got // what it holds from now on
				delete(md.maybe, k)
				md.hist[k] = append(md.hist[k], fmt.Sprintf("(reopen: v%d)", got))
				continue
			}
			t2, _ := m.Tier(k)
			bad = append(bad, fmt.Sprintf("%s holds v%d (in %v), want v%d (acknowledged last; 0 = deleted); its last calls:\n\t%s",
				k, got, t2, md.has[k], strings.Join(md.hist[k], "\n\t")))
		}
	}
	return bad
}

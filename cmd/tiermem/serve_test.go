package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
)

// serveChild names the variable under which the test binary runs serve
// as a child process that the parent stops with SIGTERM.
const serveChild = "TIERMEM_TEST_SERVE_CHILD"

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits for addr to accept connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// TestServeChild is the child of TestServeStopsOnSIGTERM: serve, set up
// by TIERMEM_* variables alone.
func TestServeChild(t *testing.T) {
	if os.Getenv(serveChild) == "" {
		t.Skip("run by TestServeStopsOnSIGTERM")
	}
	root := newRootCmd()
	root.SetArgs([]string{"serve"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
}

// TestServeStopsOnSIGTERM runs serve in a child process, writes through
// RESP with a password, sends SIGTERM: the child exits 0 and the data is
// in its directory.
func TestServeStopsOnSIGTERM(t *testing.T) {
	cmd, dir, addr, out := startServeChild(t, "TIERMEM_REQUIREPASS=pw", "TIERMEM_HOT=16MiB", "TIERMEM_WARM=32MiB")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: "pw"})
	defer rdb.Close()
	for i := range 100 {
		if err := rdb.Set(ctx, fmt.Sprint("key", i), fmt.Sprint("value", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := redis.NewClient(&redis.Options{Addr: addr}).Get(ctx, "key1").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("a GET without the password: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "tiermem stopped") {
		t.Errorf("no graceful stop in the log:\n%s", out.String())
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, err := m.Retrieve("key99"); err != nil || string(v) != "value99" {
		t.Errorf("key99 after the restart: %q, %v", v, err)
	}
}

// startServeChild runs serve in a child process (TestServeChild) on a
// fresh directory and address, with no HTTP and no glacier, a 256 MiB cold
// tier and the TIERMEM_* settings in env, and waits until it listens. The
// child is killed at the end of the test unless it has exited; out
// collects what it prints.
func startServeChild(t *testing.T, env ...string) (cmd *exec.Cmd, dir, addr string, out *strings.Builder) {
	t.Helper()
	dir, addr, out = t.TempDir(), freeAddr(t), new(strings.Builder)
	cmd = childtest.Command("TestServeChild", serveChild+"=1", "TIERMEM_ADDR="+addr, "TIERMEM_HTTP=", "TIERMEM_DIR="+dir,
		"TIERMEM_NO_GLACIER=true", "TIERMEM_COLD=256MiB")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr)
	return cmd, dir, addr, out
}

// TestServeHTTP runs serve in process with HTTP on: both protocols
// answer, and cancelling the context stops it cleanly.
func TestServeHTTP(t *testing.T) {
	addr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	root.SetArgs([]string{"serve", "--addr", addr, "--http", httpAddr, "--dir", t.TempDir(), "--no-glacier",
		"--hot", "16MiB", "--warm", "32MiB", "--cold", "256MiB", "--log-format", "json"})
	var logs strings.Builder
	root.SetErr(&logs)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	waitListening(t, addr)
	waitListening(t, httpAddr)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %s", resp.Status)
	}
	// A transaction watching a key that an HTTP PUT writes before its
	// EXEC fails: the HTTP API writes in the RESP server's order.
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		req, _ := http.NewRequest(http.MethodPut, "http://"+httpAddr+"/v1/keys/k", strings.NewReader("http"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.Set(ctx, "k", "tx", 0).Err() })
		return err
	}, "k")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Errorf("a transaction watching a key an HTTP PUT wrote: %v, want redis.TxFailedErr", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"tiermem stopped"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestServeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--durability", "sometimes"}, {"serve", "--hot", "lots"}, {"serve", "--log-format", "xml"}, {"serve", "extra"},
	} {
		root := newRootCmd()
		root.SetArgs(append(args, "--dir", t.TempDir()))
		if err := root.Execute(); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestServeKill9LosesNothingAcknowledged runs serve with --durability
// always in a child process, increments counters from several clients,
// kills the child with SIGKILL in the middle, and reopens its directory:
// every counter is at least the last value a client saw acknowledged.
func TestServeKill9LosesNothingAcknowledged(t *testing.T) {
	kill9(t, "always", nil)
}

// TestServeKill9AfterConfigSetDurability is the same with a server started
// with --durability none, given keys, then CONFIG SET tiermem-durability
// always: the keys stored before the switch survive the kill too.
func TestServeKill9AfterConfigSetDurability(t *testing.T) {
	const keys = 200
	kill9(t, "none", func(rdb *redis.Client) func(*tiermem.Manager) {
		ctx := context.Background()
		for i := range keys {
			if err := rdb.Set(ctx, fmt.Sprint("before", i), fmt.Sprint("value", i), 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := rdb.ConfigSet(ctx, "tiermem-durability", "always").Err(); err != nil {
			t.Fatal(err)
		}
		return func(m *tiermem.Manager) {
			for i := range keys {
				if v, err := m.Retrieve(fmt.Sprint("before", i)); err != nil || string(v) != fmt.Sprint("value", i) {
					t.Fatalf("before%d = %q (%v) after kill -9: stored before CONFIG SET tiermem-durability always", i, v, err)
				}
			}
		}
	})
}

// kill9 runs serve with the durability given in a child process, calls
// before (if not nil) with a client, increments counters from several
// clients, kills the child with SIGKILL in the middle, reopens its
// directory and checks every counter, then calls what before returned.
func kill9(t *testing.T, durability string, before func(*redis.Client) func(*tiermem.Manager)) {
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := childtest.Command("TestServeChild", serveChild+"=1", "TIERMEM_ADDR="+addr, "TIERMEM_HTTP=", "TIERMEM_DIR="+dir,
		"TIERMEM_DURABILITY="+durability, "TIERMEM_NO_GLACIER=true", "TIERMEM_HOT=16MiB", "TIERMEM_WARM=32MiB", "TIERMEM_COLD=256MiB")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitListening(t, addr)
	var check func(*tiermem.Manager)
	if before != nil {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		check = before(rdb)
		rdb.Close()
	}
	const clients = 4
	acked := make([]int64, clients)
	stop := make(chan struct{})
	done := make(chan struct{}, clients)
	for w := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
			defer rdb.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := rdb.Incr(context.Background(), fmt.Sprint("counter", w)).Result()
				if err != nil {
					return // the server is gone
				}
				acked[w] = n
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	for range clients {
		<-done
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for w, want := range acked {
		v, err := m.Retrieve(fmt.Sprint("counter", w))
		got, _ := strconv.ParseInt(string(v), 10, 64)
		if want > 0 && (err != nil || got < want) {
			t.Errorf("counter%d = %q (%v) after kill -9, but %d was acknowledged", w, v, err, want)
		}
	}
	if acked[0] == 0 {
		t.Errorf("no increment was acknowledged before the kill")
	}
	if check != nil {
		check(m)
	}
}

// TestSIGTERMUnderWriteLoadKeepsEveryAcknowledgedWrite sends SIGTERM to a
// serve child (Durability None: Close writes memory to disk) while eight
// clients write as fast as they can, values spread over hot, warm and
// cold by a small hot budget. The child exits 0, and every SET a client saw
// answered OK is in its directory with its value; the writes cut by the
// shutdown are errors on the client's side, never a silent loss.
func TestSIGTERMUnderWriteLoadKeepsEveryAcknowledgedWrite(t *testing.T) {
	cmd, dir, addr, out := startServeChild(t, "TIERMEM_HOT=1MiB", "TIERMEM_WARM=2MiB")
	const writers = 8
	value := func(w, i int) string { return fmt.Sprintf("%d/%d:%s", w, i, strings.Repeat("v", 100+i%900)) }
	acked := make([]int, writers) // writer w's SETs 0..acked[w]-1 were answered OK
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
			defer rdb.Close()
			for i := 0; ; i++ {
				if err := rdb.Set(context.Background(), fmt.Sprintf("w%d-%d", w, i), value(w, i), 0).Err(); err != nil {
					return // the shutdown closed the connection, or refused a new one
				}
				acked[w] = i + 1
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range writers {
		<-done
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM under load: %v\n%s", err, out.String())
	}
	m, err := tiermem.Open(dir, &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	total := 0
	for w, n := range acked {
		total += n
		for i := range n {
			key := fmt.Sprintf("w%d-%d", w, i)
			if v, err := m.Retrieve(key); err != nil || string(v) != value(w, i) {
				t.Fatalf("%s, acknowledged before the shutdown: %d bytes, %v", key, len(v), err)
			}
		}
	}
	if total < writers {
		t.Fatalf("only %d writes were acknowledged before the shutdown: the load never ran", total)
	}
	t.Logf("%d acknowledged writes, all back after the restart", total)
}

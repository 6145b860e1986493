package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tiermem/tiermem/server"
)

// TestPipeline10k sends 10,000 commands in one write and reads 10,000
// replies in order.
func TestPipeline10k(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	const n = 10000
	var batch []byte
	for i := range n {
		switch i % 3 {
		case 0:
			batch = append(batch, encode("SET", "k"+strconv.Itoa(i), strconv.Itoa(i))...)
		case 1:
			batch = append(batch, encode("GET", "k"+strconv.Itoa(i-1))...)
		default:
			batch = append(batch, encode("INCR", "counter")...)
		}
	}
	go c.send(batch) // the replies must be read while the batch is written
	for i := range n {
		r := string(c.reply())
		var want string
		switch i % 3 {
		case 0:
			want = "+OK\r\n"
		case 1:
			v := strconv.Itoa(i - 1)
			want = fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
		default:
			want = fmt.Sprintf(":%d\r\n", i/3+1)
		}
		if r != want {
			t.Fatalf("reply %d = %q, want %q", i, r, want)
		}
	}
}

// TestGoRedisClient drives the server with go-redis: its HELLO 3
// handshake, pipelines, transactions and typed replies.
func TestGoRedisClient(t *testing.T) {
	for _, pass := range []string{"", "secret"} {
		addr, _, _ := startTiermem(t, &server.Options{RequirePass: pass})
		ctx := context.Background()
		rdb := redis.NewClient(&redis.Options{Addr: addr, Password: pass})
		defer rdb.Close()
		if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if _, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("Get missing: %v", err)
		}
		if ttl, err := rdb.TTL(ctx, "k").Result(); err != nil || ttl < 59*time.Second || ttl > time.Minute {
			t.Fatalf("TTL = %v, %v", ttl, err)
		}
		pipe := rdb.Pipeline()
		for range 100 {
			pipe.Incr(ctx, "n")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		tx := rdb.TxPipeline()
		tx.IncrBy(ctx, "n", 10)
		get := tx.Get(ctx, "n")
		if _, err := tx.Exec(ctx); err != nil || get.Val() != "110" {
			t.Fatalf("transaction: %q, %v", get.Val(), err)
		}
		if f, err := rdb.IncrByFloat(ctx, "f", 1.5).Result(); err != nil || f != 1.5 {
			t.Fatalf("IncrByFloat = %v, %v", f, err)
		}
		ok, err := rdb.SetNX(ctx, "k", "x", 0).Result()
		if err != nil || ok {
			t.Fatalf("SetNX = %v, %v", ok, err)
		}
		keys, _, err := rdb.Scan(ctx, 0, "*", 100).Result()
		if err != nil || len(keys) != 3 {
			t.Fatalf("Scan = %q, %v", keys, err)
		}
		if tier, err := rdb.Do(ctx, "TIER.GET", "k").Text(); err != nil || tier != "hot" {
			t.Fatalf("TIER.GET = %q, %v", tier, err)
		}
		if err := rdb.Do(ctx, "TIER.MOVE", "k", "cold").Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("Get after TIER.MOVE = %q, %v", v, err)
		}
		usage, err := rdb.Do(ctx, "TIER.USAGE").Result()
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := usage.(map[any]any); !ok || len(m) != 4 {
			t.Fatalf("TIER.USAGE = %#v", usage)
		}
		if err := rdb.Do(ctx, "TIER.MIGRATE").Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 3 {
			t.Fatalf("DBSize = %d, %v", n, err)
		}
	}
}

// TestHostileClientsAndClose runs many clients, some sending garbage,
// and closes the server in the middle: no crash, no race, every client
// sees a reply or a closed connection, and the goroutines end.
func TestHostileClientsAndClose(t *testing.T) {
	before := runtime.NumGoroutine()
	addr, srv, _ := startTiermem(t, &server.Options{SnapshotPath: filepath.Join(t.TempDir(), "dump.tmsnap")})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					return // the server is closed
				}
				hostileSession(nc, w, i)
				nc.Close()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+5 {
		t.Errorf("%d goroutines left, %d before", n, before)
	}
}

// hostileSession sends one of several kinds of traffic and reads a little.
func hostileSession(nc net.Conn, w, i int) {
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	key := fmt.Sprint("k", w%4)
	var out []byte
	switch (w + i) % 6 {
	case 0: // a pipeline
		for j := range 50 {
			out = append(out, encode("SET", key, strconv.Itoa(j))...)
			out = append(out, encode("APPEND", key, "x")...)
			out = append(out, encode("GET", key)...)
		}
	case 1: // garbage
		out = []byte(fmt.Sprintf("*%d\r\n$-7\r\n\x00\xff garbage %d", i, w))
	case 2: // a truncated frame, then a hang up
		out = []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
	case 3: // a huge announced bulk
		out = []byte("*2\r\n$4\r\nECHO\r\n$536870912\r\n")
	case 5: // transactions, renames, other clients' state, snapshots
		out = append(out, encode("WATCH", key, "n"+key)...)
		out = append(out, encode("MULTI")...)
		out = append(out, encode("RENAME", key, key+"r")...)
		out = append(out, encode("COPY", key+"r", key, "REPLACE")...)
		out = append(out, encode("EXEC")...)
		out = append(out, encode("CLIENT", "LIST")...)
		out = append(out, encode("CLIENT", "KILL", "ID", strconv.Itoa(1+i%40))...)
		out = append(out, encode("CONFIG", "GET", "*")...)
		out = append(out, encode("OBJECT", "FREQ", key)...)
		out = append(out, encode("BGSAVE")...)
		out = append(out, encode("INFO", "persistence")...)
		out = append(out, encode("RESET")...)
	default: // counters and TTLs
		for range 20 {
			out = append(out, encode("INCR", "n"+key)...)
			out = append(out, encode("EXPIRE", "n"+key, "100")...)
			out = append(out, encode("SCAN", "0", "COUNT", "5")...)
		}
	}
	nc.Write(out)
	buf := make([]byte, 4096)
	nc.Read(buf)
	if bytes.Contains(buf, []byte("panic")) {
		panic("the server replied a panic")
	}
}

// TestLoad200Clients runs 200 clients with a mix of commands for a
// bounded time: every reply is of the expected kind, and once the server
// is closed its goroutines and memory go back to what they were.
func TestLoad200Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of load")
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	func() {
		addr, srv, _ := startTiermem(t, nil)
		deadline := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for w := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := loadClient(addr, w, deadline); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		srv.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines+5 {
		t.Errorf("%d goroutines after the load, %d before", n, goroutines)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 32<<20 {
		t.Errorf("the heap grew by %d MiB and stayed", grown>>20)
	}
}

// loadClient sends batches of mixed commands until deadline and checks
// the kind of every reply.
func loadClient(addr string, w int, deadline time.Time) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	key := "k" + strconv.Itoa(w%20)
	for i := 0; time.Now().Before(deadline); i++ {
		batch := append(encode("SET", key, strconv.Itoa(i)), encode("GET", key)...)
		batch = append(batch, encode("INCR", "n"+key)...)
		batch = append(batch, encode("APPEND", "a"+key, "x")...)
		batch = append(batch, encode("EXPIRE", key, "100")...)
		batch = append(batch, encode("MGET", key, "missing")...)
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(batch); err != nil {
			return err
		}
		for j, want := range []byte{'+', '$', ':', ':', ':', '*'} {
			var buf bytes.Buffer
			if err := readReply(br, &buf); err != nil {
				return err
			}
			if buf.Bytes()[0] != want {
				return fmt.Errorf("client %d reply %d: %q", w, j, buf.Bytes())
			}
		}
	}
	return nil
}

package server_test

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// hostileSameAsRedis sends steps to a redis-server and to tiermem on fresh
// connections and reports every reply that differs.
func hostileSameAsRedis(t *testing.T, redisAddr, tmAddr string, steps [][]string) {
	t.Helper()
	want, got := dial(t, redisAddr), dial(t, tmAddr)
	want.do("FLUSHALL")
	got.do("FLUSHALL")
	for i, st := range steps {
		w, g := want.do(st...), got.do(st...)
		if !bytes.Equal(w, g) {
			t.Errorf("step %d %q:\n redis:   %q\n tiermem: %q", i, st, w, g)
		}
	}
}

// TestRespHostileExecWithArgumentsDiscardsTheTransaction: an EXEC that
// Redis refuses (here for its arity) ends the transaction: Redis replies
// "-EXECABORT Transaction discarded because of: wrong number of arguments
// for 'exec' command" and the client is out of MULTI. tiermem replies a
// plain error and stays in MULTI: the client's next commands are QUEUED
// instead of run, and its next EXEC runs nothing.
func TestRespHostileExecWithArgumentsDiscardsTheTransaction(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, nil)
	hostileSameAsRedis(t, redisAddr, tmAddr, [][]string{
		{"MULTI"}, {"SET", "a", "1"}, {"EXEC", "now"}, {"SET", "b", "2"}, {"GET", "a"}, {"GET", "b"}, {"EXEC"},
	})
}

// TestRespHostileTransactionEdgesLikeRedis: what tiermem already does as
// Redis does, in cases the differential test has not: WATCH marked by
// EXPIRE, PERSIST, APPEND and a RENAME away, MULTI's own arity error, and
// QUIT in the middle of MULTI (+OK, the connection closes, nothing of the
// queue runs).
func TestRespHostileTransactionEdgesLikeRedis(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, nil)
	hostileSameAsRedis(t, redisAddr, tmAddr, [][]string{
		{"MULTI"}, {"MULTI", "x"}, {"SET", "m", "1"}, {"EXEC"}, {"GET", "m"},
		{"MULTI"}, {"DISCARD", "x"}, {"DISCARD"}, {"DISCARD"},
		{"SET", "w", "7"}, {"WATCH", "w"}, {"EXPIRE", "w", "100"}, {"MULTI"}, {"TTL", "w"}, {"EXEC"},
		{"WATCH", "w"}, {"PERSIST", "w"}, {"MULTI"}, {"TTL", "w"}, {"EXEC"},
		{"WATCH", "w"}, {"APPEND", "w", "x"}, {"MULTI"}, {"GET", "w"}, {"EXEC"},
		{"WATCH", "w"}, {"RENAME", "w", "w2"}, {"MULTI"}, {"GET", "w"}, {"EXEC"},
		{"WATCH", "w"}, {"SET", "w", "8"}, {"WATCH", "w"}, {"MULTI"}, {"GET", "w"}, {"EXEC"},
	})
	for _, addr := range []string{redisAddr, tmAddr} {
		c := dial(t, addr)
		c.do("DEL", "q")
		c.send(bytes.Join([][]byte{encode("MULTI"), encode("SET", "q", "1"), encode("QUIT"), encode("EXEC")}, nil))
		var all bytes.Buffer
		for range 3 {
			all.Write(c.reply())
		}
		if all.String() != "+OK\r\n+QUEUED\r\n+OK\r\n" {
			t.Errorf("%s: MULTI, SET, QUIT replied %q", addr, all.String())
		}
		c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if rest, err := io.ReadAll(c.br); err != nil || len(rest) != 0 {
			t.Errorf("%s: after QUIT in MULTI the connection read %q, %v; want EOF", addr, rest, err)
		}
		if r := string(dial(t, addr).do("EXISTS", "q")); r != ":0\r\n" {
			t.Errorf("%s: the transaction QUIT left ran: EXISTS q = %q", addr, r)
		}
	}
}

// TestRespHostileWatchedKeyExpiring: a lock key with a TTL that runs out
// between WATCH and EXEC aborts the EXEC, as Redis's (since 6.0.9) does;
// a key that had no TTL, or had expired already when watched, does not.
func TestRespHostileWatchedKeyExpiring(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, nil)
	want, got := dial(t, redisAddr), dial(t, tmAddr)
	steps := [][]string{
		{"SET", "lock", "me", "PX", "150"}, {"SET", "plain", "1"}, {"SET", "gone", "1", "PX", "1"},
		{"WATCH", "plain", "gone", "lock"}, {"SLEEP"}, {"MULTI"}, {"SET", "r", "1"}, {"EXEC"}, {"GET", "r"},
		{"SET", "lock", "me", "PX", "150"}, {"WATCH", "plain", "gone"}, {"SLEEP"}, {"MULTI"}, {"SET", "r", "2"}, {"EXEC"}, {"GET", "r"},
		{"SET", "lock", "me", "PX", "150"}, {"WATCH", "lock"}, {"UNWATCH"}, {"SLEEP"}, {"MULTI"}, {"SET", "r", "3"}, {"EXEC"}, {"GET", "r"},
	}
	for _, c := range []*client{want, got} {
		c.do("FLUSHALL")
	}
	for i, st := range steps {
		if st[0] == "SLEEP" {
			time.Sleep(300 * time.Millisecond)
			continue
		}
		w, g := want.do(st...), got.do(st...)
		if !bytes.Equal(w, g) {
			t.Errorf("step %d %q:\n redis:   %q\n tiermem: %q", i, st, w, g)
		}
	}
}

package server_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

// TestRespHostileParallelWrongPasswordsTakeTurns: the pause after a wrong
// password slows guessing; guesses sent on many connections at once take
// turns, so 10 connections of 10 wrong AUTHs each take at least as long as
// 100 sent on one (10 ms each), while a right password is answered.
func TestRespHostileParallelWrongPasswordsTakeTurns(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.DiscardHandler)})
	var req []byte
	for range 10 {
		req = append(req, encode("AUTH", "wrong")...)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 10 {
		c := dial(t, addr)
		wg.Go(func() {
			c.send(req)
			for range 10 {
				c.reply()
			}
		})
	}
	ok := dial(t, addr)
	if got := string(ok.do("AUTH", "pw")); got != "+OK\r\n" {
		t.Errorf("the right password among parallel wrong ones: %q", got)
	}
	wg.Wait()
	if d := time.Since(start); d < 90*10*time.Millisecond {
		t.Errorf("100 wrong passwords on 10 connections at once answered in %v: guessing in parallel is not slowed", d)
	}
}

package server_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestGetDelLikeRedis: GETDEL of values of 0, 1, 64 KiB-1,
// 64 KiB and 1 MiB+1 bytes in each tier (cold also raw, through
// StoreFrom), pipelined with other commands, inside MULTI/EXEC and under
// RESP3, answers as redis-server answers the same commands for the value
// stored with SET.
func TestGetDelLikeRedis(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, m := startTiermem(t, nil)
	rc, tc := dial(t, redisAddr), dial(t, tmAddr)
	sizes := []int{0, 1, 64<<10 - 1, 64 << 10, 1<<20 + 1}
	type place struct {
		name string
		put  func(key string, v []byte) error
	}
	places := []place{}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		places = append(places, place{tr.String(), func(k string, v []byte) error { return m.Store(k, v, tiermem.InTier(tr)) }})
	}
	places = append(places, place{"cold-raw", func(k string, v []byte) error {
		return m.StoreFrom(k, bytes.NewReader(v), int64(len(v)), tiermem.InTier(tiermem.Cold))
	}})
	for _, p := range places {
		for i, n := range sizes {
			v := make([]byte, n)
			rand.NewChaCha8([32]byte{byte(i), 7}).Read(v)
			for _, mode := range []string{"plain", "multi", "resp3"} {
				key := fmt.Sprintf("k-%s-%d-%s", p.name, n, mode)
				if err := p.put(key, v); err != nil {
					t.Fatal(err)
				}
				rc.do("SET", key, string(v))
				var cmds [][]string
				switch mode {
				case "plain":
					cmds = [][]string{{"GETDEL", key}, {"SET", "x", "1"}, {"GETDEL", key}, {"EXISTS", key}, {"GET", "x"}}
				case "multi":
					cmds = [][]string{{"MULTI"}, {"GETDEL", key}, {"GET", key}, {"GETDEL", key}, {"EXEC"}, {"EXISTS", key}}
				case "resp3":
					cmds = [][]string{{"HELLO", "3"}, {"GETDEL", key}, {"GETDEL", key}, {"HELLO", "2"}}
				}
				var req []byte
				for _, c := range cmds {
					req = append(req, encode(c...)...)
				}
				rc.send(req)
				tc.send(req)
				for j, c := range cmds {
					w, g := rc.reply(), tc.reply()
					if c[0] == "HELLO" {
						continue
					}
					if !bytes.Equal(w, g) {
						t.Errorf("%s %d bytes %s, step %d %v: redis %d bytes %q..., tiermem %d bytes %q...",
							p.name, n, mode, j, c[0], len(w), w[:min(len(w), 40)], len(g), g[:min(len(g), 40)])
					}
				}
			}
		}
	}
}

// TestGetDelFailsAWatch: a GETDEL of a watched key by another client
// aborts the EXEC, as in redis-server, for a small and a large value. (A
// GETDEL of an absent watched key aborts it too, where Redis's EXEC runs:
// documented in watchList.touch as the conservative side, so not checked.)
func TestGetDelFailsAWatch(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, nil)
	for _, n := range []int{5, 1 << 20} {
		for _, present := range []bool{true} {
			var replies [2][]byte
			for i, addr := range []string{redisAddr, tmAddr} {
				a, b := dial(t, addr), dial(t, addr)
				a.do("DEL", "w")
				if present {
					a.do("SET", "w", string(bytes.Repeat([]byte{'v'}, n)))
				}
				a.do("WATCH", "w")
				b.do("GETDEL", "w")
				a.do("MULTI")
				a.do("SET", "other", "1")
				replies[i] = a.do("EXEC")
			}
			if !bytes.Equal(replies[0], replies[1]) {
				t.Errorf("%d bytes, present %v: EXEC after another client's GETDEL: redis %q, tiermem %q", n, present, replies[0], replies[1])
			}
		}
	}
}

// TestGetDelToAClientThatLeaves: pipelined GETDELs of large warm values
// from a client that closes its connection without reading: the server
// closes the readers the replies held, and warm's Held memory goes back
// to 0 (no mapping kept for a reply never sent).
func TestGetDelToAClientThatLeaves(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	v := bytes.Repeat([]byte{'w'}, 3<<20)
	var req []byte
	for i := range 4 {
		k := fmt.Sprint("big", i)
		if err := m.Store(k, v, tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
		req = append(req, encode("GETDEL", k)...)
		req = append(req, encode("SET", "x", strconv.Itoa(i))...)
	}
	c := dial(t, addr)
	c.send(req)
	c.nc.(interface{ SetLinger(int) error }).SetLinger(0)
	c.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u := m.Usage()[tiermem.Warm]
		if u.Held == 0 { // the commands after the failed write never run: keys may stay
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("warm after the client left: %d items, %d bytes held", u.Items, u.Held)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

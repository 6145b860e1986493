package server_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestTierDiffPipelinedChanges pipelines, in one write, reads of values
// that lie in a lower tier (some sent from where they lie, in pieces)
// followed by commands that change or delete those values (tiermem moves
// the value back down before each command): each reply
// must be the value as it was when its command ran, as Redis's is.
func TestTierDiffPipelinedChanges(t *testing.T) {
	p := newTierPair(t, nil)
	sizes := []int{10, 64 << 10, 1<<20 - 1, 1 << 20, 1<<20 + 1}
	for _, tier := range append([]string{"hot"}, diffTiers...) {
		t.Run(tier, func(t *testing.T) {
			want, got := dial(t, p.redis), dial(t, p.tm)
			want.do("FLUSHALL")
			got.do("FLUSHALL")
			var keys []string
			for i, n := range sizes {
				k := fmt.Sprintf("v%d", n)
				keys = append(keys, k)
				v := tierRandom(n, uint64(i+10))
				if i%2 == 1 {
					v = strings.Repeat(fmt.Sprintf("%d-", i), n/2) + strings.Repeat("z", n%2)
				}
				for _, c := range []*client{want, got} {
					if r := string(c.do("SET", k, v)); r != "+OK\r\n" {
						t.Fatalf("SET %s: %q", k, r)
					}
				}
				moveTo(t, got, k, tier, true)
			}
			var pipe [][]string
			for _, k := range keys {
				pipe = append(pipe,
					[]string{"GET", k}, []string{"SETRANGE", k, "0", "CHANGED"}, []string{"GET", k}, []string{"MGET", k, "nosuch", k},
					[]string{"GETRANGE", k, "-5", "-1"}, []string{"APPEND", k, "END"}, []string{"GETEX", k, "EX", "100"},
					[]string{"GETDEL", k}, []string{"GET", k}, []string{"SET", k, "after"}, []string{"GET", k}, []string{"STRLEN", k})
			}
			// tiermem's pipeline moves the key back to the tier before each
			// command, while the replies before it may still be unsent.
			var frame, tmFrame []byte
			for _, args := range pipe {
				frame = append(frame, encode(args...)...)
				tmFrame = append(tmFrame, encode("TIER.MOVE", args[1], tier)...)
				tmFrame = append(tmFrame, encode(args...)...)
			}
			want.send(frame)
			got.send(tmFrame)
			for i, args := range pipe {
				if r := string(got.reply()); r != "+OK\r\n" && r != "-ERR no such key\r\n" {
					t.Errorf("TIER.MOVE %s %s = %q", args[1], tier, r)
				}
				w, g := want.reply(), got.reply()
				if !bytes.Equal(w, g) {
					t.Errorf("[%s] pipelined command %d %.40q:\n redis:   %q\n tiermem: %q", tier, i, args, trimReply(w), trimReply(g))
				}
			}
		})
	}
}

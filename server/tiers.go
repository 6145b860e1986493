package server

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem"
)

// tierCommands are tiermem's own, namespaced so that they never collide
// with Redis's.
func tierCommands() []*command {
	r, w := readonly, write
	return []*command{
		{name: "tier.get", arity: 2, flags: r, run: cmdTierGet, first: 1, last: 1, step: 1},
		// A move may wait for room (transfer); in an EXEC, which runs
		// alone, every client would wait with it: refused inside MULTI.
		{name: "tier.move", arity: 3, flags: w | noMulti, run: cmdTierMove, first: 1, last: 1, step: 1},
		{name: "tier.copy", arity: 3, flags: w | noMulti, run: cmdTierCopy, first: 1, last: 1, step: 1},
		{name: "tier.pin", arity: 2, flags: w, run: cmdTierPin, first: 1, last: 1, step: 1},
		{name: "tier.unpin", arity: 2, flags: w, run: cmdTierUnpin, first: 1, last: 1, step: 1},
		{name: "tier.usage", arity: 1, flags: r, run: cmdTierUsage},
		{name: "tier.stats", arity: 1, flags: r, run: cmdTierStats},
		{name: "tier.migrate", arity: 1, flags: w, run: cmdTierMigrate},
	}
}

// TIER.GET key: the fastest tier that holds key ("hot", "warm", "cold",
// "glacier"), or null.
func cmdTierGet(c *conn, args [][]byte) {
	t, err := c.s.m.Tier(keyString(args[1]))
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.null()
	case err != nil:
		c.managerError(err)
	default:
		c.out.bulkString(t.String())
	}
}

// TIER.MOVE key tier: +OK, or "-ERR no such key".
func cmdTierMove(c *conn, args [][]byte) { c.transfer(args, c.s.m.Move) }

// TIER.COPY key tier: a copy in tier, the original kept.
func cmdTierCopy(c *conn, args [][]byte) { c.transfer(args, c.s.m.Copy) }

func (c *conn) transfer(args [][]byte, op func(string, tiermem.Tier) error) {
	t, err := tiermem.ParseTier(string(args[2]))
	if err != nil {
		c.out.errorf(fmt.Sprintf("unknown tier '%s' (want hot, warm, cold or glacier)", cString(args[2], 64)))
		return
	}
	c.release() // a move may wait for room that streams hold: the other clients run meanwhile
	c.okOrNoSuchKey(op(keyString(args[1]), t))
}

// TIER.PIN key and TIER.UNPIN key: 1, or 0 for no such key.
func cmdTierPin(c *conn, args [][]byte)   { c.pin(c.s.m.Pin, args[1]) }
func cmdTierUnpin(c *conn, args [][]byte) { c.pin(c.s.m.Unpin, args[1]) }

func (c *conn) pin(op func(string) error, key []byte) {
	err := op(keyString(key))
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.int(0)
	case err != nil:
		c.managerError(err)
	default:
		c.out.int(1)
	}
}

// tierNames are the tiers in order, as TIER.USAGE and TIER.STATS list them.
var tierNames = []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}

// TIER.USAGE: a map from each tier to a map of used, capacity (bytes),
// percent, items, held (bytes of values that left the tier that readers
// still hold) and streaming (bytes its budget holds for values being
// streamed in).
func cmdTierUsage(c *conn, _ [][]byte) {
	u := c.s.m.Usage()
	c.out.mapOf(len(tierNames))
	for _, t := range tierNames {
		c.out.bulkString(t.String())
		c.out.mapOf(6)
		c.out.bulkString("used")
		c.out.int(u[t].Used)
		c.out.bulkString("capacity")
		c.out.int(u[t].Capacity)
		c.out.bulkString("percent")
		c.out.double(u[t].Percent)
		c.out.bulkString("items")
		c.out.int(u[t].Items)
		c.out.bulkString("held")
		c.out.int(u[t].Held)
		c.out.bulkString("streaming")
		c.out.int(u[t].Streaming)
	}
}

// TIER.STATS: a map from each tier to its promotions, demotions,
// evictions and expirations, then passes and failed_passes.
func cmdTierStats(c *conn, _ [][]byte) {
	s := c.s.m.Stats()
	c.out.mapOf(len(tierNames) + 2)
	for _, t := range tierNames {
		c.out.bulkString(t.String())
		c.out.mapOf(4)
		c.out.bulkString("promotions")
		c.out.int(s.Tiers[t].Promotions)
		c.out.bulkString("demotions")
		c.out.int(s.Tiers[t].Demotions)
		c.out.bulkString("evictions")
		c.out.int(s.Tiers[t].Evictions)
		c.out.bulkString("expirations")
		c.out.int(s.Tiers[t].Expirations)
	}
	c.out.bulkString("passes")
	c.out.int(s.Passes)
	c.out.bulkString("failed_passes")
	c.out.int(s.FailedPasses)
}

// TIER.MIGRATE: run a migration pass now; +OK or its error.
func cmdTierMigrate(c *conn, _ [][]byte) {
	if err := c.s.m.Migrate(); err != nil {
		c.managerError(err)
		return
	}
	c.out.ok()
}

package server

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tiermem/tiermem"
)

func keyCommands() []*command {
	r, w := readonly, write
	return []*command{
		{name: "del", arity: -2, flags: w, run: cmdDel, first: 1, last: -1, step: 1},
		{name: "unlink", arity: -2, flags: w, run: cmdDel, first: 1, last: -1, step: 1},
		{name: "exists", arity: -2, flags: r, run: cmdExists, first: 1, last: -1, step: 1},
		{name: "touch", arity: -2, flags: r, run: cmdTouch, first: 1, last: -1, step: 1},
		{name: "randomkey", arity: 1, flags: r, run: cmdRandomKey},
		{name: "type", arity: 2, flags: r, run: cmdType, first: 1, last: 1, step: 1},
		{name: "expire", arity: -3, flags: w, run: cmdExpire, first: 1, last: 1, step: 1},
		{name: "pexpire", arity: -3, flags: w, run: cmdPExpire, first: 1, last: 1, step: 1},
		{name: "expireat", arity: -3, flags: w, run: cmdExpireAt, first: 1, last: 1, step: 1},
		{name: "pexpireat", arity: -3, flags: w, run: cmdPExpireAt, first: 1, last: 1, step: 1},
		{name: "ttl", arity: 2, flags: r, run: cmdTTL, first: 1, last: 1, step: 1},
		{name: "pttl", arity: 2, flags: r, run: cmdPTTL, first: 1, last: 1, step: 1},
		{name: "expiretime", arity: 2, flags: r, run: cmdExpireTime, first: 1, last: 1, step: 1},
		{name: "pexpiretime", arity: 2, flags: r, run: cmdPExpireTime, first: 1, last: 1, step: 1},
		{name: "persist", arity: 2, flags: w, run: cmdPersist, first: 1, last: 1, step: 1},
		{name: "scan", arity: -2, flags: r, run: cmdScan},
		{name: "keys", arity: 2, flags: r, run: cmdKeys},
		{name: "dbsize", arity: 1, flags: r, run: cmdDBSize},
		{name: "flushdb", arity: -1, flags: w | allKeys, run: cmdFlush},
		{name: "flushall", arity: -1, flags: w | allKeys, run: cmdFlush},
		{name: "rename", arity: 3, flags: w, run: cmdRename, first: 1, last: 2, step: 1},
		{name: "renamenx", arity: 3, flags: w, run: cmdRenameNX, first: 1, last: 2, step: 1},
		{name: "copy", arity: -3, flags: w, run: cmdCopy, first: 1, last: 2, step: 1},
		{name: "object", arity: -2, flags: r, run: cmdObject, subs: objectSubcommands},
	}
}

func cmdDel(c *conn, args [][]byte) { c.countFound(args[1:], c.s.m.DeleteBytes) }

// countFound runs op on each key and replies how many it found (returned
// nil for), or the first error other than ErrNotFound.
func (c *conn) countFound(keys [][]byte, op func(key []byte) error) {
	n := int64(0)
	for _, key := range keys {
		err := op(key)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, tiermem.ErrNotFound):
			c.managerError(err)
			return
		}
	}
	c.out.int(n)
}

// exists reports whether key holds a value, or replies an error.
func (c *conn) exists(key []byte) (found, ok bool) {
	_, err := c.s.m.Tier(keyString(key))
	switch {
	case err == nil:
		return true, true
	case errors.Is(err, tiermem.ErrNotFound):
		return false, true
	}
	c.managerError(err)
	return false, false
}

func cmdExists(c *conn, args [][]byte) {
	n := int64(0)
	for _, key := range args[1:] {
		found, ok := c.exists(key)
		if !ok {
			return
		}
		if found {
			n++
		}
	}
	c.out.int(n)
}

// cmdTouch records a use of each key (Manager.Touch: its tier's policy, its
// read count and promotion, as a read's) and replies how many exist.
func cmdTouch(c *conn, args [][]byte) {
	c.countFound(args[1:], func(key []byte) error { return c.s.m.Touch(keyString(key)) })
}

// cmdRandomKey replies the first key at or after a random point of the
// hash order (wrapping around), or null when there is none.
func cmdRandomKey(c *conn, _ [][]byte) {
	for _, cursor := range []uint64{rand.Uint64(), 0} {
		keys, _, err := c.s.m.Scan(cursor, "", 1)
		if err != nil {
			c.managerError(err)
			return
		}
		if len(keys) > 0 {
			c.out.bulkString(keys[0])
			return
		}
	}
	c.out.null()
}

func cmdType(c *conn, args [][]byte) {
	if found, ok := c.exists(args[1]); ok && found {
		c.out.status("string")
	} else if ok {
		c.out.status("none")
	}
}

func cmdExpire(c *conn, args [][]byte)    { c.expire(args, "expire", time.Now().UnixMilli(), 1000) }
func cmdPExpire(c *conn, args [][]byte)   { c.expire(args, "pexpire", time.Now().UnixMilli(), 1) }
func cmdExpireAt(c *conn, args [][]byte)  { c.expire(args, "expireat", 0, 1000) }
func cmdPExpireAt(c *conn, args [][]byte) { c.expire(args, "pexpireat", 0, 1) }

// The options of the EXPIRE family.
const (
	expNX = 1 << iota
	expXX
	expGT
	expLT
)

// expire is Redis 7.0's expireGenericCommand: key, a time in unit ms from
// base (0 for an absolute one), and NX, XX, GT or LT.
func (c *conn) expire(args [][]byte, name string, base, unit int64) {
	flags := 0
	for _, opt := range args[3:] {
		switch {
		case equalFold(opt, "nx"):
			flags |= expNX
		case equalFold(opt, "xx"):
			flags |= expXX
		case equalFold(opt, "gt"):
			flags |= expGT
		case equalFold(opt, "lt"):
			flags |= expLT
		default:
			c.out.errorf(fmt.Sprintf("Unsupported option %s", cString(opt, len(opt))))
			return
		}
	}
	if flags&expNX != 0 && flags&(expXX|expGT|expLT) != 0 {
		c.out.errorf("NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expGT != 0 && flags&expLT != 0 {
		c.out.errorf("GT and LT options at the same time are not compatible")
		return
	}
	when, ok := parseInt(args[2])
	if !ok {
		c.out.error(errNotInt)
		return
	}
	if unit == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.out.errorf(fmt.Sprintf("invalid expire time in '%s' command", name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.out.errorf(fmt.Sprintf("invalid expire time in '%s' command", name))
		return
	}
	when += base
	changed := false
	err := c.s.m.UpdateHeader(keyString(args[1]), func(e *tiermem.Entry) (bool, error) {
		changed = false
		if !e.Found {
			return false, errUnchanged
		}
		current := int64(-1)
		if !e.Expires.IsZero() {
			current = e.Expires.UnixMilli()
		}
		if flags&expNX != 0 && current != -1 || flags&expXX != 0 && current == -1 ||
			flags&expGT != 0 && (when <= current || current == -1) ||
			flags&expLT != 0 && current != -1 && when >= current {
			return false, errUnchanged
		}
		changed = true
		e.Expires = time.UnixMilli(when) // at or before now: deleted
		return true, nil
	})
	if c.updateError(err) {
		c.out.bool(changed)
	}
}

func cmdTTL(c *conn, args [][]byte)         { c.ttl(args[1], false, false) }
func cmdPTTL(c *conn, args [][]byte)        { c.ttl(args[1], true, false) }
func cmdExpireTime(c *conn, args [][]byte)  { c.ttl(args[1], false, true) }
func cmdPExpireTime(c *conn, args [][]byte) { c.ttl(args[1], true, true) }

// ttl is Redis's ttlGenericCommand: -2 for no key, -1 for no TTL, else
// the time left (or the expiry, abs) in ms or rounded seconds.
func (c *conn) ttl(key []byte, ms, abs bool) {
	at, err := c.s.m.ExpireTime(keyString(key))
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.int(-2)
		return
	case err != nil:
		c.managerError(err)
		return
	case at.IsZero():
		c.out.int(-1)
		return
	}
	t := at.UnixMilli()
	if !abs {
		t -= time.Now().UnixMilli()
	}
	t = max(t, 0)
	if !ms {
		t = (t + 500) / 1000
	}
	c.out.int(t)
}

func cmdPersist(c *conn, args [][]byte) {
	had, err := c.s.m.Persist(keyString(args[1]))
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.int(0)
	case err != nil:
		c.managerError(err)
	default:
		c.out.bool(had)
	}
}

// parseCursor is what Redis's strtoul-based cursor parse accepts: an
// optional sign, decimal digits, no blank, no overflow; "-n" wraps as in C.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, len(b) == 0 // strtoul of "" is 0 with nothing left over
	}
	neg := b[0] == '-'
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil || len(b) == 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func cmdScan(c *conn, args [][]byte) {
	cursor, ok := parseCursor(args[1])
	if !ok {
		c.out.errorf("invalid cursor")
		return
	}
	count, pattern, typ := int64(10), "", []byte(nil)
	none := false // MATCH "": no key is empty, so none matches, as in Redis
	for i := 2; i < len(args); i += 2 {
		if len(args)-i < 2 {
			c.out.error(errSyntax)
			return
		}
		switch opt := args[i]; {
		case equalFold(opt, "count"):
			if count, ok = parseInt(args[i+1]); !ok {
				c.out.error(errNotInt)
				return
			}
			if count < 1 {
				c.out.error(errSyntax)
				return
			}
		case equalFold(opt, "match"):
			pattern, none = string(args[i+1]), len(args[i+1]) == 0
		case equalFold(opt, "type"):
			typ = args[i+1]
		default:
			c.out.error(errSyntax)
			return
		}
	}
	if pattern == "*" {
		pattern = ""
	}
	keys, next, err := c.s.m.Scan(cursor, pattern, int(min(count, 1<<20)))
	if err != nil {
		c.managerError(err)
		return
	}
	if none || typ != nil && !equalFold(typ, "string") {
		keys = nil // every key holds a string
	}
	c.out.array(2)
	c.out.bulkString(strconv.FormatUint(next, 10))
	c.out.array(len(keys))
	for _, k := range keys {
		c.out.bulkString(k)
	}
}

func cmdKeys(c *conn, args [][]byte) {
	pattern := string(args[1])
	if pattern == "" { // no key is empty: none matches, as in Redis
		c.out.array(0)
		return
	}
	if pattern == "*" {
		pattern = ""
	}
	var all []string
	var cursor uint64
	for {
		keys, next, err := c.s.m.Scan(cursor, pattern, 1<<16)
		if err != nil {
			c.managerError(err)
			return
		}
		all = append(all, keys...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	c.out.array(len(all))
	for _, k := range all {
		c.out.bulkString(k)
	}
}

func cmdDBSize(c *conn, _ [][]byte) {
	n, err := c.s.m.Len()
	if err != nil {
		c.managerError(err)
		return
	}
	c.out.int(n)
}

func cmdFlush(c *conn, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async") {
		c.out.error(errSyntax)
		return
	}
	if err := c.s.m.Clear(); err != nil {
		c.managerError(err)
		return
	}
	c.out.ok()
}

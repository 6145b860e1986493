package server

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tiermem/tiermem"
)

func stringCommands() []*command {
	r, w := readonly, write
	return []*command{
		{name: "get", arity: 2, flags: r, run: cmdGet, first: 1, last: 1, step: 1},
		{name: "set", arity: -3, flags: w, run: cmdSet, first: 1, last: 1, step: 1},
		{name: "setnx", arity: 3, flags: w, run: cmdSetNX, first: 1, last: 1, step: 1},
		{name: "setex", arity: 4, flags: w, run: cmdSetEX, first: 1, last: 1, step: 1},
		{name: "psetex", arity: 4, flags: w, run: cmdPSetEX, first: 1, last: 1, step: 1},
		{name: "getdel", arity: 2, flags: w, run: cmdGetDel, first: 1, last: 1, step: 1},
		{name: "getex", arity: -2, flags: w, run: cmdGetEX, first: 1, last: 1, step: 1},
		{name: "getset", arity: 3, flags: w, run: cmdGetSet, first: 1, last: 1, step: 1},
		{name: "mget", arity: -2, flags: r, run: cmdMGet, first: 1, last: -1, step: 1},
		{name: "mset", arity: -3, flags: w, run: cmdMSet, first: 1, last: -1, step: 2},
		{name: "msetnx", arity: -3, flags: w, run: cmdMSetNX, first: 1, last: -1, step: 2},
		{name: "strlen", arity: 2, flags: r, run: cmdStrlen, first: 1, last: 1, step: 1},
		{name: "getrange", arity: 4, flags: r, run: cmdGetRange, first: 1, last: 1, step: 1},
		{name: "setrange", arity: 4, flags: w, run: cmdSetRange, first: 1, last: 1, step: 1},
		{name: "append", arity: 3, flags: w, run: cmdAppend, first: 1, last: 1, step: 1},
		{name: "incr", arity: 2, flags: w, run: cmdIncr, first: 1, last: 1, step: 1},
		{name: "decr", arity: 2, flags: w, run: cmdDecr, first: 1, last: 1, step: 1},
		{name: "incrby", arity: 3, flags: w, run: cmdIncrBy, first: 1, last: 1, step: 1},
		{name: "decrby", arity: 3, flags: w, run: cmdDecrBy, first: 1, last: 1, step: 1},
		{name: "incrbyfloat", arity: 3, flags: w, run: cmdIncrByFloat, first: 1, last: 1, step: 1},
	}
}

// getReply writes the value a ViewShared shows as a bulk reply: bound once
// per connection, so that a GET allocates nothing. A value the Manager
// shares (a large hot one) is queued where it lies, not copied into the
// connection's buffer.
type getReply struct {
	c  *conn
	fn func(value []byte, shared bool) error // write
}

func (g *getReply) write(value []byte, shared bool) error {
	if shared {
		g.c.out.bulkShared(value)
	} else {
		g.c.out.bulk(value)
	}
	return nil
}

// get replies key's value, or null. A value over tiermem.SmallValueMax
// that its tier does not share is sent in pieces (getLarge).
func (c *conn) get(key []byte) {
	err := c.s.m.ViewBytesSharedSmall(key, c.fromGet.fn)
	switch {
	case err == nil:
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.null()
	case errors.Is(err, tiermem.ErrTooLarge):
		c.getLarge(key)
	default:
		c.managerError(err)
	}
}

// getLarge replies a large value through a ValueReader: an uncompressed
// warm one read where it lies, a raw cold one verified against its
// checksum now (so that a corrupt value is an error reply, not a cut
// connection) and read from disk as it is sent; a compressed one is
// decompressed into memory once (see OpenValue). None is copied into the
// connection's buffer.
func (c *conn) getLarge(key []byte) {
	v, err := c.s.m.OpenValue(string(key))
	switch {
	case err == nil && v.Size() > math.MaxInt: // a 32-bit platform
		v.Close()
		c.out.errorf(fmt.Sprintf("a value of %d bytes is more than this server's platform can send", v.Size()))
	case err == nil:
		c.out.bulkReader(v)
	case errors.Is(err, tiermem.ErrNotFound): // deleted meanwhile
		c.out.null()
	default:
		c.managerError(err)
	}
}

func cmdGet(c *conn, args [][]byte) { c.get(args[1]) }

// The options of SET and GETEX, as Redis's parseExtendedStringArguments.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT
)

const optExpire = optEX | optPX | optEXAT | optPXAT

// parseStringOptions parses SET's options (set) or GETEX's, and returns
// them and the expiry argument; false for a syntax error.
func parseStringOptions(args [][]byte, set bool) (int, []byte, bool) {
	flags := 0
	var expire []byte
	for j := 0; j < len(args); j++ {
		opt, hasNext := args[j], j+1 < len(args)
		noTTL := flags&(optKeepTTL|optPersist) == 0
		switch {
		case set && equalFold(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case set && equalFold(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case set && equalFold(opt, "get"):
			flags |= optGet
		case set && equalFold(opt, "keepttl") && flags&(optPersist|optExpire) == 0:
			flags |= optKeepTTL
		case !set && equalFold(opt, "persist") && flags&(optExpire|optKeepTTL) == 0:
			flags |= optPersist
		case equalFold(opt, "ex") && noTTL && flags&(optEXAT|optPX|optPXAT) == 0 && hasNext:
			flags |= optEX
		case equalFold(opt, "px") && noTTL && flags&(optEX|optEXAT|optPXAT) == 0 && hasNext:
			flags |= optPX
		case equalFold(opt, "exat") && noTTL && flags&(optEX|optPX|optPXAT) == 0 && hasNext:
			flags |= optEXAT
		case equalFold(opt, "pxat") && noTTL && flags&(optEX|optEXAT|optPX) == 0 && hasNext:
			flags |= optPXAT
		default:
			return 0, nil, false
		}
		if flags&optExpire != 0 && (equalFold(opt, "ex") || equalFold(opt, "px") || equalFold(opt, "exat") || equalFold(opt, "pxat")) {
			expire = args[j+1]
			j++
		}
	}
	return flags, expire, true
}

// expireMillis turns an expiry argument into Unix milliseconds, as Redis's
// getExpireMillisecondsOrReply, or replies the error.
func (c *conn) expireMillis(name string, flags int, arg []byte) (int64, bool) {
	ms, ok := parseInt(arg)
	if !ok {
		c.out.error(errNotInt)
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
		c.out.errorf(fmt.Sprintf("invalid expire time in '%s' command", name))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		ms += time.Now().UnixMilli() // wraps on overflow, as Redis's does, and is caught below
	}
	if ms <= 0 {
		c.out.errorf(fmt.Sprintf("invalid expire time in '%s' command", name))
		return 0, false
	}
	return ms, true
}

func cmdSet(c *conn, args [][]byte) {
	if c.value != nil {
		c.setStreamed(args[1], c.value)
		return
	}
	flags, expire, ok := parseStringOptions(args[3:], true)
	if !ok {
		c.out.error(errSyntax)
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.expireMillis("set", flags, expire); !ok {
			return
		}
	}
	if flags == 0 {
		if err := c.s.m.StoreBytes(args[1], args[2]); err != nil {
			c.managerError(err)
			return
		}
		c.out.ok()
		return
	}
	r, ok := c.set(args[1], args[2], flags, at)
	switch {
	case !ok:
	case flags&optGet != 0 && r.found:
		c.out.bulkOwned(r.old)
	case flags&optGet != 0, r.aborted:
		c.out.null()
	default:
		c.out.ok()
	}
}

// setResult is what a conditional SET found and did.
type setResult struct {
	old     []byte
	found   bool
	aborted bool // NX or XX stopped it
}

// set stores value under key with SET's flags and an expiry in Unix ms (0:
// none), replacing the key's TTL and pin unless KEEPTTL. It reports false
// after replying an error.
func (c *conn) set(key, value []byte, flags int, at int64) (setResult, bool) {
	var r setResult
	err := c.s.m.UpdateEntry(keyString(key), func(e *tiermem.Entry) (bool, error) {
		r = setResult{old: e.Value, found: e.Found}
		if flags&optNX != 0 && e.Found || flags&optXX != 0 && !e.Found {
			r.aborted = true
			return false, errUnchanged
		}
		e.Value, e.Pinned = value, false
		if flags&optKeepTTL == 0 {
			e.Expires = time.Time{}
			if at != 0 {
				e.Expires = time.UnixMilli(at)
			}
		}
		return true, nil
	})
	return r, c.updateError(err)
}

func cmdSetNX(c *conn, args [][]byte) {
	if r, ok := c.set(args[1], args[2], optNX, 0); ok {
		c.out.bool(!r.aborted)
	}
}

func cmdSetEX(c *conn, args [][]byte)  { c.setExpiring(args, "setex", optEX) }
func cmdPSetEX(c *conn, args [][]byte) { c.setExpiring(args, "psetex", optPX) }

// setExpiring is SETEX and PSETEX: key, a relative expiry, value.
func (c *conn) setExpiring(args [][]byte, name string, unit int) {
	at, ok := c.expireMillis(name, unit, args[2])
	if !ok {
		return
	}
	if _, ok := c.set(args[1], args[3], unit, at); ok {
		c.out.ok()
	}
}

// cmdGetDel takes the value and deletes the key in one step
// (Manager.TakeValue): a large value is sent from where it lay, in pieces,
// never copied into the connection's buffer.
// A value taken whose delete could not be made durable (a glacier copy,
// with durability on) is sent all the same, as the key reads as deleted,
// and the error logged.
func cmdGetDel(c *conn, args [][]byte) {
	v, err := c.s.m.TakeValue(keyString(args[1]))
	switch {
	case v != nil:
		if err != nil {
			c.s.log.Warn("server: GETDEL", "error", err)
		}
		if err := c.out.bulkValue(v); err != nil {
			c.managerError(err)
		}
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.null()
	default:
		c.managerError(err)
	}
}

// replyOld replies the value an update found (Entry.Value: a copy the
// reply may keep), or null.
func (c *conn) replyOld(old []byte, found bool) {
	if found {
		c.out.bulkOwned(old)
	} else {
		c.out.null()
	}
}

func cmdGetSet(c *conn, args [][]byte) {
	if r, ok := c.set(args[1], args[2], optGet, 0); ok {
		c.replyOld(r.old, r.found)
	}
}

func cmdGetEX(c *conn, args [][]byte) {
	flags, expire, ok := parseStringOptions(args[2:], false)
	if !ok {
		c.out.error(errSyntax)
		return
	}
	var at int64
	if expire != nil {
		// Redis looks the key up before it reads the expiry: a missing
		// key is a null reply, whatever the expiry says.
		if _, err := c.s.m.Tier(keyString(args[1])); errors.Is(err, tiermem.ErrNotFound) {
			c.out.null()
			return
		}
		if at, ok = c.expireMillis("getex", flags, expire); !ok {
			return
		}
	}
	if flags == 0 {
		c.get(args[1])
		return
	}
	found := false
	change := func(e *tiermem.Entry) (bool, error) {
		if found = e.Found; !found {
			return false, nil
		}
		if flags&optPersist != 0 {
			e.Expires = time.Time{}
		} else {
			e.Expires = time.UnixMilli(at)
		}
		return true, nil
	}
	// A value of up to 1 MiB, or a hot one the tier lends, is replied as
	// GET replies it; a larger one in warm's own mapping or raw in cold is
	// opened where it lies as its TTL changes and sent in pieces, as GET
	// sends it: never copied whole.
	v, err := c.s.m.UpdateHeaderViewLarge(keyString(args[1]), change, c.fromGet.fn)
	switch {
	case err != nil:
		c.updateError(err)
	case v != nil:
		if err := c.out.bulkValue(v); err != nil {
			c.managerError(err)
		}
	case !found:
		c.out.null()
	}
}

func cmdMGet(c *conn, args [][]byte) {
	keys := args[1:]
	c.out.array(len(keys))
	for i, key := range keys {
		if i%prepareWindow == 0 && len(keys) > 1 {
			c.s.m.PrepareLookups(keys[i:min(i+prepareWindow, len(keys))])
		}
		c.get(key)
		if c.limitOutput() {
			return
		}
	}
}

func cmdMSet(c *conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.out.errorf("wrong number of arguments for 'mset' command")
		return
	}
	c.alone(func() {
		if c.msetLocked(args) {
			c.out.ok()
		}
	})
}

// msetLocked stores every pair or none (Manager.StoreMany), with no other
// command running.
func (c *conn) msetLocked(args [][]byte) bool {
	n := len(args) / 2
	c.pairs = slices.Grow(c.pairs[:0], 2*n)[:2*n]
	keys, values := c.pairs[:n], c.pairs[n:]
	for i := range n {
		keys[i], values[i] = args[1+2*i], args[2+2*i]
	}
	err := c.s.m.StoreMany(keys, values)
	clear(c.pairs) // no reference to the read buffer past the command
	if cap(c.pairs) > 1024 {
		c.pairs = nil // a rare huge MSET's slice is not kept for the connection's life
	}
	if err != nil {
		c.managerError(err)
		return false
	}
	return true
}

func cmdMSetNX(c *conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.out.errorf("wrong number of arguments for 'msetnx' command")
		return
	}
	c.alone(func() {
		for i := 1; i < len(args); i += 2 {
			_, err := c.s.m.Tier(keyString(args[i]))
			if err == nil {
				c.out.int(0)
				return
			}
			if !errors.Is(err, tiermem.ErrNotFound) {
				c.managerError(err)
				return
			}
		}
		if c.msetLocked(args) {
			c.out.int(1)
		}
	})
}

// cmdStrlen and cmdGetRange view a small value where it lies, as GET
// does (ViewSharedSmall), and open a large one (OpenValueDeferred) rather
// than load it: a large cold value stored raw answers STRLEN from the cold
// tier's index and GETRANGE from the bytes asked for, after a verifying
// pass through a small buffer, never loaded whole; a large hot or warm
// value is read where it lies.
func cmdStrlen(c *conn, args [][]byte) {
	n := int64(0)
	err := c.s.m.ViewBytesSharedSmall(args[1], func(v []byte, _ bool) error {
		n = int64(len(v))
		return nil
	})
	if errors.Is(err, tiermem.ErrTooLarge) {
		var v *tiermem.ValueReader
		if v, err = c.s.m.OpenValueDeferred(keyString(args[1])); err == nil {
			n = v.Size()
			v.Close()
		}
	}
	if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
		c.managerError(err)
		return
	}
	c.out.int(n)
}

func cmdGetRange(c *conn, args [][]byte) {
	start, ok1 := parseInt(args[2])
	end, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.out.error(errNotInt)
		return
	}
	err := c.s.m.ViewBytesSharedSmall(args[1], func(v []byte, _ bool) error {
		from, to := substrRange(int64(len(v)), start, end)
		c.out.bulk(v[from:to])
		return nil
	})
	switch {
	case errors.Is(err, tiermem.ErrTooLarge):
		c.getRangeOpened(args[1], start, end)
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.bulk(nil)
	case err != nil:
		c.managerError(err)
	}
}

// getRangeOpened replies GETRANGE of a large value from the bytes asked
// for: a range of ownedMin or more sent from the reader as the reply is
// written (after the value is verified, so that a corrupt one is an error
// reply), a shorter one read straight into the reply.
func (c *conn) getRangeOpened(key []byte, start, end int64) {
	v, err := c.s.m.OpenValueDeferred(keyString(key))
	switch {
	case errors.Is(err, tiermem.ErrNotFound): // deleted meanwhile
		c.out.bulk(nil)
		return
	case err != nil:
		c.managerError(err)
		return
	}
	from, to := substrRange(v.Size(), start, end)
	if to-from >= ownedMin && to-from <= math.MaxInt {
		if err := v.Verify(); err != nil {
			v.Close()
			c.managerError(err)
			return
		}
		c.out.bulkRange(v, from, to-from)
		return
	}
	defer v.Close()
	n := int(to - from)
	mark := len(c.out.b)
	c.out.bulkHeader(n)
	at := len(c.out.b)
	c.out.b = slices.Grow(c.out.b, n)[:at+n] // read straight into the reply
	if got, err := v.ReadAt(c.out.b[at:], from); got < n {
		c.out.b = c.out.b[:mark] // no partial reply
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: the value ended after %d of %d bytes", tiermem.ErrCorrupt, from+int64(got), to)
		}
		c.managerError(err)
		return
	}
	c.out.bulkEnd()
}

// substrRange returns GETRANGE's range [from, to) of a value of n bytes,
// as Redis 7.0 computes it.
func substrRange(n, start, end int64) (from, to int64) {
	if start < 0 && end < 0 && start > end {
		return 0, 0
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return 0, 0
	}
	return start, end + 1
}

func cmdSetRange(c *conn, args [][]byte) {
	offset, ok := parseInt(args[2])
	if !ok {
		c.out.error(errNotInt)
		return
	}
	if offset < 0 {
		c.out.errorf("offset is out of range")
		return
	}
	value := args[3]
	switch {
	case len(value) == 0: // nothing to write: the value's length, read as STRLEN reads it
		cmdStrlen(c, args[:2])
		return
	case offset > c.s.opts.MaxBulkLen-int64(len(value)): // refused before the value is read
		c.out.error(errStringSize)
		return
	}
	var n int
	err := c.s.m.Update(keyString(args[1]), func(old []byte, found bool) ([]byte, bool, error) {
		end := int(offset) + len(value)
		if end > len(old) {
			old = append(old, make([]byte, end-len(old))...)
		}
		copy(old[offset:], value)
		n = len(old)
		return old, true, nil
	})
	if c.updateError(err) {
		c.out.int(int64(n))
	}
}

func cmdAppend(c *conn, args [][]byte) {
	value := args[2]
	var n int
	err := c.s.m.Update(keyString(args[1]), func(old []byte, found bool) ([]byte, bool, error) {
		if found && int64(len(old))+int64(len(value)) > c.s.opts.MaxBulkLen {
			return nil, false, &replyError{errStringSize}
		}
		old = append(old, value...)
		n = len(old)
		return old, true, nil
	})
	if c.updateError(err) {
		c.out.int(int64(n))
	}
}

func cmdIncr(c *conn, args [][]byte) { c.incrBy(args[1], 1) }
func cmdDecr(c *conn, args [][]byte) { c.incrBy(args[1], -1) }

func cmdIncrBy(c *conn, args [][]byte) {
	if by, ok := parseInt(args[2]); ok {
		c.incrBy(args[1], by)
	} else {
		c.out.error(errNotInt)
	}
}

func cmdDecrBy(c *conn, args [][]byte) {
	by, ok := parseInt(args[2])
	switch {
	case !ok:
		c.out.error(errNotInt)
	case by == math.MinInt64:
		c.out.errorf("decrement would overflow")
	default:
		c.incrBy(args[1], -by)
	}
}

// incrBy adds by to key's integer, as Redis's incrDecrCommand.
func (c *conn) incrBy(key []byte, by int64) {
	var n int64
	err := c.s.m.Update(keyString(key), func(old []byte, found bool) ([]byte, bool, error) {
		v := int64(0)
		if found {
			var ok bool
			if v, ok = parseInt(old); !ok {
				return nil, false, &replyError{errNotInt}
			}
		}
		if by < 0 && v < 0 && by < math.MinInt64-v || by > 0 && v > 0 && by > math.MaxInt64-v {
			return nil, false, &replyError{"ERR increment or decrement would overflow"}
		}
		n = v + by
		return strconv.AppendInt(old[:0], n, 10), true, nil
	})
	if c.updateError(err) {
		c.out.int(n)
	}
}

func cmdIncrByFloat(c *conn, args [][]byte) {
	var out []byte
	err := c.s.m.Update(keyString(args[1]), func(old []byte, found bool) ([]byte, bool, error) {
		v := parseLongDouble([]byte("0"))
		if found {
			v = parseLongDouble(old)
		}
		by := parseLongDouble(args[2])
		if v == nil || by == nil {
			return nil, false, &replyError{errNotFloat}
		}
		sum, ok := addLongDouble(v, by)
		if !ok {
			return nil, false, &replyError{"ERR increment would produce NaN or Infinity"}
		}
		out = append(old[:0], formatLongDouble(sum)...)
		return out, true, nil
	})
	if c.updateError(err) {
		c.out.bulk(out)
	}
}

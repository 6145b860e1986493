package server

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem"
)

func transactionCommands() []*command {
	return []*command{
		{name: "multi", arity: 1, flags: notInTx, run: cmdMulti},
		{name: "exec", arity: 1, flags: notInTx, run: cmdExec},
		{name: "discard", arity: 1, flags: notInTx, run: cmdDiscard},
		{name: "watch", arity: -2, flags: notInTx, run: cmdWatch, first: 1, last: -1, step: 1},
		{name: "unwatch", arity: 1, run: cmdUnwatch},
		{name: "reset", arity: 1, flags: notInTx | noAuth, run: cmdReset},
	}
}

// transaction is a MULTI's queue of commands, with copies of their
// arguments (the read buffer they came in is reused).
type transaction struct {
	cmds  []*command
	args  [][][]byte
	dirty bool // a command was refused: EXEC aborts
}

func (t *transaction) queue(cmd *command, args [][]byte) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = slices.Clone(a)
	}
	t.cmds = append(t.cmds, cmd)
	t.args = append(t.args, cp)
}

// failTx marks the transaction in progress, if any, to abort at EXEC.
func (c *conn) failTx() {
	if c.tx != nil {
		c.tx.dirty = true
	}
}

// endTx leaves MULTI.
func (c *conn) endTx() {
	c.tx = nil
	c.info.multi.Store(-1)
}

func cmdMulti(c *conn, _ [][]byte) {
	if c.tx != nil {
		c.out.errorf("MULTI calls can not be nested")
		return
	}
	c.tx = &transaction{}
	c.info.multi.Store(0)
	c.out.ok()
}

func cmdDiscard(c *conn, _ [][]byte) {
	if c.tx == nil {
		c.out.errorf("DISCARD without MULTI")
		return
	}
	c.endTx()
	c.unwatch()
	c.out.ok()
}

// cmdExec runs the queued commands with no other client's command
// between them; it aborts with a null reply if a key WATCH named was
// written since, or has expired since, as Redis's does.
func cmdExec(c *conn, _ [][]byte) {
	tx := c.tx
	switch {
	case tx == nil:
		c.out.errorf("EXEC without MULTI")
		return
	case tx.dirty:
		c.endTx()
		c.unwatch()
		c.out.error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	c.tx = nil // info.multi stays until the commands ran, as Redis's flags=x
	defer c.endTx()
	c.alone(func() {
		// Alone, no write of another client can come between this look and
		// the commands: each marks the watchers before it lets go.
		changed := c.dirty.Load() || c.watchedExpired()
		c.unwatch()
		if changed {
			c.out.nullArray()
			return
		}
		c.out.array(len(tx.cmds))
		c.inExec = true
		defer func() { c.inExec = false }()
		for i, cmd := range tx.cmds {
			c.call(cmd, tx.args[i])
		}
	})
}

// cmdWatch serves WATCH key [key ...]: EXEC aborts if any of them is
// written (by any client of this server) before it, or expires.
func cmdWatch(c *conn, args [][]byte) {
	if c.tx != nil {
		c.out.errorf("WATCH inside MULTI is not allowed")
		return
	}
	for _, key := range args[1:] {
		k := string(key)
		if !c.s.watches.watch(c, k) {
			continue
		}
		if at, err := c.s.m.ExpireTime(k); err == nil && !at.IsZero() {
			c.expiring = append(c.expiring, k)
		}
	}
	c.out.ok()
}

// watchedExpired reports whether a watched key that had a TTL when WATCH
// named it is gone: it expired (or Go code deleted it, which is a write
// too). A key written by a client since is dirty already.
func (c *conn) watchedExpired() bool {
	for _, k := range c.expiring {
		if _, err := c.s.m.ExpireTime(k); errors.Is(err, tiermem.ErrNotFound) {
			return true
		}
	}
	return false
}

func cmdUnwatch(c *conn, _ [][]byte) {
	c.unwatch()
	c.out.ok()
}

// cmdReset serves RESET: the connection as it was when it came (no
// MULTI, no WATCH, no name, RESP2, authenticated only if no password is
// set).
func cmdReset(c *conn, _ [][]byte) {
	c.endTx()
	c.unwatch()
	c.setName(nil)
	c.out.resp3 = false
	c.info.resp.Store(2)
	c.authed = c.s.Password() == ""
	c.in.unauthed = !c.authed
	c.out.status("RESET")
}

// unwatch forgets the keys the connection watches.
func (c *conn) unwatch() {
	if len(c.watched) > 0 {
		c.s.watches.forget(c)
	}
	c.expiring = nil
	c.dirty.Store(false)
}

// watchList is every key some connection watches, and which ones. Writes
// of a command mark the watchers of the keys it names; they pay one
// atomic load when nothing is watched.
type watchList struct {
	n    atomic.Int64 // len(keys), read without mu
	mu   sync.Mutex   // protects keys; a conn's watched changes under it too, by that conn alone
	keys map[string]map[*conn]struct{}
}

// watch adds key to c's watched keys and reports whether it was new.
func (w *watchList) watch(c *conn, key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	by := w.keys[key]
	if by == nil {
		by = map[*conn]struct{}{}
		w.keys[key] = by
	}
	if _, dup := by[c]; dup {
		return false
	}
	by[c] = struct{}{}
	c.watched = append(c.watched, key)
	w.n.Store(int64(len(w.keys)))
	return true
}

// forget removes every key c watches.
func (w *watchList) forget(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range c.watched {
		delete(w.keys[key], c)
		if len(w.keys[key]) == 0 {
			delete(w.keys, key)
		}
	}
	c.watched = nil
	w.n.Store(int64(len(w.keys)))
}

// touch marks the watchers of the keys a write command names (of every
// key, for FLUSHDB and FLUSHALL). A command counts as a write of its keys
// even when it changed nothing (SET NX of a key that exists): EXEC may
// abort when Redis's would not, never the other way round.
func (w *watchList) touch(cmd *command, args [][]byte) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cmd.flags&allKeys != 0 {
		for _, by := range w.keys {
			markAll(by)
		}
		return
	}
	if cmd.first == 0 {
		return
	}
	last := cmd.last
	if last < 0 {
		last += len(args)
	}
	for i := cmd.first; i <= last && i < len(args); i += cmd.step {
		markAll(w.keys[string(args[i])])
	}
}

// touchKey marks the watchers of key, which another front end wrote
// (Sequencer.End).
func (w *watchList) touchKey(key string) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	markAll(w.keys[key])
}

func markAll(by map[*conn]struct{}) {
	for c := range by {
		c.dirty.Store(true)
	}
}

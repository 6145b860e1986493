package server

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/tiermem/tiermem"
)

// command is one command the server knows: its name as Redis spells it in
// errors (lower case), its arity (as Redis's: n exactly, -n at least n,
// the name included), its flags and its handler.
type command struct {
	name  string
	arity int
	flags cmdFlag
	run   func(c *conn, args [][]byte)
	// subs are a container command's subcommands (CLIENT's, CONFIG's,
	// ...) and their arities, checked before it runs or is queued.
	subs map[string]int

	first, last, step int // the keys it names, as COMMAND reports them
}

type cmdFlag uint8

const (
	noAuth   cmdFlag = 1 << iota // runs before AUTH (AUTH, HELLO)
	write                        // changes data
	readonly                     // reads data
	notInTx                      // runs at once inside MULTI (EXEC, DISCARD, MULTI, WATCH, RESET)
	noMulti                      // refused inside MULTI (SAVE, SHUTDOWN, TIER.MOVE, TIER.COPY)
	allKeys                      // writes every key (FLUSHDB, FLUSHALL): WATCH sees it on each
)

// commands is the table of every command, by lower-case name. It is
// filled by init, since COMMAND reads it.
var commands map[string]*command

func init() {
	commands = map[string]*command{}
	for _, list := range [][]*command{connectionCommands(), transactionCommands(), serverCommands(),
		stringCommands(), keyCommands(), tierCommands()} {
		for _, cmd := range list {
			if _, dup := commands[cmd.name]; dup {
				panic("server: command " + cmd.name + " registered twice")
			}
			commands[cmd.name] = cmd
		}
	}
}

// lookup finds a command by name, in any case, without allocating.
func (c *conn) lookup(name []byte) *command {
	if len(name) > len(c.lower) {
		return nil
	}
	lower := c.lower[:len(name)]
	for i, b := range name {
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	return commands[string(lower)]
}

// run checks a command as Redis's processCommand does (QUIT, existence,
// arity, authentication, MULTI's queue) and runs it.
func (c *conn) run(args [][]byte) {
	if equalFold(args[0], "post") || equalFold(args[0], "host:") {
		c.crossProtocol()
		return
	}
	if equalFold(args[0], "quit") {
		c.out.ok()
		c.quit = true
		return
	}
	cmd := c.lookup(args[0])
	if cmd == nil {
		c.out.errorf(unknownCommand(args))
		c.failTx()
		return
	}
	if cmd.arity > 0 && len(args) != cmd.arity || cmd.arity < 0 && len(args) < -cmd.arity {
		c.reject(cmd, "ERR ", fmt.Sprintf("wrong number of arguments for '%s' command", cmd.name))
		return
	}
	if !c.authed && cmd.flags&noAuth == 0 && !c.passwordGone() {
		c.reject(cmd, "", "NOAUTH Authentication required.")
		return
	}
	if c.tx != nil && cmd.flags&noMulti != 0 {
		c.out.errorf("Command not allowed inside a transaction")
		c.failTx()
		return
	}
	if c.tx != nil && cmd.flags&notInTx == 0 {
		if _, msg := checkSubcommand(cmd, args); msg != "" { // as Redis: the transaction will abort
			c.out.errorf(msg)
			c.failTx()
			return
		}
		c.tx.queue(cmd, args)
		c.info.multi.Add(1)
		c.out.status("QUEUED")
		return
	}
	c.info.cmd.Store(&cmd.name)
	if obs := c.s.opts.Observer; obs != nil {
		start := c.clock.mark()
		c.call(cmd, args)
		end := c.clock.lap()
		if v := c.value; v != nil { // a streamed SET: its time runs from its value's arrival
			if v.cut() {
				return
			}
			start = max(start, c.clock.at(v.arrived))
		}
		c.clock.record(obs, cmd.name, end-start)
		return
	}
	c.call(cmd, args)
}

// reject answers a command refused before it runs with prefix+msg, and
// marks a transaction being queued as failed. An EXEC refused so ends the
// transaction and the WATCH, inside MULTI or not, as Redis's
// execCommandAbort does: "EXECABORT Transaction discarded because of: "
// and msg.
func (c *conn) reject(cmd *command, prefix, msg string) {
	if cmd.name == "exec" {
		c.endTx()
		c.unwatch()
		c.out.error("EXECABORT Transaction discarded because of: " + msg)
		return
	}
	c.out.error(prefix + msg)
	c.failTx()
}

// call runs a command and, for one that writes, tells WATCH of the keys
// it names and counts the change; a SET whose streamed value was cut short
// by its client changed nothing.
func (c *conn) call(cmd *command, args [][]byte) {
	cmd.run(c, args)
	if cmd.flags&write != 0 && (c.value == nil || !c.value.cut()) {
		c.s.changes.Add(1)
		c.s.watches.touch(cmd, args)
	}
	c.limitOutput()
}

// crossProtocol closes a connection whose client sent an HTTP request
// (its first lines read as the commands POST and Host:), as Redis does:
// a web page can make a browser send one to the server's port, with
// commands in its body, and none of them must run. It is logged, and the
// commands after it are never read.
func (c *conn) crossProtocol() {
	c.s.log.Warn("server: possible security attack: a client sent an HTTP request (POST or Host:) to the RESP port; connection closed",
		"client", c.nc.RemoteAddr().String())
	c.quit = true
}

// limitOutput closes a connection whose replies keep more than the
// server's MaxOutput, as Redis's client-output-buffer-limit does: its
// replies are dropped (and those of the commands an EXEC still runs after
// it), the connection closes once the command ends. It reports whether
// the connection is closing for that, so a command building a long reply
// can stop.
func (c *conn) limitOutput() bool {
	if c.overLimit {
		c.out.reset(false)
		return true
	}
	limit := c.s.maxOutput.Load()
	if limit <= 0 || int64(c.out.owned()) <= limit {
		return false
	}
	c.s.log.Warn("server: closing a client whose replies passed the output limit (client-output-buffer-limit)",
		"client", c.nc.RemoteAddr().String(), "bytes", c.out.owned(), "limit", limit)
	c.overLimit, c.quit = true, true
	c.out.reset(false)
	return true
}

// passwordGone reports whether CONFIG SET cleared the password since the
// connection came: it is then authenticated, as in Redis.
func (c *conn) passwordGone() bool {
	if c.s.Password() != "" {
		return false
	}
	c.authed, c.in.unauthed = true, false
	return true
}

// unknownCommand is Redis 7.0's message for a command it does not know,
// with up to 128 bytes of its arguments.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		fmt.Fprintf(&b, "'%s' ", cString(a, 128-b.Len()))
	}
	return fmt.Sprintf("unknown command '%s', with args beginning with: %s", cString(args[0], 128), b.String())
}

// cString is what C's "%.*s" prints of b: up to n bytes, up to a NUL.
func cString(b []byte, n int) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b[:min(len(b), n)]
}

// equalFold reports whether b is s (lower case) in any case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// keyString returns a string over key's bytes, valid while they do not
// change: for the Manager, which copies any key it keeps.
func keyString(key []byte) string { return unsafe.String(unsafe.SliceData(key), len(key)) }

// Redis's shared error replies.
const (
	errSyntax     = "ERR syntax error"
	errNotInt     = "ERR value is not an integer or out of range"
	errNotFloat   = "ERR value is not a valid float"
	errWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errStringSize = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
)

// managerError replies the error a Manager call returned.
func (c *conn) managerError(err error) {
	switch {
	case errors.Is(err, tiermem.ErrInvalidKey):
		c.out.errorf("invalid key: a tiermem key is 1 to 65535 bytes")
	case errors.Is(err, tiermem.ErrType):
		c.out.error(errWrongType)
	case errors.Is(err, tiermem.ErrNoSpace), errors.Is(err, tiermem.ErrTooLarge):
		c.out.error("OOM " + err.Error())
	case errors.Is(err, tiermem.ErrClosed):
		c.out.errorf("server is shutting down")
	default:
		c.out.errorf(err.Error())
	}
}

// replyError is an error a handler's Update function returns to abort the
// update and reply msg.
type replyError struct{ msg string }

func (e *replyError) Error() string { return e.msg }

// errUnchanged aborts an Update that has nothing to write.
var errUnchanged = errors.New("server: nothing to change")

// updateError replies the error of an Update: none for errUnchanged, the
// message of a replyError, else the Manager's. It reports whether err was
// nil or errUnchanged.
func (c *conn) updateError(err error) bool {
	var re *replyError
	switch {
	case err == nil, errors.Is(err, errUnchanged):
		return true
	case errors.As(err, &re):
		c.out.error(re.msg)
	default:
		c.managerError(err)
	}
	return false
}

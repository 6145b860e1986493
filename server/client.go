package server

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// clientInfo is what CLIENT LIST and CLIENT INFO show of a connection.
// The connection's goroutine writes it; any connection reads it.
type clientInfo struct {
	addr, laddr string // fixed at init
	fd          int    // the socket's descriptor; -1 when not known
	created     time.Time

	active atomic.Int64           // Unix ns of the last read
	cmd    atomic.Pointer[string] // the last command, as Redis names it ("client|list")
	multi  atomic.Int32           // commands MULTI queued; -1 outside a MULTI
	resp   atomic.Int32           // the protocol, 2 or 3
	output atomic.Int64           // the bytes of replies queued for the sender

	mu   sync.Mutex // protects name
	name []byte     // CLIENT SETNAME's; nil when none
}

func (i *clientInfo) init(nc net.Conn) {
	i.addr, i.laddr, i.fd, i.created = nc.RemoteAddr().String(), nc.LocalAddr().String(), -1, time.Now()
	i.active.Store(i.created.UnixNano())
	i.multi.Store(-1)
	i.resp.Store(2)
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { i.fd = int(fd) })
		}
	}
}

// getName returns a copy of the connection's name; nil when none.
func (i *clientInfo) getName() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.name)
}

// clientSubcommands are CLIENT's subcommands and their arities.
var clientSubcommands = map[string]int{"id": 2, "getname": 2, "setname": 3, "list": -2, "info": 2, "kill": -3, "help": 2}

// cmdClient serves CLIENT ID, SETNAME, GETNAME, LIST, INFO, KILL and HELP.
func cmdClient(c *conn, args [][]byte) {
	sub, ok := c.subcommand(commands["client"], args)
	if !ok {
		return
	}
	switch sub {
	case "id":
		c.out.int(c.id)
	case "getname":
		if name := c.info.getName(); name == nil {
			c.out.null()
		} else {
			c.out.bulk(name)
		}
	case "setname":
		if c.setName(args[2]) {
			c.out.ok()
		}
	case "list":
		c.clientList(args[2:])
	case "info":
		c.out.verbatim(c.clientLine(time.Now()))
	case "kill":
		c.clientKill(args[2:])
	default:
		c.help("CLIENT", []string{
			"ID", "    Return the ID of the current connection.",
			"GETNAME", "    Return the name of the current connection.",
			"SETNAME <name>", "    Name the current connection.",
			"INFO", "    Return information about the current connection.",
			"LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID <id> [<id> ...]]", "    Return information about the connections.",
			"KILL <ip:port>", "    Close the connection from that address.",
			"KILL <option> <value> [<option> <value> [...]]", "    Close the connections that match every filter: ID <id>, ADDR <ip:port>,",
			"    LADDR <ip:port>, TYPE <type>, USER <name>, SKIPME (YES|NO).",
		})
	}
}

// subcommand checks a container command's subcommand and its arity, as
// Redis does, records it as the connection's last command, and returns it
// in lower case; it replies the error and reports false when they are
// wrong.
func (c *conn) subcommand(cmd *command, args [][]byte) (string, bool) {
	sub, msg := checkSubcommand(cmd, args)
	if msg != "" {
		c.out.errorf(msg)
		return "", false
	}
	if !c.inExec {
		full := cmd.name + "|" + sub
		c.info.cmd.Store(&full)
	}
	return sub, true
}

// checkSubcommand returns a container command's subcommand in lower case,
// or Redis's error for an unknown one or its wrong arity; "" and "" for a
// command without subcommands or without arguments.
func checkSubcommand(cmd *command, args [][]byte) (sub, msg string) {
	if cmd.subs == nil || len(args) < 2 {
		return "", ""
	}
	sub = lowerString(args[1])
	arity, known := cmd.subs[sub]
	switch {
	case !known:
		return "", fmt.Sprintf("unknown subcommand '%s'. Try %s HELP.", cString(args[1], 128), strings.ToUpper(cmd.name))
	case arity > 0 && len(args) != arity || arity < 0 && len(args) < -arity:
		return "", fmt.Sprintf("wrong number of arguments for '%s|%s' command", cmd.name, sub)
	}
	return sub, ""
}

// help replies a HELP subcommand's lines, as Redis's addReplyHelp.
func (c *conn) help(name string, lines []string) {
	c.out.array(len(lines) + 3)
	c.out.status(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.out.status(l)
	}
	c.out.status("HELP")
	c.out.status("    Print this help.")
}

// setName sets the connection's name, as Redis's clientSetNameOrReply: an
// empty one clears it; spaces and special characters are refused.
func (c *conn) setName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			c.out.errorf("Client names cannot contain spaces, newlines or special characters.")
			return false
		}
	}
	c.info.mu.Lock()
	defer c.info.mu.Unlock()
	if len(name) == 0 {
		c.info.name = nil
	} else {
		c.info.name = append(c.info.name[:0], name...)
	}
	return true
}

// clientLine is the connection's line of CLIENT LIST, with Redis's fields
// in Redis's order. omem is the bytes of replies queued for the sender
// (the socket did not take them yet); tiermem keeps no other per-client
// buffer counts: qbuf, qbuf-free, argv-mem, multi-mem, rbs, rbp, obl, oll
// and tot-mem are 0.
func (c *conn) clientLine(now time.Time) string {
	i := &c.info
	flags := ""
	if i.multi.Load() >= 0 {
		flags += "x"
	}
	if c.dirty.Load() {
		flags += "d"
	}
	if flags == "" {
		flags = "N"
	}
	cmd := "NULL"
	if p := i.cmd.Load(); p != nil {
		cmd = *p
	}
	idle := now.Sub(time.Unix(0, i.active.Load()))
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=0 sub=0 psub=0 ssub=0 multi=%d "+
		"qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=%d tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d\n",
		c.id, i.addr, i.laddr, i.fd, i.getName(), int64(now.Sub(i.created).Seconds()), max(int64(idle.Seconds()), 0),
		flags, i.multi.Load(), i.output.Load(), cmd, i.resp.Load())
}

// clients returns the server's connections in the order they came, but
// those CLIENT KILL closed: Redis frees a killed client at once, while its
// goroutine here may take a moment to leave s.conns.
func (s *Server) clients() []*conn {
	s.mu.Lock()
	all := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if !c.killed.Load() {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b *conn) int { return int(a.id - b.id) })
	return all
}

// clientList serves CLIENT LIST [TYPE type] [ID id ...].
func (c *conn) clientList(opts [][]byte) {
	var ids []int64
	typeOK := true
	switch {
	case len(opts) == 0:
	case len(opts) == 2 && equalFold(opts[0], "type"):
		var known bool
		if typeOK, known = clientType(opts[1]); !known {
			c.out.errorf(fmt.Sprintf("Unknown client type '%s'", cString(opts[1], len(opts[1]))))
			return
		}
	case len(opts) >= 2 && equalFold(opts[0], "id"):
		for _, a := range opts[1:] {
			id, ok := parseInt(a)
			if !ok {
				c.out.errorf("Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	default:
		c.out.error(errSyntax)
		return
	}
	var b strings.Builder
	now := time.Now()
	for _, o := range c.s.clients() {
		if typeOK && (ids == nil || slices.Contains(ids, o.id)) {
			b.WriteString(o.clientLine(now))
		}
	}
	c.out.verbatim(b.String())
}

// clientType reports whether a CLIENT type names tiermem's clients (all
// are "normal": no replicas, masters or subscribers), and whether Redis
// knows it.
func clientType(t []byte) (normal, known bool) {
	switch lowerString(t) {
	case "normal":
		return true, true
	case "master", "replica", "slave", "pubsub":
		return false, true
	}
	return false, false
}

// killFilter is what CLIENT KILL's options select.
type killFilter struct {
	id          int64
	addr, laddr string
	none        bool // a TYPE or USER no client has
	skipMe      bool
}

func (f *killFilter) matches(c, self *conn) bool {
	return !f.none && (f.id == 0 || c.id == f.id) && (f.addr == "" || c.info.addr == f.addr) &&
		(f.laddr == "" || c.info.laddr == f.laddr) && !(f.skipMe && c == self)
}

// clientKill serves CLIENT KILL addr (+OK or an error) and CLIENT KILL
// with filters (the number of clients closed). A client that kills itself
// is closed after the reply.
func (c *conn) clientKill(opts [][]byte) {
	if len(opts) == 1 {
		if n := c.kill(&killFilter{addr: string(opts[0])}); n == 0 {
			c.out.errorf("No such client")
		} else {
			c.out.ok()
		}
		return
	}
	f, ok := c.parseKill(opts)
	if ok {
		c.out.int(c.kill(&f))
	}
}

func (c *conn) parseKill(opts [][]byte) (killFilter, bool) {
	f := killFilter{skipMe: true}
	if len(opts)%2 != 0 {
		c.out.error(errSyntax)
		return f, false
	}
	for i := 0; i < len(opts); i += 2 {
		opt, v := opts[i], opts[i+1]
		switch {
		case equalFold(opt, "id"):
			id, ok := parseInt(v)
			if !ok || id <= 0 {
				c.out.errorf("client-id should be greater than 0")
				return f, false
			}
			f.id = id
		case equalFold(opt, "type"):
			normal, known := clientType(v)
			if !known {
				c.out.errorf(fmt.Sprintf("Unknown client type '%s'", cString(v, len(v))))
				return f, false
			}
			f.none = f.none || !normal
		case equalFold(opt, "addr"):
			f.addr = string(v)
		case equalFold(opt, "laddr"):
			f.laddr = string(v)
		case equalFold(opt, "user"):
			if string(v) != "default" {
				c.out.errorf(fmt.Sprintf("No such user '%s'", cString(v, len(v))))
				return f, false
			}
		case equalFold(opt, "skipme") && equalFold(v, "yes"):
			f.skipMe = true
		case equalFold(opt, "skipme") && equalFold(v, "no"):
			f.skipMe = false
		default:
			c.out.error(errSyntax)
			return f, false
		}
	}
	return f, true
}

// kill closes the connections f matches and returns how many.
func (c *conn) kill(f *killFilter) int64 {
	n := int64(0)
	for _, o := range c.s.clients() {
		if !f.matches(o, c) || !o.killed.CompareAndSwap(false, true) { // another kill's meanwhile
			continue
		}
		n++
		if o == c {
			c.quit = true // after this reply
		} else {
			o.nc.Close()
			c.s.disconnected(o) // gone at once, as in Redis, though its goroutine may be finishing a command
		}
	}
	return n
}

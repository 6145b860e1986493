package server

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// redisVersion is the Redis release whose behaviour the server follows,
// which HELLO reports.
const redisVersion = "7.0.15"

func connectionCommands() []*command {
	return []*command{
		{name: "ping", arity: -1, run: cmdPing},
		{name: "echo", arity: 2, run: cmdEcho},
		{name: "select", arity: 2, run: cmdSelect},
		{name: "hello", arity: -1, flags: noAuth, run: cmdHello},
		{name: "auth", arity: -2, flags: noAuth, run: cmdAuth},
		{name: "time", arity: 1, run: cmdTime},
		{name: "command", arity: -1, run: cmdCommand, subs: commandSubcommands},
		{name: "client", arity: -2, run: cmdClient, subs: clientSubcommands},
		{name: "info", arity: -1, run: cmdInfo},
	}
}

func cmdPing(c *conn, args [][]byte) {
	switch len(args) {
	case 1:
		c.out.status("PONG")
	case 2:
		c.out.bulk(args[1])
	default:
		c.out.errorf("wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(c *conn, args [][]byte) { c.out.bulk(args[1]) }

// cmdSelect accepts database 0 alone: a Manager is one keyspace.
func cmdSelect(c *conn, args [][]byte) {
	id, ok := parseInt(args[1])
	switch {
	case !ok:
		c.out.error(errNotInt)
	case id != int64(int32(id)):
		c.out.errorf("value is out of range, value must between -2147483648 and 2147483647")
	case id != 0:
		c.out.errorf("DB index is out of range")
	default:
		c.out.ok()
	}
}

func cmdHello(c *conn, args [][]byte) {
	ver := int64(0)
	next := 1
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.out.errorf("Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.out.error("NOPROTO unsupported protocol version")
			return
		}
		ver, next = v, 2
	}
	var user, pass, name []byte
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case equalFold(args[j], "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case equalFold(args[j], "setname") && more >= 1:
			name = args[j+1]
			j++
		default:
			c.out.errorf(fmt.Sprintf("Syntax error in HELLO option '%s'", cString(args[j], len(args[j]))))
			return
		}
	}
	if pass != nil && !c.auth(user, pass) {
		return
	}
	if !c.authed {
		c.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if name != nil && !c.setName(name) {
		return
	}
	if ver != 0 {
		c.out.resp3 = ver == 3
		c.info.resp.Store(int32(ver))
	}
	proto := int64(2)
	if c.out.resp3 {
		proto = 3
	}
	c.out.mapOf(7)
	c.out.bulkString("server")
	c.out.bulkString("tiermem")
	c.out.bulkString("version")
	c.out.bulkString(redisVersion)
	c.out.bulkString("proto")
	c.out.int(proto)
	c.out.bulkString("id")
	c.out.int(c.id)
	c.out.bulkString("mode")
	c.out.bulkString("standalone")
	c.out.bulkString("role")
	c.out.bulkString("master")
	c.out.bulkString("modules")
	c.out.array(0)
}

func cmdAuth(c *conn, args [][]byte) {
	switch {
	case len(args) > 3:
		c.out.error(errSyntax)
	case len(args) == 2 && c.s.Password() == "":
		c.out.errorf("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	case len(args) == 2:
		if c.auth([]byte("default"), args[1]) {
			c.out.ok()
		}
	default:
		if c.auth(args[1], args[2]) {
			c.out.ok()
		}
	}
}

// auth checks a user and password as Redis's default user: any password
// when none is set, else RequirePass. It replies WRONGPASS on a failure,
// and an error that says so for a password not checked (checkPassword:
// one that would wait its turn inside an EXEC).
func (c *conn) auth(user, pass []byte) bool {
	if string(user) == "default" {
		if c.s.Password() == "" {
			return true
		}
		switch c.checkPassword(pass) {
		case passRight:
			return true
		case passUnchecked:
			c.out.errorf("the password was not checked: this client address gave a wrong one less than " + wrongPassPause.String() +
				" ago, or another of its AUTHs is being checked; an AUTH outside MULTI waits its turn")
			return false
		}
	}
	c.out.error("WRONGPASS invalid username-password pair or user is disabled.")
	return false
}

func cmdTime(c *conn, _ [][]byte) {
	now := time.Now()
	c.out.array(2)
	c.out.bulkString(strconv.FormatInt(now.Unix(), 10))
	c.out.bulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// commandSubcommands are COMMAND's subcommands and their arities.
var commandSubcommands = map[string]int{"count": 2, "info": -2, "docs": -2}

// cmdCommand serves COMMAND, COMMAND COUNT, COMMAND INFO and COMMAND DOCS
// (an empty map: redis-cli then uses its own hints).
func cmdCommand(c *conn, args [][]byte) {
	if len(args) == 1 {
		c.allCommandInfo()
		return
	}
	sub, ok := c.subcommand(commands["command"], args)
	if !ok {
		return
	}
	switch sub {
	case "count":
		c.out.int(int64(len(commands)))
	case "docs":
		c.out.mapOf(0)
	default:
		if len(args) == 2 { // COMMAND INFO without names: every command, as Redis 7 answers
			c.allCommandInfo()
			return
		}
		c.out.array(len(args) - 2)
		for _, name := range args[2:] {
			if cmd := c.lookup(name); cmd != nil {
				c.commandInfo(cmd)
			} else {
				c.out.null() // Redis's null: a bulk string's in RESP2
			}
		}
	}
}

// allCommandInfo writes every command's COMMAND entry, by name.
func (c *conn) allCommandInfo() {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	c.out.array(len(names))
	for _, name := range names {
		c.commandInfo(commands[name])
	}
}

// commandInfo writes one command's COMMAND entry, in Redis 7's shape.
func (c *conn) commandInfo(cmd *command) {
	c.out.array(10)
	c.out.bulkString(cmd.name)
	c.out.int(int64(cmd.arity))
	var flags []string
	if cmd.flags&write != 0 {
		flags = append(flags, "write")
	}
	if cmd.flags&readonly != 0 {
		flags = append(flags, "readonly")
	}
	if cmd.flags&noAuth != 0 {
		flags = append(flags, "no_auth")
	}
	c.out.set(len(flags))
	for _, f := range flags {
		c.out.status(f)
	}
	c.out.int(int64(cmd.first))
	c.out.int(int64(cmd.last))
	c.out.int(int64(cmd.step))
	c.out.set(0) // ACL categories
	c.out.set(0) // tips
	c.out.set(0) // key specifications
	if cmd.subs != nil {
		c.out.array(0) // subcommands: Redis lists a container's as an array
	} else {
		c.out.set(0) // and a command without any's as a set
	}
}

func lowerString(b []byte) string {
	out := []byte(string(b))
	for i, ch := range out {
		if ch >= 'A' && ch <= 'Z' {
			out[i] = ch + 'a' - 'A'
		}
	}
	return string(out)
}

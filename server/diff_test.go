package server_test

import (
	"bufio"
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/server"
)

// A step is one command and how its replies are compared.
type step struct {
	args []string
	how  compare
}

type compare int

const (
	exact        compare = iota // byte for byte
	unordered                   // an array whose elements may come in any order
	near                        // an integer within 1 (a TTL read a moment later)
	scanAll                     // SCAN: the keys of a whole iteration from this cursor, in any order
	hello                       // HELLO: all but the server's name and the client id
	clientFields                // CLIENT INFO: the fields' names and the values that do not depend on the server
)

func s(args ...string) step { return step{args: args} }

func sorted(args ...string) step { return step{args: args, how: unordered} }

func approx(args ...string) step { return step{args: args, how: near} }

func fields(args ...string) step { return step{args: args, how: clientFields} }

// big is a value over 16 KiB, the most an argument may hold before AUTH.
var big = strings.Repeat("x", 20000)

// diffCases are command sequences whose replies tiermem's server must send
// exactly as redis-server does.
var diffCases = map[string][]step{
	"connection": {
		s("PING"), s("ping", "hello"), s("PING", "a", "b"), s("ECHO", "x\r\ny"), s("ECHO"), s("echo", "a", "b"),
		s("SELECT", "0"), s("SELECT", "abc"), s("SELECT", "99999999999"), s("SELECT", "-1"), s("SELECT"),
		s("AUTH", "pw"), s("AUTH", "default", "anything"), s("AUTH", "nobody", "pw"), s("AUTH", "a", "b", "c"),
		s("HELLO", "4"), s("HELLO", "x"), s("HELLO", "2", "BOGUS"), s("HELLO", "2", "AUTH", "nobody", "x"),
		s("NOSUCHCOMMAND"), s("nosuch", "a", "b"), s("NoSuch", strings.Repeat("a", 200), "b"), s("nosuch", "a\x00b", "c"),
		s("GET"), s("SET", "k"), s("TIME", "x"), s("INFO", "nosuch"), s("INFO", "nosuch", "other"), s("COMMAND", "NOSUCH"), s("COMMAND", "COUNT", "x"),
	},
	"get set": {
		s("GET", "k"), s("SET", "k", "v"), s("GET", "k"), s("SET", "k", "v2", "NX"), s("SET", "k", "v3", "XX"), s("GET", "k"),
		s("SET", "n", "v", "XX"), s("GET", "n"), s("SET", "n", "v", "NX"), s("SET", "k", "v", "NX", "XX"), s("SET", "k", "v", "XX", "NX"),
		s("SET", "k", "v4", "GET"), s("SET", "absent", "v", "GET"), s("SET", "k", "v5", "NX", "GET"), s("SET", "k2", "v", "XX", "GET"),
		s("GET", "k2"), s("SET", "k", "v", "BOGUS"), s("SET", "k", "v", "EX"), s("SET", "k", "v", "EX", "abc"), s("SET", "k", "v", "EX", "0"),
		s("SET", "k", "v", "EX", "-5"), s("SET", "k", "v", "PX", "0"), s("SET", "k", "v", "EX", "9223372036854775807"),
		s("SET", "k", "v", "PX", "9223372036854775807"), s("SET", "k", "v", "EX", "10", "PX", "10"), s("SET", "k", "v", "EX", "10", "KEEPTTL"),
		s("SET", "k", "v", "KEEPTTL", "EX", "10"), s("SET", "k", "v", "EX", "100", "EX", "200"), approx("TTL", "k"),
		s("SET", "k", "v", "KEEPTTL"), approx("TTL", "k"), s("SET", "k", "v"), s("TTL", "k"),
		s("SET", "k", "v", "PX", "100000"), approx("TTL", "k"), s("SET", "k", "v", "EXAT", "1"), s("GET", "k"), s("EXISTS", "k"),
		s("SET", "k", "v", "PXAT", "4102444800000"), approx("TTL", "k"), s("SET", "k", "v", "EXAT", "4102444800"), s("EXPIRETIME", "k"),
		s("SET", "k", "v", "GET", "EXAT", "1"), s("GET", "k"), s("SET", "k", "v", "persist"), s("set", "k", "v", "nx", "px", "5000", "get"),
		s("SET", "bin\x00key", "bin\x00\r\nvalue"), s("GET", "bin\x00key"), s("SET", "e", ""), s("GET", "e"), s("STRLEN", "e"),
		s("SET", "big", big), s("GET", "big"), s("STRLEN", "big"),
	},
	"setnx setex getdel getex getset": {
		s("SETNX", "k", "1"), s("SETNX", "k", "2"), s("GET", "k"), s("SETNX", "k"),
		s("SETEX", "k", "100", "v"), approx("TTL", "k"), s("GET", "k"), s("SETEX", "k", "0", "v"), s("SETEX", "k", "-1", "v"),
		s("SETEX", "k", "x", "v"), s("SETEX", "k", "9223372036854775807", "v"), s("PSETEX", "k", "100000", "v"), approx("TTL", "k"),
		s("PSETEX", "k", "0", "v"), s("PSETEX", "k", "9223372036854775807", "v"),
		s("GETDEL", "k"), s("GETDEL", "k"), s("EXISTS", "k"), s("GETDEL"),
		s("SET", "k", "v"), s("GETEX", "k"), s("GETEX", "k", "EX", "100"), approx("TTL", "k"), s("GETEX", "k", "PERSIST"), s("TTL", "k"),
		s("GETEX", "k", "PX", "100000"), approx("PTTL", "k"), s("GETEX", "k", "EXAT", "4102444800"), s("EXPIRETIME", "k"),
		s("GETEX", "k", "PXAT", "4102444800000"), s("PEXPIRETIME", "k"), s("GETEX", "k", "EX", "0"), s("GETEX", "k", "EX", "x"),
		s("GETEX", "k", "EX", "10", "PERSIST"), s("GETEX", "k", "PERSIST", "EX", "10"), s("GETEX", "k", "KEEPTTL"), s("GETEX", "k", "NX"),
		s("GETEX", "k", "BOGUS"), s("GETEX", "k", "EX"), s("GETEX", "nokey", "EX", "10"), s("GETEX", "k", "EXAT", "1"), s("GET", "k"),
		s("GETSET", "k", "a"), s("GETSET", "k", "b"), s("SET", "t", "v", "EX", "100"), s("GETSET", "t", "w"), s("TTL", "t"), s("GETSET", "k"),
	},
	"mget mset msetnx": {
		s("MSET", "a", "1", "b", "2"), s("MGET", "a", "b", "c"), s("MSET", "a"), s("MSET", "a", "1", "b"),
		s("MSETNX", "c", "3", "d", "4"), s("MSETNX", "d", "5", "e", "6"), s("MGET", "c", "d", "e"), s("MSETNX", "x"),
		s("MGET"), s("MSET", "dup", "1", "dup", "2"), s("GET", "dup"),
	},
	"del exists type strlen": {
		s("MSET", "a", "1", "b", "2"), s("EXISTS", "a", "b", "a", "zz"), s("DEL", "a", "zz", "a"), s("UNLINK", "b", "b"),
		s("EXISTS", "a", "b"), s("DEL"), s("EXISTS"), s("SET", "k", "hello"), s("TYPE", "k"), s("TYPE", "zz"), s("STRLEN", "k"),
		s("STRLEN", "zz"), s("TYPE"), s("TOUCH", "k", "zz", "k"), s("TOUCH"), s("RANDOMKEY"), s("DEL", "k"), s("RANDOMKEY"),
		s("RANDOMKEY", "x"),
	},
	"getrange setrange append": {
		s("SET", "k", "Hello World"), s("GETRANGE", "k", "0", "4"), s("GETRANGE", "k", "-5", "-1"), s("GETRANGE", "k", "-1", "-5"),
		s("GETRANGE", "k", "5", "1"), s("GETRANGE", "k", "0", "100"), s("GETRANGE", "k", "-100", "2"), s("GETRANGE", "k", "20", "30"),
		s("GETRANGE", "k", "x", "1"), s("GETRANGE", "zz", "0", "1"), s("GETRANGE", "k", "0"),
		s("GETRANGE", "k", "-9223372036854775808", "9223372036854775807"),
		s("SETRANGE", "k", "6", "Redis"), s("GET", "k"), s("SETRANGE", "k", "20", "!"), s("GET", "k"), s("SETRANGE", "k", "-1", "x"),
		s("SETRANGE", "k", "x", "y"), s("SETRANGE", "k", "0", ""), s("SETRANGE", "new", "0", ""), s("EXISTS", "new"),
		s("SETRANGE", "new", "3", "abc"), s("GET", "new"), s("SETRANGE", "k", "536870911", "xx"), s("SETRANGE", "k", "9223372036854775807", "x"),
		s("APPEND", "a", "x"), s("APPEND", "a", "yz"), s("GET", "a"), s("APPEND", "a", ""), s("APPEND", "a"),
		s("SET", "t", "v", "EX", "100"), s("APPEND", "t", "w"), approx("TTL", "t"), s("SETRANGE", "t", "0", "V"), approx("TTL", "t"),
	},
	"incr decr": {
		s("INCR", "n"), s("INCR", "n"), s("DECR", "n"), s("INCRBY", "n", "10"), s("DECRBY", "n", "3"), s("GET", "n"),
		s("INCRBY", "n", "x"), s("INCRBY", "n", "1.5"), s("DECRBY", "n", "-9223372036854775808"),
		s("SET", "n", "9223372036854775806"), s("INCR", "n"), s("INCR", "n"), s("GET", "n"),
		s("SET", "n", "-9223372036854775807"), s("DECR", "n"), s("DECR", "n"), s("DECRBY", "n", "1"),
		s("SET", "n", "abc"), s("INCR", "n"), s("SET", "n", " 1"), s("INCR", "n"), s("SET", "n", "01"), s("INCR", "n"),
		s("SET", "n", "+1"), s("INCR", "n"), s("SET", "n", "-0"), s("INCR", "n"), s("SET", "n", "1\x00"), s("INCR", "n"),
		s("SET", "n", "99999999999999999999"), s("INCR", "n"), s("SET", "n", ""), s("INCR", "n"),
		s("INCRBY", "m", "9223372036854775807"), s("INCRBY", "m", "1"), s("INCRBY", "m", "-9223372036854775808"),
		s("SET", "t", "5", "EX", "100"), s("INCR", "t"), approx("TTL", "t"), s("INCR"), s("INCR", "a", "b"),
	},
	"incrbyfloat": {
		s("INCRBYFLOAT", "f", "10.5"), s("INCRBYFLOAT", "f", "0.1"), s("INCRBYFLOAT", "f", "-5.0e3"), s("GET", "f"),
		s("SET", "f", "3.0"), s("INCRBYFLOAT", "f", "1.0"), s("SET", "f", "5.0e3"), s("INCRBYFLOAT", "f", "2.0e2"),
		s("INCRBYFLOAT", "f", "abc"), s("INCRBYFLOAT", "f", ""), s("INCRBYFLOAT", "f", " 1"), s("INCRBYFLOAT", "f", "1 "),
		s("INCRBYFLOAT", "f", "inf"), s("INCRBYFLOAT", "f", "nan"), s("INCRBYFLOAT", "f", "1e5000"), s("INCRBYFLOAT", "g", "-inf"),
		s("SET", "f", "abc"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "1.1"), s("INCRBYFLOAT", "f", "2.2"),
		s("INCRBYFLOAT", "h", "0.1"), s("INCRBYFLOAT", "h", "0.2"), s("INCRBYFLOAT", "i", "-0.0"), s("INCRBYFLOAT", "j", "1e20"),
		s("INCRBYFLOAT", "j", "1e-20"), s("INCRBYFLOAT", "k", "+.5"), s("INCRBYFLOAT", "l", "5."), s("INCRBYFLOAT", "m", "1e308"),
		s("INCRBYFLOAT", "m", "1e308"), s("INCRBYFLOAT", "n", "0x10"),
	},
	"expire ttl persist": {
		s("TTL", "k"), s("PTTL", "k"), s("EXPIRETIME", "k"), s("PEXPIRETIME", "k"), s("EXPIRE", "k", "10"), s("PERSIST", "k"),
		s("SET", "k", "v"), s("TTL", "k"), s("PTTL", "k"), s("EXPIRETIME", "k"), s("PERSIST", "k"),
		s("EXPIRE", "k", "100"), approx("TTL", "k"), s("PERSIST", "k"), s("TTL", "k"),
		s("PEXPIRE", "k", "100000"), approx("TTL", "k"), s("EXPIREAT", "k", "4102444800"), s("EXPIRETIME", "k"), s("PEXPIRETIME", "k"),
		s("PEXPIREAT", "k", "4102444800000"), s("PEXPIRETIME", "k"), s("EXPIRE", "k", "x"), s("EXPIRE", "k"),
		s("EXPIRE", "k", "9223372036854775807"), s("EXPIRE", "k", "-9223372036854775808"), s("PEXPIRE", "k", "9223372036854775807"),
		s("EXPIREAT", "k", "9223372036854775807"),
		s("SET", "a", "v"), s("EXPIRE", "a", "100", "NX"), s("EXPIRE", "a", "200", "NX"), approx("TTL", "a"),
		s("EXPIRE", "a", "50", "GT"), s("EXPIRE", "a", "300", "GT"), approx("TTL", "a"), s("EXPIRE", "a", "400", "LT"),
		s("EXPIRE", "a", "30", "LT"), approx("TTL", "a"), s("EXPIRE", "a", "60", "XX"), approx("TTL", "a"),
		s("SET", "b", "v"), s("EXPIRE", "b", "60", "XX"), s("EXPIRE", "b", "60", "GT"), s("EXPIRE", "b", "60", "LT"), approx("TTL", "b"),
		s("EXPIRE", "b", "60", "NX", "XX"), s("EXPIRE", "b", "60", "GT", "LT"), s("EXPIRE", "b", "60", "NX", "GT"), s("EXPIRE", "b", "60", "BOGUS"),
		s("EXPIRE", "b", "x", "BOGUS"), s("EXPIRE", "b", "-1"), s("EXISTS", "b"), s("GET", "b"),
		s("SET", "c", "v"), s("PEXPIREAT", "c", "1"), s("EXISTS", "c"), s("SET", "d", "v"), s("EXPIREAT", "d", "-5"), s("EXISTS", "d"),
		s("SET", "e", "v"), s("EXPIRE", "e", "0"), s("EXISTS", "e"), s("TTL"), s("PERSIST"),
	},
	"keys scan dbsize flush": {
		s("DBSIZE"), s("MSET", "user:1", "a", "user:2", "b", "user:10", "c", "order:1", "d", "h?llo", "e", "a*b", "f"),
		s("DBSIZE"), sorted("KEYS", "*"), sorted("KEYS", "user:?"), sorted("KEYS", "user:*"), sorted("KEYS", "*1*"),
		sorted("KEYS", "[uo]*"), sorted("KEYS", "[^u]*"), sorted("KEYS", `h\?llo`), sorted("KEYS", "a[*]b"), sorted("KEYS", "nomatch"),
		sorted("KEYS", "user:[0-9]"), sorted("KEYS", "[a-"), s("KEYS"),
		{args: []string{"SCAN", "0"}, how: scanAll}, {args: []string{"SCAN", "0", "MATCH", "user:*", "COUNT", "2"}, how: scanAll},
		{args: []string{"SCAN", "0", "TYPE", "string"}, how: scanAll}, {args: []string{"SCAN", "0", "TYPE", "list"}, how: scanAll},
		{args: []string{"SCAN", "0", "MATCH", "*", "COUNT", "1000"}, how: scanAll},
		s("SCAN", "x"), s("SCAN", "-"), s("SCAN", " 1"), s("SCAN", "0", "COUNT", "0"), s("SCAN", "0", "COUNT", "x"), s("SCAN", "0", "MATCH"),
		s("SCAN", "0", "BOGUS", "x"), s("SCAN", "18446744073709551616"), s("SCAN"),
		s("FLUSHDB", "BOGUS"), s("FLUSHALL", "ASYNC", "x"), s("FLUSHDB", "SYNC"), s("DBSIZE"), s("SET", "k", "v"), s("FLUSHALL", "async"),
		s("DBSIZE"), s("FLUSHALL"), s("SCAN", "0"), sorted("KEYS", "*"), s("DBSIZE", "x"),
	},
	"multi exec": {
		s("EXEC"), s("DISCARD"), s("MULTI"), s("SET", "k", "v"), s("INCR", "n"), s("GET", "k"), s("EXEC"),
		s("MULTI"), s("MULTI"), s("SET", "k", "w"), s("DISCARD"), s("GET", "k"),
		s("MULTI"), s("SET", "k"), s("SET", "k", "x"), s("EXEC"), s("GET", "k"),
		s("MULTI"), s("NOSUCH"), s("EXEC"), s("MULTI"), s("INCR", "k"), s("SET", "k", "y"), s("EXEC"), s("GET", "k"),
		s("MULTI"), s("EXEC"), s("MULTI"), s("MSET", "a", "1", "b", "2"), s("MGET", "a", "b"), s("EXEC"),
	},
	"multi subcommands": { // a container's unknown subcommand, or its wrong arity, aborts the transaction
		s("MULTI"), s("CONFIG", "BOGUS"), s("SET", "k", "q"), s("EXEC"), s("GET", "k"),
		s("MULTI"), s("CLIENT", "SETNAME"), s("EXEC"), s("MULTI"), s("OBJECT", "NOSUCH", "k"), s("EXEC"),
		s("MULTI"), s("COMMAND", "COUNT", "x"), s("EXEC"), s("MULTI"), s("CONFIG", "GET"), s("EXEC"),
		s("SET", "k", "v"), s("MULTI"), s("CONFIG", "GET", "timeout"), s("OBJECT", "ENCODING", "k"), s("CLIENT", "GETNAME"), s("EXEC"),
	},
	"client": {
		s("CLIENT", "GETNAME"), s("CLIENT", "SETNAME", "app-1"), s("CLIENT", "GETNAME"), s("CLIENT", "SETNAME", "a b"),
		s("CLIENT", "SETNAME", "a\nb"), s("CLIENT", "GETNAME"), s("CLIENT", "SETNAME", ""), s("CLIENT", "GETNAME"),
		s("CLIENT", "SETNAME"), s("CLIENT", "GETNAME", "x"), s("CLIENT", "NOSUCH"), s("CLIENT"), s("CLIENT", "ID", "x"),
		s("HELLO", "2", "SETNAME", "bad name"), s("CLIENT", "GETNAME"),
		{args: []string{"HELLO", "2", "SETNAME", "hello-name"}, how: hello}, s("CLIENT", "GETNAME"),
	},
	"rename copy": {
		s("RENAME", "a", "b"), s("SET", "a", "1"), s("RENAME", "a", "b"), s("GET", "a"), s("GET", "b"), s("RENAME", "b", "b"),
		s("RENAMENX", "b", "b"), s("RENAME", "nosuch", "nosuch"), s("RENAMENX", "nosuch", "x"), s("SET", "c", "2"), s("RENAMENX", "b", "c"),
		s("RENAMENX", "b", "d"), s("GET", "d"), s("EXISTS", "b"), s("SET", "t", "v", "EX", "100"), s("RENAME", "t", "u"), approx("TTL", "u"),
		s("TTL", "t"), s("RENAME", "u", "d"), s("GET", "d"), approx("TTL", "d"), s("COPY", "d", "d"), s("COPY", "d", "e"), approx("TTL", "e"),
		s("GET", "e"), s("COPY", "d", "e"), s("COPY", "d", "e", "REPLACE"), s("COPY", "d", "e", "DB", "0"),
		s("COPY", "d", "f", "db", "0", "replace"), s("GET", "f"), s("COPY", "d", "e", "DB", "x"), s("COPY", "d", "e", "BOGUS"),
		s("COPY", "d", "e", "DB"), s("COPY", "nosuch", "e"), s("COPY", "d"), s("RENAME", "d"), s("RENAMENX", "d", "e", "f"),
		s("SET", "bin\x00", "v\r\n"), s("RENAME", "bin\x00", "bin\x00b"), s("GET", "bin\x00b"), s("PERSIST", "d"), s("RENAME", "d", "p"),
		s("TTL", "p"), s("SET", "big", big), s("COPY", "big", "big2"), s("STRLEN", "big2"), s("RENAME", "big", "big2"), s("STRLEN", "big2"),
		s("EXISTS", "big"), s("DBSIZE"),
	},
	"object": {
		s("OBJECT", "ENCODING", "nosuch"), s("OBJECT", "REFCOUNT", "nosuch"), s("OBJECT", "FREQ", "nosuch"), s("OBJECT", "IDLETIME", "nosuch"),
		s("SET", "i", "123"), s("OBJECT", "ENCODING", "i"), s("OBJECT", "REFCOUNT", "i"), s("SET", "j", "12345"), s("OBJECT", "ENCODING", "j"),
		s("OBJECT", "REFCOUNT", "j"), s("SET", "n", "-42"), s("OBJECT", "ENCODING", "n"), s("OBJECT", "REFCOUNT", "n"),
		s("SET", "e", "hello"), s("OBJECT", "ENCODING", "e"), s("OBJECT", "REFCOUNT", "e"), s("SET", "r", strings.Repeat("r", 45)),
		s("OBJECT", "ENCODING", "r"), s("SET", "r", strings.Repeat("r", 44)), s("OBJECT", "ENCODING", "r"), s("SET", "z", "-0"),
		s("OBJECT", "ENCODING", "z"), s("SET", "z", "01"), s("OBJECT", "ENCODING", "z"), s("SET", "z", "99999999999999999999"),
		s("OBJECT", "ENCODING", "z"), s("SET", "z", "-9223372036854775808"), s("OBJECT", "ENCODING", "z"), s("SET", "z", ""),
		s("OBJECT", "ENCODING", "z"), s("object", "encoding", "i"), s("OBJECT", "BOGUS", "x"), s("OBJECT"), s("OBJECT", "ENCODING"),
		s("OBJECT", "ENCODING", "a", "b"), s("OBJECT", "HELP", "x"),
	},
	"watch": {
		s("WATCH"), s("UNWATCH", "x"), s("WATCH", "a", "b"), s("UNWATCH"), s("WATCH", "a"), s("SET", "a", "1"), s("MULTI"), s("GET", "a"),
		s("EXEC"), s("WATCH", "a"), s("MULTI"), s("SET", "b", "2"), s("EXEC"), s("MULTI"), s("WATCH", "a"), s("SET", "x", "1"), s("EXEC"),
		s("WATCH", "a"), s("FLUSHALL"), s("MULTI"), s("EXEC"), s("SET", "k", "v"), s("WATCH", "k"), s("FLUSHDB"), s("MULTI"), s("EXEC"),
		s("WATCH", "a"), s("DISCARD"), s("MULTI"), s("DISCARD"), s("SET", "a", "z"), s("MULTI"), s("EXEC"),
		s("WATCH", "a"), s("RESET"), s("SET", "a", "q"), s("MULTI"), s("EXEC"), s("MULTI"), s("UNWATCH"), s("EXEC"),
		s("WATCH", "m1", "m2"), s("MSET", "x", "1", "m2", "2"), s("MULTI"), s("EXEC"), s("WATCH", "r1"), s("SET", "r0", "v"),
		s("RENAME", "r0", "r1"), s("MULTI"), s("GET", "r1"), s("EXEC"), s("WATCH", "a"), s("MULTI"), s("NOSUCH"), s("EXEC"),
		s("WATCH", "w"), s("GET", "w"), s("MULTI"), s("INCR", "w"), s("EXEC"),
	},
	"reset": {
		s("CLIENT", "SETNAME", "n"), {args: []string{"HELLO", "3"}, how: hello}, s("MULTI"), s("RESET"), s("CLIENT", "GETNAME"), s("EXEC"),
		s("GET", "nokey"), s("RESET", "x"), s("reset"),
	},
	"save shutdown": {
		s("SAVE", "x"), s("LASTSAVE", "x"), s("BGSAVE", "x"), s("BGSAVE", "SCHEDULE", "x"), s("SAVE"), approx("LASTSAVE"),
		s("MULTI"), s("SAVE"), s("EXEC"), s("MULTI"), s("SHUTDOWN"), s("EXEC"), s("SHUTDOWN", "BOGUS"), s("SHUTDOWN", "SAVE", "NOSAVE"),
		s("SHUTDOWN", "ABORT"), s("SHUTDOWN", "ABORT", "NOW"), s("SHUTDOWN", "NOW", "FORCE", "ABORT"), s("MULTI"), s("LASTSAVE"), approx("EXEC"),
	},
	"config": {
		s("CONFIG"), s("CONFIG", "BOGUS"), s("CONFIG", "GET"), s("CONFIG", "GET", "save"), s("CONFIG", "GET", "appendonly"),
		s("CONFIG", "GET", "nosuch"), s("CONFIG", "GET", "maxclients"), s("CONFIG", "GET", "MAXCLIENTS"), s("CONFIG", "GET", "requirepass"),
		s("CONFIG", "GET", "timeout"), s("CONFIG", "GET", "proto-max-bulk-len"), s("CONFIG", "GET", "maxmemory-policy"),
		sorted("CONFIG", "GET", "maxclients", "timeout"), sorted("CONFIG", "GET", "maxclients", "max?lients"), s("CONFIG", "SET"),
		s("CONFIG", "SET", "nosuch", "1"), s("CONFIG", "SET", "maxclients"), s("CONFIG", "SET", "maxclients", "abc"),
		s("CONFIG", "SET", "maxclients", "100", "timeout"), s("CONFIG", "SET", "timeout", "-1"), s("CONFIG", "SET", "databases", "2"),
		s("CONFIG", "SET", "maxclients", "500", "timeout", "x"), s("CONFIG", "GET", "maxclients"), s("CONFIG", "SET", "maxclients", "500", "timeout", "7"),
		s("CONFIG", "GET", "timeout"), s("CONFIG", "GET", "maxclients"), s("CONFIG", "SET", "timeout", "0", "maxclients", "10000"),
		s("CONFIG", "SET", "timeout", "1", "timeout", "2"), s("CONFIG", "RESETSTAT"), s("CONFIG", "RESETSTAT", "x"), s("CONFIG", "REWRITE"),
		s("CONFIG", "SET", "save", ""), s("CONFIG", "SET", "appendonly", "no"), s("CONFIG", "SET", "requirepass", "pw"), s("CONFIG", "GET", "requirepass"),
		s("AUTH", "wrong"), s("AUTH", "pw"), s("CONFIG", "SET", "requirepass", ""), s("AUTH", "pw"), s("MULTI"), s("CONFIG", "GET", "save"), s("EXEC"),
	},
	"client list kill info": {
		fields("CLIENT", "INFO"), s("CLIENT", "SETNAME", "me"), fields("CLIENT", "INFO"), s("CLIENT", "INFO", "x"),
		s("CLIENT", "LIST", "ID", "999999"), s("CLIENT", "LIST", "TYPE", "bogus"), s("CLIENT", "LIST", "ID", "abc"), s("CLIENT", "LIST", "ID", "0"),
		s("CLIENT", "LIST", "BOGUS"), s("CLIENT", "LIST", "TYPE", "master"), s("CLIENT", "LIST", "TYPE", "pubsub"),
		s("CLIENT", "KILL", "1.2.3.4:5"), s("CLIENT", "KILL", "ID", "999999"), s("CLIENT", "KILL", "ID", "abc"), s("CLIENT", "KILL", "BOGUS", "x"),
		s("CLIENT", "KILL", "SKIPME", "maybe"), s("CLIENT", "KILL", "a", "b", "c"), s("CLIENT", "KILL", "TYPE", "bogus"),
		s("CLIENT", "KILL", "USER", "nobody"), s("CLIENT", "KILL", "TYPE", "master"), s("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME", "no"),
		s("CLIENT", "KILL"), s("MULTI"), fields("CLIENT", "INFO"), fields("EXEC"),
	},
	"resp3": {
		{args: []string{"HELLO", "3", "SETNAME", "x"}, how: hello}, s("GET", "nokey"), s("MGET", "a", "b"), s("SET", "k", "v", "NX", "GET"), s("SET", "k", "w", "NX"),
		s("GETDEL", "nokey"), s("INCRBYFLOAT", "f", "1.5"), {args: []string{"SCAN", "0"}, how: scanAll}, s("TIME", "x"),
		{args: []string{"HELLO", "2"}, how: hello}, s("GET", "nokey"),
	},
}

// TestSameRepliesAsRedis sends every case to a redis-server and to
// tiermem's server and compares the replies.
func TestSameRepliesAsRedis(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, &server.Options{SnapshotPath: filepath.Join(t.TempDir(), "dump.tmsnap")})
	names := make([]string, 0, len(diffCases))
	for name := range diffCases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, got := dial(t, redisAddr), dial(t, tmAddr)
			want.do("FLUSHALL")
			got.do("FLUSHALL")
			for i, st := range diffCases[name] {
				w, g := run(want, st), run(got, st)
				if !same(st.how, w, g) {
					t.Errorf("step %d %q:\n redis:   %q\n tiermem: %q", i, st.args, w, g)
				}
			}
		})
	}
}

// run sends a step's command; a scanAll step iterates to the end.
func run(c *client, st step) []byte {
	if st.how != scanAll {
		return c.do(st.args...)
	}
	args := slices.Clone(st.args)
	var keys []string
	for {
		r := c.do(args...)
		if r[0] != '*' {
			return r
		}
		cursor, elems := parseScanReply(c.t, r)
		keys = append(keys, elems...)
		if cursor == "0" {
			break
		}
		args[1] = cursor
	}
	slices.Sort(keys)
	return []byte(strings.Join(keys, "\n"))
}

// parseScanReply splits a SCAN reply into its cursor and keys.
func parseScanReply(t testing.TB, r []byte) (string, []string) {
	br := bufio.NewReader(bytes.NewReader(r))
	br.ReadString('\n') // *2
	br.ReadString('\n') // $n
	cursor, _ := br.ReadString('\n')
	line, _ := br.ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		t.Fatalf("a SCAN reply %q", r)
	}
	keys := make([]string, n)
	for i := range keys {
		br.ReadString('\n')
		k, _ := br.ReadString('\n')
		keys[i] = strings.TrimSuffix(k, "\r\n")
	}
	return strings.TrimSpace(cursor), keys
}

// same compares two replies as the step says.
func same(how compare, want, got []byte) bool {
	switch how {
	case unordered:
		return slices.Equal(elements(want), elements(got))
	case near:
		// A transaction's one reply is compared as the reply itself.
		want, got = bytes.TrimPrefix(want, []byte("*1\r\n")), bytes.TrimPrefix(got, []byte("*1\r\n"))
		if want[0] != ':' || got[0] != ':' {
			return bytes.Equal(want, got)
		}
		w, _ := strconv.ParseInt(string(want[1:len(want)-2]), 10, 64)
		g, _ := strconv.ParseInt(string(got[1:len(got)-2]), 10, 64)
		return max(w-g, g-w) <= 1 || w > 1000 && max(w-g, g-w) <= 50 // ms TTLs
	case hello:
		return bytes.Equal(maskHello(want), maskHello(got))
	case clientFields:
		return clientFieldsOf(want) == clientFieldsOf(got)
	}
	return bytes.Equal(want, got)
}

// maskHello blanks the server name and client id of a HELLO reply.
func maskHello(r []byte) []byte {
	r = regexp.MustCompile(`server\r\n\$\d+\r\n\w+`).ReplaceAll(r, []byte("server"))
	return regexp.MustCompile(`id\r\n:\d+`).ReplaceAll(r, []byte("id"))
}

// elements returns the lines of a flat array reply after its header,
// sorted by element.
func elements(r []byte) []string {
	lines := strings.Split(string(r), "\r\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "*") {
		return lines
	}
	var elems []string
	for i := 1; i+1 < len(lines); i += 2 {
		elems = append(elems, lines[i]+"\n"+lines[i+1])
	}
	slices.Sort(elems)
	return append([]string{lines[0]}, elems...)
}

// clientFieldsOf returns a CLIENT INFO reply's field names, and the
// values of those that do not depend on the server or the moment.
func clientFieldsOf(r []byte) string {
	if r[0] == '*' { // EXEC's reply: the array of one
		r = r[bytes.IndexByte(r, '\n')+1:]
	}
	if r[0] != '$' && r[0] != '=' {
		return string(r)
	}
	line := strings.TrimSpace(string(r[bytes.IndexByte(r, '\n')+1:]))
	var out []string
	for _, f := range strings.Fields(line) {
		name, _, _ := strings.Cut(f, "=")
		switch name {
		case "name", "db", "sub", "psub", "ssub", "flags", "multi", "events", "cmd", "user", "redir", "resp":
			out = append(out, f)
		default:
			out = append(out, name)
		}
	}
	return strings.Join(out, " ")
}

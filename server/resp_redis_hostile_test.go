package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

var hostileCases = map[string][]step{
	"set options": {
		s("SET", "k", "v", "NX", "NX"), s("SET", "k", "v", "XX", "XX"), s("SET", "k", "v", "GET", "GET"), s("SET", "k", "v", "KEEPTTL", "KEEPTTL"),
		s("SET", "k", "v", "PX", "10", "EX", "10"), s("SET", "k", "v", "EXAT", "10", "PXAT", "10"), s("SET", "k", "v", "EX", "10", "EXAT", "10"),
		s("SET", "k", "v", "KEEPTTL", "PXAT", "10"), s("SET", "k", "v", "EX", "1.5"), s("SET", "k", "v", "EX", "0x10"), s("SET", "k", "v", "EX", "+5"),
		s("SET", "k", "v", "EX", " 5"), s("SET", "k", "v", "EX", "05"), s("SET", "k", "v", "EX", "9223372036854775808"),
		s("SET", "k", "v", "EXAT", "0"), s("SET", "k", "v", "EXAT", "-1"), s("SET", "k", "v", "PXAT", "0"), s("SET", "k", "v", "PXAT", "-1"),
		s("SET", "k", "v", "EXAT", "9223372036854775807"), s("SET", "k", "v", "PXAT", "9223372036854775807"),
		s("SET", "k", "v", "EX", "9223372036854775"), s("SET", "k", "v", "EX", "9223372036854774"), s("SET", "k", "v", "PX", "9223372036854775000"),
		s("SET", "k", "v", "EXAT", "9223372036854775"), s("SET", "k", "v", "EXAT", "9223372036854776"),
		s("SET", "k", "v", "PX", "-1"), s("SET", "k", "v", "NX", "EX", "0"), s("SET", "k", "v", "XX", "EX", "-1"),
		s("SET", "k", "v", "GET", "NX"), s("SET", "nn", "v", "GET", "NX"), s("GET", "nn"), s("SET", "k", "v", "NX", "XX", "GET"),
		s("SET", "k", "v", "GET", "EX", "0"), s("SET", "k", "v", "GET", "BOGUS"), s("SET", "k", "v", "EX", "10", "GET", "PX"),
		s("SET", "k", "v", "PXAT", "1"), s("EXISTS", "k"), s("SET", "k", "v", "EXAT", "1", "GET"), s("SET", "k", "v", "PXAT", "1", "GET"),
		s("SET", "k", "v", "PXAT", "1", "NX"), s("SET", "k", "v", "PXAT", "1", "XX"), s("EXISTS", "k"),
		s("SET", "k", "v", "EX", "10"), s("SET", "k", "v", "PXAT", "1", "XX", "GET"), s("EXISTS", "k"),
		s("SETEX", "k", "9223372036854775", "v"), s("SETEX", "k", "1.5", "v"), s("PSETEX", "k", "-1", "v"), s("PSETEX", "k", "9223372036854775000", "v"),
		s("SETEX", "k", "10"), s("SETEX", "k", "10", "v", "x"), s("SETNX", "k", "v", "x"), s("GETSET", "k", "v", "x"),
	},
	"getex": {
		s("SET", "k", "v"), s("GETEX", "k", "EX", "-1"), s("GETEX", "k", "PX", "0"), s("GETEX", "k", "PX", "-5"), s("GETEX", "k", "EXAT", "0"),
		s("GETEX", "k", "EX", "9223372036854775807"), s("GETEX", "k", "PX", "9223372036854775807"), s("GETEX", "k", "EXAT", "9223372036854775807"),
		s("GETEX", "k", "PXAT", "9223372036854775807"), s("GETEX", "k", "EX", "9223372036854775"), s("GETEX", "k", "PX", "9223372036854775000"),
		s("GETEX", "k", "EX", "10", "EX", "20"), approx("TTL", "k"), s("GETEX", "k", "PERSIST", "PERSIST"), s("TTL", "k"),
		s("GETEX", "k", "PX", "10", "EXAT", "10"), s("GETEX", "nokey", "PERSIST"), s("GETEX", "nokey", "BOGUS"), s("GETEX", "nokey", "EX", "-1"),
		s("GETEX", "k", "PXAT", "1"), s("EXISTS", "k"), s("GETEX"), s("GETDEL", "a", "b"),
	},
	"incr": {
		s("INCRBY", "n", "9223372036854775808"), s("INCRBY", "n", "+1"), s("INCRBY", "n", " 1"), s("INCRBY", "n", "1 "), s("INCRBY", "n", "01"),
		s("INCRBY", "n", "-0"), s("INCRBY", "n", "1e3"), s("INCRBY", "n", ""), s("INCRBY", "n", "-"), s("DECRBY", "n", "9223372036854775807"),
		s("DECRBY", "n", "9223372036854775807"), s("DECRBY", "n", "9223372036854775807"), s("GET", "n"),
		s("SET", "n", "-9223372036854775808"), s("DECR", "n"), s("INCRBY", "n", "-1"), s("DECRBY", "n", "-1"), s("INCR", "n"),
		s("SET", "n", "1e3"), s("INCR", "n"), s("SET", "n", "0001"), s("INCRBY", "n", "2"), s("GET", "n"), s("SET", "n", "-01"), s("INCR", "n"),
		s("SET", "n", "12345678901234567890"), s("INCR", "n"), s("SET", "n", "9223372036854775808"), s("DECR", "n"),
		s("SET", "n", "-9223372036854775809"), s("INCR", "n"), s("SET", "n", "1\r\n"), s("INCR", "n"), s("SET", "n", "\x001"), s("INCR", "n"),
		s("DECRBY", "n"), s("DECRBY", "n", "1", "2"), s("INCRBY", "n"), s("DECR"), s("DECR", "a", "b"),
	},
	"incrbyfloat": {
		s("SET", "f", "inf"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "0x10"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "1e400"), s("INCRBYFLOAT", "f", "1"),
		s("SET", "f", "1e3"), s("INCRBYFLOAT", "f", "1e3"), s("SET", "f", " 1"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "1 "), s("INCRBYFLOAT", "f", "1"),
		s("SET", "f", "infinity"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "-nan"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", ".5"), s("INCRBYFLOAT", "f", "1"),
		s("SET", "f", "+.5e1"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "1e-400"), s("INCRBYFLOAT", "f", "1"), s("SET", "f", "0x1p3"), s("INCRBYFLOAT", "f", "1"),
		s("INCRBYFLOAT", "f", "0x1p3"), s("INCRBYFLOAT", "f", "INF"), s("INCRBYFLOAT", "f", "-Infinity"), s("INCRBYFLOAT", "f", "1e-400"),
		s("SET", "f", "9223372036854775807"), s("INCRBYFLOAT", "f", "1"), s("INCRBYFLOAT", "f", "1e-5"), s("SET", "f", "1.5"), s("INCRBYFLOAT", "f", "-1.5"),
		s("INCRBYFLOAT", "f", "-1e-18"), s("SET", "f", "123456789.123456789"), s("INCRBYFLOAT", "f", "0"), s("INCRBYFLOAT", "f", "1.0000000000000000001"),
		s("SET", "f", "1"), s("INCRBYFLOAT", "f", "1e17"), s("INCRBYFLOAT", "f", "1e-17"), s("INCRBYFLOAT", "g", "3e-310"), s("INCRBYFLOAT", "g2", "1.7976931348623157e308"),
		s("INCRBYFLOAT", "g2", "1.7976931348623157e308"), s("GET", "g2"), s("INCRBYFLOAT", "f"), s("INCRBYFLOAT", "f", "1", "2"),
	},
	"ranges": {
		s("SET", "k", "Hello"), s("GETRANGE", "k", "0", "-100"), s("GETRANGE", "k", "-1", "-100"), s("GETRANGE", "k", "-100", "-100"), s("GETRANGE", "k", "-100", "-99"),
		s("GETRANGE", "k", "4", "4"), s("GETRANGE", "k", "5", "5"), s("GETRANGE", "k", "-5", "0"), s("GETRANGE", "k", "9223372036854775807", "-1"),
		s("GETRANGE", "k", "0", "9223372036854775808"), s("GETRANGE", "k", "0", "-9223372036854775808"), s("GETRANGE", "k", "1.5", "2"),
		s("SET", "e", ""), s("GETRANGE", "e", "0", "-1"), s("GETRANGE", "e", "-1", "-1"), s("GETRANGE", "e", "0", "0"), s("GETRANGE", "nokey", "x", "y"),
		s("SETRANGE", "k", "9999999999", ""), s("SETRANGE", "k", "-1", ""), s("SETRANGE", "nokey", "9999999999", ""), s("SETRANGE", "nokey", "-1", ""),
		s("SETRANGE", "nokey", "x", ""), s("EXISTS", "nokey"), s("SETRANGE", "k", "536870912", "x"), s("SETRANGE", "nokey", "536870912", "x"),
		s("SETRANGE", "k", "5", "!"), s("GET", "k"), s("SETRANGE", "e", "0", "a"), s("GET", "e"), s("SETRANGE", "z", "2", "\x00\r\n"), s("GET", "z"),
		s("SETRANGE", "k", "1"), s("SETRANGE", "k", "1", "a", "b"), s("GETRANGE", "k", "1", "2", "3"),
		s("APPEND", "e2", ""), s("EXISTS", "e2"), s("GET", "e2"), s("APPEND", "k", "a", "b"), s("STRLEN", "k", "x"),
	},
	"mset": {
		s("MSETNX", "x", "1", "x", "2"), s("GET", "x"), s("MSETNX", "y", "1", "x", "2"), s("GET", "y"), s("MSETNX", "a", "1", "b"), s("MSETNX"), s("MSET"),
		s("MSET", "p", "1", "q"), s("EXISTS", "p"), s("MGET", "x", "x", "nokey", "x"),
	},
	"expire flags": {
		s("SET", "a", "v"), s("EXPIRE", "a", "100", "XX", "GT"), s("EXPIRE", "a", "100", "GT", "GT"), s("EXPIRE", "a", "100", "NX", "NX"),
		s("EXPIRE", "a", "100", "LT", "XX"), approx("TTL", "a"), s("EXPIRE", "a", "200", "XX", "LT"), s("EXPIRE", "a", "200", "XX", "GT"), approx("TTL", "a"),
		s("EXPIRE", "a", "-1", "GT"), s("EXISTS", "a"), s("EXPIRE", "a", "-1", "NX"), s("EXISTS", "a"), s("EXPIRE", "a", "-1", "LT"), s("EXISTS", "a"),
		s("SET", "b", "v"), s("EXPIRE", "b", "-1", "NX"), s("EXISTS", "b"), s("SET", "b", "v"), s("EXPIRE", "b", "-1", "XX"), s("EXISTS", "b"),
		s("EXPIRE", "b", "-1", "GT"), s("EXISTS", "b"), s("EXPIRE", "b", "-1", "LT"), s("EXISTS", "b"),
		s("SET", "c", "v"), s("EXPIRE", "c", "100", "nx"), s("EXPIRE", "c", "200", "Gt"), s("PEXPIRE", "c", "100000", "LT"), approx("PTTL", "c"),
		s("EXPIREAT", "c", "1", "GT"), s("EXISTS", "c"), s("PEXPIREAT", "c", "1", "LT"), s("EXISTS", "c"),
		s("SET", "d", "v"), s("PEXPIRE", "d", "9223372036854775000"), s("EXPIRE", "d", "9223372036854775"), s("EXPIRE", "d", "9223372036854774"),
		s("EXPIREAT", "d", "9223372036854775"), s("PEXPIREAT", "d", "9223372036854775807"), s("PEXPIRE", "d", "-9223372036854775808"), s("EXISTS", "d"),
		s("SET", "d", "v"), s("EXPIRE", "d", "-9223372036854775"), s("EXISTS", "d"), s("SET", "d", "v"), s("EXPIRE", "d", "-9223372036854776"), s("EXISTS", "d"),
		s("SET", "d", "v"), s("EXPIRE", "d", "100", "BOGUS", "NX"), s("EXPIRE", "d", "100", "NX", "BOGUS"), s("EXPIRE", "nokey", "100", "NX", "XX"),
		s("EXPIRE", "nokey", "x", "NX"), s("EXPIRE", "nokey", "100", "BOGUS"), s("EXPIRE", "d", "1.5"), s("EXPIRE", "d", ""), s("PEXPIRE", "d", "+5"),
		s("TTL", "d", "x"), s("PTTL"), s("EXPIRETIME", "d"), s("PEXPIRETIME", "d"), s("EXPIRETIME", "nokey"), s("PEXPIRETIME", "nokey"), s("EXPIRETIME"),
		s("PERSIST", "d", "x"), s("PERSIST", "nokey"),
	},
	"rename": {
		s("SET", "a", "1"), s("RENAMENX", "a", "a"), s("RENAMENX", "nokey", "nokey"), s("COPY", "nokey", "nokey"), s("COPY", "a", "a", "REPLACE"),
		s("COPY", "a", "b", "REPLACE", "REPLACE"), s("COPY", "a", "b", "DB", "-1"), s("COPY", "a", "b", "DB", "0", "DB", "0"),
		s("COPY", "a", "a", "DB", "0"), s("RENAME", "a", "a", "x"),
		s("SET", "t", "v", "PX", "100000"), s("RENAME", "t", "t"), approx("TTL", "t"), s("RENAMENX", "t", "a"), s("COPY", "t", "a"),
	},
	"scan": {
		s("MSET", "a1", "1", "a2", "2", "b\x00\r\n", "3"), s("SCAN", "0", "COUNT", "-1"), s("SCAN", "0", "COUNT", "9223372036854775808"),
		s("SCAN", "0", "TYPE"), s("SCAN", "0", "COUNT"),
		{args: []string{"SCAN", "0", "MATCH", "zz", "MATCH", "a*"}, how: scanAll}, {args: []string{"SCAN", "0", "TYPE", "nosuchtype"}, how: scanAll},
		{args: []string{"SCAN", "0", "type", "hash"}, how: scanAll},
		sorted("KEYS", "b\x00?\n"), sorted("KEYS", "*\r*"),
		s("SCAN", "0 "),
		s("SCAN", "1.5"), s("SCAN", "0x1"), s("SCAN", "0", "match", "*", "count", "1", "type", "string", "extra"), s("KEYS", "a", "b"),
		s("SCAN", "0", "COUNT", "1", "COUNT", "0"),
	},
	"transactions": {
		s("MULTI"), s("SET", "k", "1"), s("GET"), s("SET", "k", "2"), s("EXEC"), s("GET", "k"), s("EXEC"),
		s("MULTI"), s("WATCH", "k"), s("UNWATCH"), s("EXEC"), s("DISCARD", "x"), s("MULTI", "x"), s("MULTI"), s("DISCARD", "x"), s("EXEC"),
		s("MULTI"), s("EXEC", "x"), s("EXEC"), s("WATCH", "k", "k"), s("MULTI"), s("SET", "k", "3"), s("EXEC"),
		s("MULTI"), s("INCR", "k"), s("INCRBYFLOAT", "k", "x"), s("SETRANGE", "k", "-1", "x"), s("EXPIRE", "k", "x"), s("PING"), s("ECHO", "e"), s("EXEC"),
		s("MULTI"), s("SELECT", "0"), s("EXEC"),
		s("MULTI"), s("WATCH"), s("EXEC"), s("MULTI"), s("RESET", "x"), s("EXEC"),
		s("MULTI"), s("FLUSHALL"), s("DBSIZE"), s("EXEC"), s("MULTI"), s("KEYS", "*"), s("SCAN", "0"), s("RANDOMKEY"), s("EXEC"),
	},
	"resp3 shapes": {
		{args: []string{"HELLO", "3"}, how: hello}, s("SET", "k", "v"), s("TTL", "k"), s("EXPIRE", "k", "100"), s("INCRBYFLOAT", "f", "1.5"),
		s("CONFIG", "GET", "timeout"), s("OBJECT", "ENCODING", "k"), s("OBJECT", "ENCODING", "nokey"), s("MULTI"), s("GET", "nokey"), s("SET", "k", "w", "NX"), s("CONFIG", "GET", "maxclients"), s("EXEC"),
		s("WATCH", "k"), s("SET", "k", "x"), s("MULTI"), s("EXEC"), s("MULTI"), s("NOSUCH"), s("EXEC"), s("GETEX", "nokey"), s("SET", "z", "v", "GET"),
		s("MGET", "k", "nokey"), s("KEYS", "nomatch"), s("SCAN", "0", "MATCH", "nomatch"),
		s("COPY", "a", "b"), s("EXISTS", "k"), s("PING"), s("PING", "x"), s("ECHO", "x"), s("GETRANGE", "nokey", "0", "1"), s("GETDEL", "nokey"),
		s("CLIENT", "GETNAME"), s("COMMAND", "INFO", "nosuch"), s("OBJECT", "FREQ", "nokey"), s("LASTSAVE", "x"), s("HELLO", "3", "x"),
	},
	"object": {
		s("SET", "k", "123"), s("OBJECT", "ENCODING", "k", "x"), s("OBJECT", "FREQ"), s("OBJECT", "REFCOUNT"), s("OBJECT", "IDLETIME"),
		s("OBJECT", "freq", "k", "x"), s("OBJECT", "refcount", "k"), s("SET", "k", "10000"), s("OBJECT", "REFCOUNT", "k"), s("SET", "k", "9999"), s("OBJECT", "REFCOUNT", "k"),
		s("SET", "k", "-1"), s("OBJECT", "REFCOUNT", "k"), s("OBJECT", "ENCODING", "k"), s("SET", "k", "+1"), s("OBJECT", "ENCODING", "k"),
		s("SET", "k", "9223372036854775807"), s("OBJECT", "ENCODING", "k"), s("SET", "k", " 1"), s("OBJECT", "ENCODING", "k"), s("APPEND", "k2", "1"), s("OBJECT", "ENCODING", "k2"),
		s("INCR", "k3"), s("OBJECT", "ENCODING", "k3"), s("SETRANGE", "k4", "0", "12"), s("SET", "k5", "12345678901234567890"), s("OBJECT", "ENCODING", "k5"),
	},
	"arity": {
		s("PING", "a", "b", "c"), s("ECHO", "a", "b"), s("SELECT", "0", "1"), s("AUTH"), s("TIME", "a"), s("MULTI", "a"), s("WATCH"), s("UNWATCH", "a"),
		s("GET", "a", "b"), s("SET"), s("SETNX"), s("SETEX"), s("PSETEX"), s("GETDEL"), s("GETEX"), s("GETSET"), s("MGET"), s("MSET"), s("MSETNX"), s("STRLEN"),
		s("GETRANGE"), s("SETRANGE"), s("APPEND"), s("INCR"), s("DECR"), s("INCRBY"), s("DECRBY"), s("INCRBYFLOAT"), s("DEL"), s("UNLINK"), s("EXISTS"), s("TOUCH"),
		s("TYPE", "a", "b"), s("RANDOMKEY", "a"), s("RENAME"), s("RENAMENX"), s("COPY"), s("OBJECT"), s("EXPIRE"), s("PEXPIRE"), s("EXPIREAT"), s("PEXPIREAT"),
		s("EXPIREAT", "k"), s("PEXPIREAT", "k", "1", "NX", "x"), s("EXPIRETIME", "a", "b"), s("PEXPIRETIME"), s("TTL", "a", "b"), s("PTTL", "a", "b"), s("PERSIST"),
		s("SCAN"), s("KEYS"), s("DBSIZE", "a"), s("LASTSAVE", "a"), s("SAVE", "a"), s("INFO", "a", "b", "c"), s("CLIENT"), s("CONFIG"),
		s("HELLO", "3", "AUTH"), s("HELLO", "3", "SETNAME"), s("HELLO", "3", "AUTH", "a"), s("CLIENT", "ID", "x"), s("CLIENT", "SETNAME", "a", "b"),
		s("CLIENT", "HELP", "x"), s("CONFIG", "HELP", "x"), s("CONFIG", "RESETSTAT", "x"), s("CONFIG", "GET"), s("CONFIG", "SET", "timeout"),
		s("get"), s("gEt", "a", "b"), s("SETRANGE", "a", "b"), s("DISCARD", "a"), s("EXEC", "a"),
	},
	"resp3 more": {
		{args: []string{"HELLO", "3"}, how: hello}, s("SET", "k", "1"), s("CONFIG", "GET", "nosuch"),
		s("MULTI"), s("CONFIG", "GET", "timeout"), s("TTL", "k"), s("INCRBYFLOAT", "f", "2"), s("MGET", "k", "no"), s("EXEC"),
		s("MULTI"), s("MULTI"), s("EXEC"), s("EXPIRE", "k", "100", "NX", "XX"), s("CLIENT", "GETNAME"),
		s("SET", "k", "v", "NX", "GET"), s("SET", "k2", "v", "XX", "GET"), s("SET", "k", "w", "XX", "GET"), s("GETEX", "k", "PERSIST"),
		s("DBSIZE"), s("EXISTS", "k", "k"), s("COPY", "k", "k2"), s("RENAMENX", "k", "k2"), s("TYPE", "k"), s("TYPE", "no"), s("STRLEN", "no"),
		s("SETNX", "k", "v"), s("MSETNX", "k", "v"), s("PERSIST", "k"), s("CLIENT", "SETNAME", "x"), s("SELECT", "0"), s("DISCARD"),
		s("WATCH", "k"), s("UNWATCH"), s("FLUSHDB"), s("LASTSAVE", "x"), s("PING"), s("SCAN", "0"), s("SCAN", "0", "COUNT", "0"),
		s("HELLO", "2", "x"), s("HELLO", "3", "SETNAME", "a b"), s("CLIENT", "SETNAME", "a b"), s("RESET", "x"),
	},
	"ttl rounding": {
		s("SET", "k", "v"), s("PEXPIREAT", "k", "4102444800499"), s("EXPIRETIME", "k"), s("PEXPIREAT", "k", "4102444800500"), s("EXPIRETIME", "k"),
		s("PEXPIREAT", "k", "4102444800999"), s("EXPIRETIME", "k"), s("PEXPIRETIME", "k"), s("SET", "a", "v", "PX", "300"), s("TTL", "a"),
		s("SET", "b", "v", "PX", "1900"), s("TTL", "b"), s("SET", "c", "v", "PX", "1300"), s("TTL", "c"), s("GETEX", "k", "PXAT", "4102444800501"), s("EXPIRETIME", "k"),
		s("SET", "d", "v", "PXAT", "4102444800700"), s("EXPIRETIME", "d"), s("RENAME", "d", "e"), s("EXPIRETIME", "e"), s("PEXPIRETIME", "e"),
		s("COPY", "e", "f"), s("PEXPIRETIME", "f"),
	},
	"config edges": {
		s("CONFIG", "SET", "timeout", "9223372036854775807"), s("CONFIG", "GET", "timeout"), s("PING"), s("CONFIG", "SET", "timeout", "2147483647"), s("CONFIG", "GET", "timeout"),
		s("CONFIG", "SET", "timeout", "2147483648"), s("CONFIG", "SET", "timeout", "0"), s("CONFIG", "SET", "maxclients", "0"), s("CONFIG", "SET", "maxclients", "-1"),
		s("CONFIG", "SET", "maxclients", "1.5"), s("CONFIG", "SET", "maxclients", "9223372036854775807"), s("CONFIG", "SET", "maxclients", "10000"),
		s("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"),

		s("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"),
		s("CONFIG", "SET", "appendfsync", "bogus"), s("CONFIG", "SET", "timeout", "0"),
		s("CONFIG", "SET", "timeout", "-0"), s("CONFIG", "SET", "timeout", "+5"), s("CONFIG", "SET", "timeout", " 5"), s("CONFIG", "SET", "timeout", "5k"), s("CONFIG", "GET", "timeout"), s("CONFIG", "SET", "timeout", "0"),
	},
	"crlf in errors": {
		s("a\r\nb"), s("nosuch", "x\r\ny"), s("CONFIG", "SET", "a\r\nb", "1"), s("OBJECT", "x\r\n", "k"), s("CLIENT", "x\r\n"), s("COMMAND", "x\r\n"),
		s("HELLO", "x\r\n"), s("CLIENT", "KILL", "x\r\n", "y"), s("CLIENT", "SETNAME", "a\r\n"), s("SHUTDOWN", "x\r\n"), s("CONFIG", "SET", "maxclients", "1\r\n2"),
		s("CONFIG", "GET", "a\r\n"), s("INFO", "a\r\n"), s("CONFIG", "x\r\n"), s("SET", "k", "v", "x\r\n"), s("GETEX", "k", "x\r\n"), s("CLIENT", "LIST", "TYPE", "x\r\n"),
		s("CLIENT", "KILL", "TYPE", "x\r\n"), s("CLIENT", "KILL", "ADDR", "x\r\n"), s("SCAN", "0", "x\r\n", "y"), s("COPY", "a", "b", "x\r\n"),
		s("CONFIG", "SET", "appendfsync", "x\r\n"), s("CONFIG", "SET", "requirepass", "a", "a\r\n", "b"), s("HELLO", "3", "x\r\n"), s("HELLO", "3", "AUTH", "x\r\n", "y"),
		s("CONFIG", "SET", "timeout", "x\r\n"), s("CLIENT", "KILL", "ID", "x\r\n"), s("CLIENT", "LIST", "ID", "x\r\n"), s("FLUSHALL", "x\r\n"), s("SHUTDOWN", "SAVE", "x\r\n"),
		s("BGSAVE", "x\r\n"), s("COMMAND", "INFO", "x\r\n"), s("COMMAND", "COUNT", "x\r\n"), s("SELECT", "x\r\n"), s("OBJECT", "ENCODING", "k\r\n", "extra"),
	},
	"binary": {
		s("SET", "\r\n", "\x00"), s("GET", "\r\n"), s("SET", "\x00", "\r\n\r\n"), s("GET", "\x00"), s("APPEND", "\x00", "\x00"), s("GET", "\x00"),
		s("SETRANGE", "\x00", "1", "\r"), s("GET", "\x00"), s("GETRANGE", "\x00", "1", "2"), s("MSET", "*", "1", "?", "2", "[", "3", "\\", "4"),
		sorted("KEYS", "\\*"), sorted("KEYS", "\\"), sorted("KEYS", "["), sorted("KEYS", "[\\"), sorted("KEYS", "?"), sorted("KEYS", "[]"), sorted("KEYS", "[!]"),
		s("RENAME", "\r\n", "\n\r"), s("GET", "\n\r"), s("COPY", "\n\r", "\r\n"), s("STRLEN", "\r\n"), s("INCR", "\x00"), s("SET", "\xff", "1"), s("INCR", "\xff"),
		s("EXPIRE", "\xff", "100"), approx("TTL", "\xff"), s("GETDEL", "\xff"), s("TYPE", "\x00"),
	},
}

// TestHostileSameAsRedisEdgeCases sends hostileCases to a redis-server and to
// tiermem and compares the replies (documented differences left out).
func TestHostileSameAsRedisEdgeCases(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, &server.Options{SnapshotPath: filepath.Join(t.TempDir(), "dump.tmsnap")})
	names := make([]string, 0, len(hostileCases))
	for name := range hostileCases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want, got := dial(t, redisAddr), dial(t, tmAddr)
		want.do("FLUSHALL")
		got.do("FLUSHALL")
		for i, st := range hostileCases[name] {
			w, g := run(want, st), run(got, st)
			if !same(st.how, w, g) {
				t.Errorf("%s step %d %q:\n redis:   %q\n tiermem: %q", name, i, st.args, w, g)
			}
		}
	}
}

// TestHostileRawSameAsRedis compares raw exchanges: a deep mixed pipeline,
// streamed SETs (value followed by XY, not CRLF; NX; twice), inline commands.
func TestHostileRawSameAsRedis(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, &server.Options{})
	big := strings.Repeat("b", 2<<20)
	var pipe strings.Builder
	for i := range 3000 {
		switch i % 6 {
		case 0:
			pipe.Write(encode("INCR", "n"))
		case 1:
			pipe.Write(encode("SET", "k\r\n\x00", strings.Repeat("v", i)))
		case 2:
			pipe.Write(encode("GET", "k\r\n\x00"))
		case 3:
			pipe.Write(encode("MULTI"))
		case 4:
			pipe.Write(encode("APPEND", "a", "xy"))
		case 5:
			pipe.Write(encode("EXEC"))
		}
	}
	cases := []string{
		pipe.String(),
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "2097152\r\n" + big + "XY*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n",
		"*3\r\n$3\r\nset\r\n$1\r\nk\r\n$" + "2097152\r\n" + big + "\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"MULTI\r\nSET k v\r\nEXEC\r\n", "SET k \"a\\r\\nb\"\r\nGET k\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "2097152\r\n" + big[:1000],
		"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "2097152\r\n" + big + "\r\n$2\r\nNX\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "2097152\r\n" + big + "\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "2097152\r\n" + big + "\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n",
	}
	for i, raw := range cases {
		c1, c2 := dial(t, redisAddr), dial(t, tmAddr)
		c1.do("FLUSHALL")
		c2.do("FLUSHALL")
		want := rawExchange(t, redisAddr, []byte(raw))
		got := rawExchange(t, tmAddr, []byte(raw))
		if string(want) != string(got) {
			n := 0
			for n < len(want) && n < len(got) && want[n] == got[n] {
				n++
			}
			t.Errorf("case %d: differ at byte %d of %d/%d:\n redis:   %.200q\n tiermem: %.200q", i, n, len(want), len(got), want[n:], got[n:])
		}
		c1.do("STRLEN", "k")
	}
}

// TestHostileWatchOtherClient: a key WATCHed by one client and changed by
// another makes the first client's EXEC reply null, for every write command
// (doc.go: any write naming a watched key), a streamed SET of 2 MiB included.
func TestHostileWatchOtherClient(t *testing.T) {
	tmAddr, _, _ := startTiermem(t, &server.Options{})
	large := strings.Repeat("L", 2<<20)
	writes := [][]string{
		{"SET", "k", "2"}, {"APPEND", "k", "x"}, {"SETRANGE", "k", "0", "z"}, {"INCR", "k"}, {"INCRBY", "k", "5"}, {"DECR", "k"},
		{"INCRBYFLOAT", "k", "1.5"}, {"GETDEL", "k"}, {"GETSET", "k", "q"}, {"GETEX", "k", "EX", "100"}, {"GETEX", "k", "PERSIST"},
		{"MSET", "a", "1", "k", "2"}, {"DEL", "k"}, {"UNLINK", "k"}, {"EXPIRE", "k", "100"}, {"PEXPIRE", "k", "100000"},
		{"EXPIREAT", "k", "4102444800"}, {"RENAME", "k", "other"}, {"RENAME", "src", "k"}, {"RENAMENX", "k", "fresh"},
		{"COPY", "src", "k", "REPLACE"}, {"SET", "k", "v", "EX", "10"}, {"SETEX", "k", "10", "v"}, {"PSETEX", "k", "10000", "v"},
		{"SET", "k", large}, {"FLUSHALL"}, {"FLUSHDB"}, {"SET", "k", "v", "GET"}, {"EXPIRE", "k", "0"},
	}
	for _, w := range writes {
		for _, addr := range []string{tmAddr} {
			a, b := dial(t, addr), dial(t, addr)
			b.do("FLUSHALL")
			b.do("SET", "k", "1")
			b.do("SET", "src", "s")
			a.do("WATCH", "k")
			b.do(w...)
			a.do("MULTI")
			a.do("GET", "src")
			got := a.do("EXEC")
			if string(got) != "*-1\r\n" {
				t.Errorf("WATCH k, another client %.40q, EXEC = %q, want a null (aborted)", w, got)
			}
		}
	}
}

// TestHostileIncrByFloatRandom compares INCRBYFLOAT over 4000 random numbers
// (25 digits, exponents to the long double's limits) with Redis's.
func TestHostileIncrByFloatRandom(t *testing.T) {
	redis, tm := dial(t, startRedis(t)), dial(t, mustTiermem(t))
	r := rand.New(rand.NewPCG(1, 2))
	num := func() string {
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteByte('-')
		}
		nd := 1 + r.IntN(25)
		for range nd {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range r.IntN(25) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "e%d", []int{r.IntN(80) - 40, r.IntN(10000) - 5000, r.IntN(700) - 350, 4930 + r.IntN(5), -4950 + r.IntN(20)}[r.IntN(5)])
		}
		return b.String()
	}
	bad := 0
	for i := range 4000 {
		key := "f" + strconv.Itoa(i%7)
		var args []string
		if r.IntN(3) == 0 {
			args = []string{"SET", key, num()}
			redis.do(args...)
			tm.do(args...)
		}
		args = []string{"INCRBYFLOAT", key, num()}
		if w, g := redis.do(args...), tm.do(args...); string(w) != string(g) {
			bad++
			if bad < 15 {
				t.Errorf("%q (value %q):\n redis:   %q\n tiermem: %q", args, redis.do("GET", key), w, g)
			}
			redis.do("SET", key, "0")
			tm.do("SET", key, "0")
		}
	}
	if bad > 0 {
		t.Errorf("%d of 4000 differ", bad)
	}
}

// TestHostileStalledStreamedSet: a client that sends part of a large SET
// and stalls must not hold up other clients' commands.
func TestHostileStalledStreamedSet(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{SnapshotPath: filepath.Join(t.TempDir(), "dump.tmsnap")})
	b := dial(t, addr)
	b.do("SET", "k", "old")
	a := dial(t, addr)
	size := 4 << 20
	a.send(append(encode("SET", "k", "")[:len("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n")], fmt.Sprintf("$%d\r\n%s", size, strings.Repeat("n", size/2))...))
	time.Sleep(300 * time.Millisecond)
	for _, cmd := range [][]string{
		{"GET", "k"}, {"STRLEN", "k"}, {"EXISTS", "k"}, {"TTL", "k"}, {"SET", "other", "v"}, {"MSET", "x", "1"}, {"DBSIZE"}, {"KEYS", "*"},
		{"SCAN", "0"}, {"COPY", "k", "k2"}, {"RENAME", "k2", "k3"}, {"APPEND", "k", "+"}, {"SET", "k", "mid"}, {"EXPIRE", "k", "100"},
		{"MULTI"}, {"GET", "k"}, {"EXEC"}, {"INFO", "keyspace"}, {"SAVE"}, {"CONFIG", "SET", "timeout", "0"}, {"CLIENT", "LIST"},
		{"FLUSHALL"}, {"OBJECT", "ENCODING", "k"}, {"TIER.USAGE"},
	} {
		done := make(chan []byte, 1)
		go func() {
			b.send(encode(cmd...))
			var buf bytes.Buffer
			b.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			readReply(b.br, &buf)
			done <- buf.Bytes()
		}()
		got := <-done
		if len(got) == 0 {
			t.Fatalf("%q: no reply in 3 s while another client's SET of k is half sent", cmd)
		}
	}
	a.send([]byte(strings.Repeat("n", size/2) + "\r\n"))
	if got := a.reply(); string(got) != "+OK\r\n" {
		t.Errorf("the streamed SET replied %q", got)
	}
	if got := b.do("STRLEN", "k"); string(got) != fmt.Sprintf(":%d\r\n", size) {
		t.Errorf("STRLEN k = %q after the streamed SET", got)
	}
}

// TestHostileResp3Kinds: after HELLO 3 each reply has the kind Redis gives
// (verbatim INFO and CLIENT INFO, maps, nulls), and short arrays are equal.
func TestHostileResp3Kinds(t *testing.T) {
	redis, tm := dial(t, startRedis(t)), dial(t, mustTiermem(t))
	redis.do("HELLO", "3")
	tm.do("HELLO", "3")
	for _, cmd := range [][]string{
		{"INFO"}, {"INFO", "keyspace"}, {"CLIENT", "INFO"}, {"CLIENT", "LIST"}, {"COMMAND", "COUNT"}, {"COMMAND", "INFO", "get"},
		{"CONFIG", "GET", "save"}, {"CLIENT", "HELP"}, {"CONFIG", "HELP"}, {"OBJECT", "HELP"}, {"COMMAND", "DOCS"}, {"LASTSAVE"}, {"DBSIZE"},
		{"SET", "k", "1"}, {"OBJECT", "ENCODING", "k"}, {"OBJECT", "REFCOUNT", "k"}, {"MULTI"}, {"INFO", "server"}, {"CLIENT", "INFO"}, {"EXEC"},
		{"CLIENT", "LIST", "ID", "1"}, {"MGET", "k"}, {"KEYS", "*"}, {"SCAN", "0"}, {"HELLO"}, {"RESET"}, {"INFO", "keyspace"},
	} {
		w, g := redis.do(cmd...), tm.do(cmd...)
		if w[0] != g[0] || w[0] == '*' && g[0] == '*' && strings.Count(string(w), "\n") < 6 && string(w) != string(g) {
			t.Errorf("%q: redis %.80q, tiermem %.80q", cmd, w, g)
		}
	}
}

// TestHostileConcurrentMix runs six clients' pipelines of data, admin and
// TIER commands at once under -race: every command gets its reply.
func TestHostileConcurrentMix(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{SnapshotPath: filepath.Join(t.TempDir(), "dump.tmsnap")})
	cmds := [][]string{
		{"SET", "k", "v"}, {"GET", "k"}, {"MSET", "a", "1", "k", "2"}, {"MULTI"}, {"INCR", "n"}, {"EXEC"}, {"WATCH", "k"}, {"UNWATCH"},
		{"CONFIG", "SET", "timeout", "0"}, {"CONFIG", "SET", "maxclients", "10000"}, {"CLIENT", "LIST"}, {"CLIENT", "SETNAME", "x"},
		{"INFO"}, {"SAVE"}, {"BGSAVE"}, {"FLUSHALL"}, {"KEYS", "*"}, {"SCAN", "0"}, {"RENAME", "k", "k2"}, {"COPY", "k2", "k"},
		{"EXPIRE", "k", "1"}, {"GETEX", "k", "PERSIST"}, {"APPEND", "k", "x"}, {"SETRANGE", "k", "3", "y"}, {"DBSIZE"}, {"RANDOMKEY"},
		{"TIER.MOVE", "k", "warm"}, {"TIER.MOVE", "k", "cold"}, {"TIER.PIN", "k"}, {"TIER.UNPIN", "k"}, {"TIER.STATS"}, {"TIER.USAGE"},
		{"OBJECT", "FREQ", "k"}, {"OBJECT", "IDLETIME", "k"}, {"CLIENT", "INFO"}, {"CONFIG", "SET", "tiermem-hot-budget", "4mb"},
		{"CONFIG", "SET", "tiermem-hot-budget", "8mb"}, {"HELLO", "3"}, {"HELLO", "2"}, {"RESET"}, {"MSETNX", "z", "1"}, {"GETDEL", "z"},
		{"CONFIG", "SET", "appendfsync", "always"}, {"CONFIG", "SET", "appendfsync", "no"}, {"TIER.MIGRATE"}, {"SET", "big", strings.Repeat("B", 200000)}, {"GET", "big"},
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for time.Now().Before(deadline) {
				var batch []byte
				n := 1 + r.IntN(20)
				for range n {
					batch = append(batch, encode(cmds[r.IntN(len(cmds))]...)...)
				}
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := nc.Write(batch); err != nil {
					t.Error(err)
					return
				}
				for range n {
					var buf bytes.Buffer
					if err := readReply(br, &buf); err != nil {
						t.Errorf("client %d: %v", g, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestHostileExpired: keys whose TTL ran out read as absent in every command
// (RANDOMKEY, KEYS, SCAN, RENAME, COPY, SETRANGE, APPEND...), as in Redis.
func TestHostileExpired(t *testing.T) {
	redis, tm := dial(t, startRedis(t)), dial(t, mustTiermem(t))
	for _, c := range []*client{redis, tm} {
		c.do("SET", "a", "1", "PX", "20")
		c.do("SET", "b", "1", "PX", "20")
		c.do("SET", "big", strings.Repeat("q", 100000), "PX", "20")
		c.do("SET", "z", "1")
		c.do("PEXPIRE", "z", "20")
	}
	time.Sleep(100 * time.Millisecond)
	for _, cmd := range [][]string{{"RANDOMKEY"}, {"KEYS", "*"}, {"SCAN", "0"}, {"SCAN", "0", "TYPE", "string"}, {"EXISTS", "a", "b"}, {"TTL", "a"},
		{"RENAME", "a", "x"}, {"RENAMENX", "b", "x"}, {"COPY", "b", "x"}, {"OBJECT", "ENCODING", "b"}, {"TOUCH", "b"}, {"TYPE", "b"}, {"GETRANGE", "big", "0", "3"},
		{"SETRANGE", "big", "2", "x"}, {"GET", "big"}, {"APPEND", "z", "q"}, {"GET", "z"}, {"TTL", "z"}, {"MSETNX", "a", "2"}, {"EXISTS", "a", "b", "big", "z", "x"}} {
		if w, g := redis.do(cmd...), tm.do(cmd...); string(w) != string(g) {
			t.Errorf("%q:\n redis:   %q\n tiermem: %q", cmd, w, g)
		}
	}
}

// TestHostileRawMore compares more raw frames: QUIT in a pipeline and in MULTI,
// empty command names, malformed headers, newlines inside an error.
func TestHostileRawMore(t *testing.T) {
	redisAddr := startRedis(t)
	tmAddr, _, _ := startTiermem(t, &server.Options{})
	for _, raw := range []string{
		"PING\r\nQUIT\r\nPING\r\n", "MULTI\r\nQUIT\r\nPING\r\n", "MULTI\r\nSET k v\r\nQUIT x\r\n", "*1\r\n$0\r\n\r\n", "*2\r\n$0\r\n\r\n$1\r\na\r\n",
		"\x00\r\n", "   \r\n", "SET k v\nGET k\n", "\"\"\r\n", "*2\r\n$3\r\nGET\r\n:1\r\n", "*1\r\n$2147483648\r\n", "*2\r\n$4\r\nECHO\r\n$-1\r\n",
		"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "ECHO \"a\"\"b\"\r\n", "ECHO \"\\xzz\"\r\n", "ECHO \"\\u0041\"\r\n", "*1\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\r\n",
		"*1\r\n$4\r\nPING\n", "*1\n$4\nPING\r\n", "*1\r\n$4\nPING\r\n", "* 1\r\n$4\r\nPING\r\n", "*1 \r\n$4\r\nPING\r\n", "*1\r\n$4 \r\nPING\r\n",
		"*2\r\n$4\r\nECHO\r\n$1\r\n\r\r\n", "SET k v\r\nEXPIRE k 1 \"\\rx\"\r\nEXPIRE k 1 \"a\\r\\nb\"\r\n",
	} {
		want := rawExchange(t, redisAddr, []byte(raw))
		got := rawExchange(t, tmAddr, []byte(raw))
		if !bytes.Equal(want, got) {
			t.Errorf("%.60q:\n redis:   %.300q\n tiermem: %.300q", raw, want, got)
		}
	}
}

// TestHostileErrorEndingInNewline: an error built from a client's argument
// loses the newlines at its ends and has those inside turned into spaces, as
// Redis's (sdstrim, then sdsmapchars): it ended in blanks.
func TestHostileErrorEndingInNewline(t *testing.T) {
	diffSame(t, c("SET", "k", "v"), c("EXPIRE", "k", "1", "x\r\n"), c("EXPIRE", "k", "1", "x\n"), c("PEXPIRE", "k", "1", "opt\r"),
		c("EXPIREAT", "k", "1", "\r\nx\r\n"))
}

// TestHostileCommandInfoWithoutNames: COMMAND INFO with no command names
// lists every command, as COMMAND does (Redis 7): it answered an empty array,
// and a client that loads its command table that way saw none.
func TestHostileCommandInfoWithoutNames(t *testing.T) {
	redis, tm := dial(t, startRedis(t)), dial(t, mustTiermem(t))
	if w := redis.do("COMMAND", "INFO"); string(w[:4]) == "*0\r\n" {
		t.Fatalf("redis-server's COMMAND INFO = %.40q", w)
	}
	all, info := tm.do("COMMAND"), tm.do("COMMAND", "INFO")
	if !bytes.Equal(all, info) {
		t.Errorf("COMMAND INFO = %.60q, want what COMMAND answers, %.60q...", info, all)
	}
}

// TestHostileConfigSetErrorNamesTheArgument: CONFIG SET's "duplicate
// parameter" and "can't set immutable config" errors name the parameter as
// the client wrote it (TIMEOUT, MaxClients, Databases), and its value errors
// in lower case, as Redis's do.
func TestHostileConfigSetErrorNamesTheArgument(t *testing.T) {
	diffSame(t, c("CONFIG", "SET", "timeout", "1", "TIMEOUT", "2"), c("CONFIG", "SET", "maxclients", "100", "MaxClients", "200"),
		c("CONFIG", "SET", "TIMEOUT", "x"), c("CONFIG", "SET", "MaxClients", "-5"), c("CONFIG", "SET", "Databases", "2"),
		c("CONFIG", "SET", "timeout", "0"), c("CONFIG", "SET", "maxclients", "10000"))
}

// Package server serves a tiermem Manager over RESP, the Redis protocol
// (RESP2 and, after HELLO 3, RESP3), so that every Redis client,
// redis-cli and redis-benchmark work against it.
//
//	m, _ := tiermem.Open("./data", nil)
//	srv := server.New(m, &server.Options{RequirePass: "secret"})
//	ln, _ := net.Listen("tcp", "127.0.0.1:6380")
//	go srv.Serve(ln)
//	...
//	srv.Shutdown(ctx) // stop accepting, let every command in flight finish
//	m.Close()
//
// Each command behaves as Redis 7.0's does where a client can see it: reply
// types, error prefixes and messages, integer overflow, negative TTLs,
// binary-safe keys and values, pipelining of any depth. The differential
// test sends the same commands to a real redis-server and compares the
// replies byte for byte. Where tiermem differs it says so here:
//
//   - Keys are 1 to 65535 bytes: an empty key is "-ERR invalid key".
//   - Every key holds a string: TYPE is "string" or "none", and SCAN's TYPE
//     filter matches "string" alone. A key that a Go program stored as an
//     array or a Go value reads as its encoded bytes, and a command that
//     would change them (APPEND, SETRANGE, SET with options, GETSET)
//     replies WRONGTYPE; a plain SET replaces it.
//   - An expiry past year 2262 (what an int64 of nanoseconds holds) is
//     kept as that year's end.
//   - INCRBYFLOAT computes with a 64-bit mantissa as Redis's long double
//     does, and prints the result as Redis does (%.17Lf, trailing zeros
//     trimmed).
//   - MSET, MSETNX and MULTI/EXEC are atomic with respect to the other
//     clients of this server (they run alone), not to Go code using the
//     same Manager directly.
//   - SCAN's cursor is a position in the keys' hash order; DBSIZE and each
//     SCAN call read every tier's index (O(keys)).
//
// The commands served: PING, ECHO, QUIT, SELECT (0), HELLO (2 and 3, with
// AUTH and SETNAME), AUTH, CLIENT (ID, SETNAME, GETNAME), INFO (server,
// clients, memory, stats, keyspace, and tiermem's tiers), TIME, COMMAND
// (COUNT, INFO, DOCS), MULTI, EXEC, DISCARD; GET, SET (EX, PX, EXAT, PXAT, NX, XX, KEEPTTL, GET), SETNX,
// SETEX, PSETEX, GETDEL, GETEX, GETSET, MGET, MSET, MSETNX, STRLEN,
// GETRANGE, SETRANGE, APPEND, INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT;
// DEL, UNLINK, EXISTS, TOUCH, TYPE, RANDOMKEY, EXPIRE, PEXPIRE, EXPIREAT,
// PEXPIREAT, EXPIRETIME, PEXPIRETIME, TTL, PTTL, PERSIST, SCAN (MATCH,
// COUNT, TYPE), KEYS, DBSIZE, FLUSHDB, FLUSHALL. Any other command gets
// Redis's unknown-command error.
//
// The commands beyond Redis's are namespaced: TIER.GET key, TIER.MOVE key
// tier, TIER.COPY key tier, TIER.PIN key, TIER.UNPIN key, TIER.USAGE,
// TIER.STATS, TIER.MIGRATE.
package server

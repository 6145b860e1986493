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
//     clients of this server (they run alone) and to the reads and writes
//     of an HTTP handler (package web) that takes the server's order
//     (Handler.SequenceWith(srv.Sequencer()), as `tiermem serve` does),
//     not to Go code using the same Manager directly. RENAME, RENAMENX and COPY are atomic for
//     everyone (Manager.Rename and CopyKey hold both keys' locks). Where
//     the room the new key needs in its tier is held by a large SET still
//     being streamed in, they wait for it, up to 5 s (then the value goes
//     on to the next tier), and serve the other clients meanwhile; an
//     MSET, MSETNX or EXEC waits for them to end, so that none runs in
//     the middle of one. Inside an EXEC, which runs alone, that wait holds
//     up every client: the Manager has no RENAME that fails at once
//     instead. MSET and MSETNX set every pair or none
//     (Manager.StoreMany): a key that is empty or too long, a value over
//     every tier's budget, or values the tiers have no room for together
//     (the last tier full: -OOM) set nothing, as Redis refuses a write
//     past its memory limit. The room is reckoned before compression, so
//     near a full last tier an MSET of compressible values may be refused
//     where SETs one by one would fit. Only a disk that fails a write once
//     the room is held can leave the pairs before the failing one set.
//   - WATCH sees the writes of this server's clients, itself included:
//     any write command naming a watched key (FLUSHDB and FLUSHALL name
//     every key) makes the next EXEC reply null. A write that changed
//     nothing (SET NX of a key that exists) still counts, so an EXEC may
//     abort where Redis's would not. A watched key that had a TTL when
//     WATCH named it and is gone at EXEC (it expired, as a lock key's TTL
//     runs out, or Go code deleted it) aborts the EXEC too, as in Redis.
//     Writes of an HTTP handler in the server's order count as a client's
//     (a PUT or DELETE of a watched key aborts the EXEC). Other writes
//     made through the Go API are not seen: there an EXEC runs where
//     Redis's would abort.
//   - SCAN's cursor is a position in the keys' hash order; DBSIZE and each
//     SCAN call read every tier's index (O(keys)).
//   - RENAME keeps the value's kind (an array stays an array), expiry,
//     pin and tier; COPY copies them. COPY's DB option takes 0 alone
//     ("-ERR DB index is out of range" for another).
//   - OBJECT ENCODING answers what Redis would for a string SET stored
//     with those bytes (int, embstr or raw: tiermem keeps bytes, whatever
//     the command that wrote them), REFCOUNT likewise (Redis's shared
//     integers 0 to 9999 report 2147483647). OBJECT FREQ is the key's
//     recent reads, 0 to 15, as tiermem's promotion counts them
//     (Manager.ReadCount), whatever the policy. OBJECT IDLETIME is the
//     seconds since the key's last read or write where its tier keeps that
//     time (Manager.IdleTime: the hot tier, a tier with a cache policy),
//     and an error saying so elsewhere (warm's CLOCK, cold's write age, a
//     pinned key).
//   - SAVE and BGSAVE write the Manager's Snapshot to Options.SnapshotPath
//     (tiermem serve: dump.tmsnap in its --dir), beside it and renamed;
//     Restore reads it back. SAVE serves the other clients while it runs.
//     BGSAVE SCHEDULE is BGSAVE (there is no AOF rewrite to wait for).
//     LASTSAVE is the Unix time of the last save that succeeded, the
//     server's start before any. INFO persistence reports them in Redis's
//     rdb_ fields; the aof_ fields are Redis's for appendonly no, since
//     tiermem's durability is its cold tier's log (tiermem_durability).
//   - SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] saves only with SAVE (closing
//     the Manager persists hot and warm to cold anyway), then calls
//     Options.OnShutdown and closes the connection without a reply; with
//     no OnShutdown it answers Redis's "-ERR Errors trying to SHUTDOWN".
//   - COMMAND and COMMAND INFO give each command's name, arity, its
//     write, readonly or no_auth flag and its first, last and step key
//     positions, in Redis 7's shape (after HELLO 3, of Redis 7.0's RESP3
//     types: the flags, ACL categories, tips and key specifications are
//     sets, and so are the subcommands of a command without any; a
//     container's are an array), but none of Redis's other flags
//     (fast, denyoom, ...), ACL categories, tips, key specifications or
//     subcommands; COMMAND DOCS is an empty map, and redis-cli then uses
//     its own hints. A client that routes by key specifications rather
//     than key positions sees none.
//   - KEYS and SCAN's MATCH compare bytes in a class range ([a-z]) as
//     signed, as Redis does on x86-64, where C's char is signed:
//     "[b-\x80]" reads as 98 to -128 and matches no byte (Redis on arm64,
//     where char is unsigned, matches "c").
//   - HELLO's server field is "tiermem" (its version field is the Redis
//     version tiermem answers as, and its role master), and INFO has no
//     replication section, tiermem having no replicas: a client that reads
//     the role from INFO finds none there.
//   - CLIENT LIST and CLIENT INFO print Redis's fields; omem is the bytes
//     of replies queued for the client (not yet taken by its socket), and
//     tiermem keeps no other per-client buffer counts, so qbuf, qbuf-free,
//     argv-mem, multi-mem, rbs, rbp, obl, oll and tot-mem are 0. Every client is of type
//     normal and user default. CLIENT KILL takes ID, ADDR, LADDR, TYPE,
//     USER and SKIPME.
//   - CONFIG GET knows requirepass, maxclients, timeout, proto-max-bulk-len,
//     tiermem's tiermem-hot-budget, tiermem-warm-budget,
//     tiermem-cold-budget, tiermem-glacier-budget (bytes, 0 for a tier the
//     Manager has not), tiermem-hot-policy, tiermem-warm-policy,
//     tiermem-cold-policy (auto, adaptive, lru, lfu, fifo, clock or
//     s3fifo) and tiermem-durability, and answers Redis's names
//     for what tiermem has: save "", appendonly "no", appendfsync (from the
//     durability: no, everysec or always), databases "1", maxmemory (hot's
//     and warm's budgets), maxmemory-policy "noeviction" (tiermem demotes,
//     it never drops a key), port, dir and dbfilename (of SnapshotPath).
//     CONFIG SET changes requirepass, maxclients, timeout and the tier
//     budgets at runtime (a budget in bytes or with a unit as Redis reads
//     it: 64MiB and 2gb powers of 1024, 1g 10^9; Manager.SetBudget, which
//     demotes until a smaller budget fits; its error, such as pinned values
//     keeping a tier over the new budget, is the reply, and the parameters
//     before it in the same CONFIG SET are set back to what they were, as
//     Redis does),
//     and the durability: tiermem-durability (none, every-second, always)
//     or appendfsync (no, everysec, always), through
//     Manager.SetDurability, which from none first writes every value hot
//     and warm hold to the cold log and syncs it, so the reply +OK means
//     every value stored before is on disk; and the tier policies
//     (tiermem-hot-policy and the others: Manager.SetTierPolicy, which
//     refuses, as the reply says, what needs the store opened anew, such
//     as CLOCK on the hot tier, or a policy on the last tier).
//     CONFIG REWRITE is an error (no config file); RESETSTAT
//     resets total_connections_received and rejected_connections.
//
// The commands served: PING, ECHO, QUIT, SELECT (0), HELLO (2 and 3, with
// AUTH and SETNAME), AUTH, CLIENT (ID, SETNAME, GETNAME, LIST, INFO, KILL,
// HELP), INFO (server, clients, memory, persistence, stats, keyspace with
// keys and expires but no avg_ttl, and tiermem's tiers), TIME, COMMAND (COUNT, INFO, DOCS), CONFIG (GET, SET,
// RESETSTAT, REWRITE, HELP), MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET,
// SAVE, BGSAVE, LASTSAVE, SHUTDOWN; GET, SET (EX, PX, EXAT, PXAT, NX, XX,
// KEEPTTL, GET), SETNX, SETEX, PSETEX, GETDEL, GETEX, GETSET, MGET, MSET,
// MSETNX, STRLEN, GETRANGE, SETRANGE, APPEND, INCR, DECR, INCRBY, DECRBY,
// INCRBYFLOAT; DEL, UNLINK, EXISTS, TOUCH, TYPE, RANDOMKEY, RENAME,
// RENAMENX, COPY, OBJECT (ENCODING, FREQ, IDLETIME, REFCOUNT, HELP),
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, TTL, PTTL,
// PERSIST, SCAN (MATCH, COUNT, TYPE), KEYS, DBSIZE, FLUSHDB, FLUSHALL. Any
// other command gets Redis's unknown-command error.
//
// The commands beyond Redis's are namespaced: TIER.GET key, TIER.MOVE key
// tier, TIER.COPY key tier, TIER.PIN key, TIER.UNPIN key, TIER.USAGE,
// TIER.STATS, TIER.MIGRATE. TIER.MOVE and TIER.COPY may wait (up to 5 s)
// for room in the tier named that a large SET being streamed holds; the
// other clients are served meanwhile. An EXEC runs alone, so every client
// would wait with a move it runs: inside MULTI they are refused, as Redis
// refuses SAVE there ("-ERR Command not allowed inside a transaction"),
// and the EXEC then aborts.
//
// As redis-server does, a connection whose client sends POST or Host: as
// a command (an HTTP request: a web page can make a browser send one to
// the RESP port, Redis commands in its body) is closed there, with a
// warning logged: the commands after it never run, password or not.
//
// A GET reply (and MGET's, and GETEX's without options) is sent from
// where the value lies: a hot value of 64 KiB or more from the hot tier's
// memory (writev, no copy), a warm or cold value over 1 MiB
// (tiermem.SmallValueMax) through a ValueReader in 256 KiB pieces, a cold
// one verified against its checksum before its reply starts (a corrupt
// value is an error reply). A large value stored uncompressed (a warm one
// in a mapping of its own, a raw cold one: values that do not compress,
// and StoreFrom's) is so never held whole; a compressed one is
// decompressed into memory once, and not copied again into the
// connection's buffer. GETDEL takes the value where it lies
// (Manager.TakeValue) and sends it as GET does; so does GETEX with
// options (Manager.UpdateHeaderViewLarge): a value over 1 MiB in warm's own
// mapping or raw in cold is opened where it lies as its TTL changes and
// sent in pieces, a hot one sent where it lies.
// Smaller values, and GETSET and SET ... GET, copy the value into the
// connection's buffer (a large old value of theirs is sent from the copy
// the Manager hands them, not copied again). GETRANGE of 64 KiB or more of
// a large value sends the range from a ValueReader as GET does.
//
// A pipeline's keys are looked up together: before the first of up to 16
// whole commands buffered from a client runs, the Manager is handed their
// keys (each command's second argument) to prepare (Manager.PrepareLookups),
// and an MGET's keys 16 at a time, so that lookups that miss the CPU's
// cache wait for memory at once rather than one after another.
//
// Output is bounded, and a client is read while its replies wait. The
// replies of a pipeline are written every 64 KiB: the connection's
// goroutine hands them to the socket, and what the socket does not take at
// once (its buffers are full: the client is not reading yet) goes to a
// queue that a goroutine of the connection's own writes out, while the
// connection reads and runs the client's next commands, as Redis reads on
// and keeps a client's replies in its output buffer. So a client that
// writes a whole pipeline before it reads any reply (as client libraries'
// pipelines do) is served, however deep the pipeline. The queue is bounded
// by Options.MaxOutput (1 GiB, CONFIG SET client-output-buffer-limit
// "normal <hard> 0 0"; a CONFIG SET applies to queues waiting already),
// counting the memory it keeps: its buffers, the values it sends from
// where they lie, its bookkeeping. Past it, the connection stops reading
// from its client until the client takes some replies, where Redis would
// close it. CLIENT LIST's omem shows it. A client that never reads costs
// at most that, and is closed by WriteTimeout or the idle timeout, if set;
// one that reads, however slowly, is served to the end (WriteTimeout
// closes a client that takes less than 256 KiB of its replies in that
// long). A client being sent its replies is not idle: the idle timeout
// counts from the last command read or the last byte of its replies
// written, as Redis counts a client's last read or write, and a client
// that takes none of its replies for that long is closed, its replies
// dropped. A client that shuts its side after a pipeline gets every reply
// to the commands it sent, then EOF.
//
// One command's reply is held whole until it is handed on (an MGET stays
// atomic against MSET and EXEC): the memory it keeps, the copies of values
// in the connection's buffer, is bounded by MaxOutput too, past which the
// client is closed, as Redis closes one past its hard
// client-output-buffer-limit. Values sent from where they lie do not count
// there: an MGET naming the same 100 MiB hot value a thousand times keeps
// one value.
//
// A plain SET (SET key value, without options) of a value of 1 MiB or more,
// from an authenticated client outside MULTI, is read from the connection
// straight into the memory the value's tier keeps, or into the cold tier's
// staging file, through Manager.StoreFrom, once its first sixteenth has come
// (so that a client that announces a large value and sends little of it
// costs little): the rest of the value is held once, not in the
// connection's buffer and then again in the tier, and a value streamed into
// cold is stored uncompressed, as a streamed HTTP PUT is. The replies to the
// commands before it are sent first. While the value arrives, commands that
// run alone (MSET, MSETNX, EXEC) on other connections are not held up; it is
// stored once its frame's CRLF has come, and a client that leaves before
// stores nothing and changes nothing (a WATCH of the key holds). The value
// holds its room in its tier while it arrives, and a command running alone
// may wait for that room: so the SET tries for the server's shared lock
// for 200 ms rather than waiting in line behind it, and past that is
// stored without it (that command is then not atomic with respect to it). A SET with
// options, or in a transaction, is read whole first, as any other command.
package server

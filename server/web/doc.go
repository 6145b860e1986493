// Package web serves a tiermem Manager over HTTP: values and NumPy arrays
// under /v1/, the tiers' usage, counters and analytics as JSON, Prometheus
// metrics, pprof, health checks, and a live dashboard.
//
//	h, err := web.New(m, web.Config{Password: "secret"})
//	if err != nil { ... }
//	http.ListenAndServe("127.0.0.1:8080", h)
//
// The paths:
//
//	GET|HEAD /v1/keys/{key}     the value: ETag, If-None-Match (304), If-Match (412), Range (206, 416)
//	PUT      /v1/keys/{key}     store the body (201 created, 204 replaced); ?tier=hot|warm|cold|glacier, ?ttl=10s, ?pin=true
//	DELETE   /v1/keys/{key}     204, or 404 when no tier held it
//	GET|HEAD /v1/arrays/{key}   an array as a NumPy .npy file (numpy.load reads it)
//	PUT      /v1/arrays/{key}   store a .npy body (dtype and shape kept); same query
//	GET      /v1/usage          per tier: used and capacity bytes, percent, items
//	GET      /v1/stats          per tier: promotions, demotions, evictions, expirations; passes; request counts
//	GET      /v1/analytics      the Manager's analytics (docs/analytics.md); ?since=<RFC 3339> for newer samples only
//	GET      /v1/biggest        the largest entries of each tier; ?n=1..100 (10)
//	GET      /metrics           Prometheus exposition
//	GET      /debug/pprof/      net/http/pprof
//	GET      /healthz, /readyz  liveness, and readiness (503 once the Manager is closed)
//	GET      /                  the dashboard
//
// A key is the rest of the path, percent-decoded as a whole: any bytes, a
// slash included, can be sent as %XX, and the path is used as sent (not
// cleaned), so "a//b" and "../x" are keys like any other. Every error the
// handler answers is a JSON object {"error": "...", "status": N} that says
// what was wrong (net/http answers a request it cannot parse before any
// handler runs, in plain text: 400 for a malformed request line or
// header, 431 for headers over http.Server's MaxHeaderBytes):
// 400 for a bad key, tier, TTL or .npy file, 401 without the password,
// 403 for a host not allowed (below), 404 for a missing key, 408 for a
// body that stalled, 409 for an array read of a value that is not one,
// 412 for a failed precondition, 413 for a body over Config.MaxBodyBytes
// or a value larger than its tier, 503 once the Manager is closed, 507
// when no tier has room (tiermem.ErrNoSpace).
//
// Beside a RESP server of the same Manager (package server), the handler
// takes the server's order and password, as `tiermem serve` does:
//
//	h.SequenceWith(srv.Sequencer())
//	h.PasswordFrom(srv.Password)
//
// An MSET or a MULTI/EXEC is then atomic with respect to HTTP reads and
// writes too, a client's WATCH sees the keys HTTP writes, and CONFIG SET
// requirepass sets the password of both protocols. A PUT's body is read
// before its turn, so a slow upload holds up no transaction; a value is
// sent after its turn, as it was when opened; a write that waits for room
// holds up only the MSETs and EXECs that wait for it, not the RESP
// server's other clients. A streamed PUT holds its value's room while its
// body arrives, and a command running alone may wait for that room: so it
// tries for its turn for 200 ms rather than waiting in line, and past that
// stores its value out of the order (a WATCH of its key still sees it).
//
// Without a password, a request must name the server by an IP address,
// localhost (or a name under it) or a name in Config.AllowedHosts in its
// Host: a web page the user visits could otherwise rebind its own name to
// 127.0.0.1 and make the browser read and change every key (DNS
// rebinding). Any other gets 403, the health checks aside.
//
// A PUT or DELETE with If-Match or If-None-Match (RFC 9110 §13.1) is
// conditional: the preconditions are checked against the key's ETag under
// the key's lock at the moment of the write (tiermem.OnlyIf,
// Manager.DeleteIf), so no other write comes between the check and the
// write, and a failed one is a 412 that changes nothing. "If-None-Match:
// *" creates only; "If-Match: <the ETag a GET gave>" is a compare-and-set.
// They are also checked before a body is read, so that a failed one is
// answered before a large body is sent. An array's ETag (under
// /v1/arrays) is that of its .npy file, which its data and its shape make;
// it differs from the ETag of the same key under /v1/keys, another
// representation. A value that cannot be read (a corrupt one that GET
// and HEAD both answer with an error) has no ETag: no If-Match names it,
// not even "0000000000000000", and only "If-None-Match: *" matches it.
//
// A Range is served after the preconditions (RFC 9110 §13.2.2); one in a
// unit other than bytes is ignored (§14.2). Ranges that overlap or touch
// are merged into one part, and the parts keep the order the client asked
// for them in (§15.3.7.2); a Range of more than 16 ranges once merged is
// ignored, and the whole value sent (200), as §14.2 allows for many small
// ranges. So a reply holds each byte of the value at most once, in at most
// 16 parts, however long the header.
//
// Metrics, from Handler.Metrics, is where the servers in front of the
// Manager record what they do: the RESP server calls ObserveCommand,
// ClientConnected and ClientDisconnected (no allocation), an http.Server
// takes its ConnState. /metrics exports them with the tiers' usage and
// counters, read from the Manager at scrape time, and the Go runtime and
// process collectors.
//
// A PUT with a Content-Length over 64 KiB goes through Manager.StoreFrom:
// a value bound for the cold tier (?tier=cold, or larger than the memory
// tiers' budgets) is streamed from the connection to the disk through a
// 1 MiB buffer, whatever its size (a 512 MiB PUT raised the process's peak
// RSS by 2 MiB); one bound for the hot or the warm tier is read straight
// into the memory the tier keeps, so it costs its size once (a 512 MiB PUT:
// +516 MiB into hot, +513 MiB into warm). A body shorter than its Content-Length stores nothing
// (400). Smaller bodies are read into pooled buffers. A body without a
// length (sent in chunks) is read into a pooled buffer while it fits
// one (64 KiB); a longer one goes to Manager.StoreFrom with an unknown
// size, up to Config.MaxBodyBytes: without ?tier, or with ?tier=cold or
// ?tier=glacier, it is streamed on into a staging file on the cold tier's
// disk (counted in cold's budget, or glacier's once it outgrows cold's or
// when glacier is named), then stored from there as one of known length,
// in bounded memory whatever its size; with ?tier=hot or ?tier=warm it is
// read into memory, in blocks counted in that tier's budget as they come
// (no disk needed), and stored from them: up to twice its size in memory
// for a moment. A value bound for glacier is held in memory while it is
// written there. An array PUT is read whole, up to Config.MaxBodyBytes.
// A body that sends nothing for Config.BodyIdleTimeout (a minute by
// default; `tiermem serve --body-idle-timeout`) ends its request with 408:
// a stalled upload gives back the room its value held, stores nothing,
// and its connection is closed after the reply; one that keeps sending,
// however slowly, is never cut.
//
// A GET or HEAD of a value in the cold tier goes through
// Manager.OpenValueDeferred: a value the tier stores raw (over 256 MiB,
// incompressible, or PUT with a Content-Length) is verified against its
// checksum by a first pass through a 1 MiB buffer, then sent as it is read
// from disk, 256 KiB at a time (a 512 MiB GET raised the process's peak RSS
// by 2 MiB), with Range and the preconditions served from the file. A
// reply without a body of such a value reads nothing of it: a HEAD, or a
// GET answered 304 or 412 (an If-None-Match that names the value's ETag,
// an If-Match that does not) or 416 (a Range past its end, as curl -C -
// sends for a download already complete); its size and ETag are those the
// cold tier keeps. A value the cold tier stores compressed
// (compressible and at most 256 MiB) is decoded into memory whole for
// any GET or HEAD, as its ETag is the checksum of the decoded bytes: a
// client can make the server hold that much per request in flight.
// Every value's ETag is its XXH3-64
// (16 hex digits): the checksum the cold tier keeps, so a value has one
// ETag whichever tier serves it. A read that fails after the reply began
// (the file cut short meanwhile) is logged and aborts the connection, so
// the client sees a cut body, never a whole one with wrong bytes.
//
// A GET of a large value in memory sends it from where it lies: a hot one
// of 64 KiB or more through Manager.RetrieveShared (the hot tier never
// writes such an entry again once it is stored, so the reply may read it
// while the key is replaced), a warm one in a mapping of its own through
// Manager.OpenValue (the mapping stays until the reply is sent). A 512 MiB
// GET raised the process's peak RSS by 0.2 MiB from hot, 0.3 MiB from
// warm. GET /v1/arrays/{key} sends a large hot array's data the same way
// (Manager.RetrieveArrayShared), and an array in the warm or the cold
// tier as a value there (Manager.OpenValueDeferred), after the .npy
// header its dtype and shape make: a HEAD, a 304, 412 or 416 reads none
// of a raw cold array's data, and a Range only the bytes it sends (a
// large warm array's data is hashed where it lies to match its dtype and
// shape with it; one stored compressed is decoded twice, one copy dropped
// at once). Other values (smaller ones, compressed warm ones, compressed
// cold ones of at most 256 MiB decoded) are copied into memory first.
//
// Every reply's body is written 256 KiB at a time, each piece with a
// write deadline of Config.WriteTimeout (a minute by default; `tiermem
// serve --write-timeout`): a client that stops reading has its connection
// closed, and the value its reply held is let go. One that keeps reading
// is never cut, however long the download takes.
//
// A request with a wrong password slows down the next attempts from its
// client's address (FailedAuthDelay): trying N passwords from one address
// takes about N × FailedAuthDelay, however the client sends them.
//
// /v1/biggest and the dashboard's table list each tier's largest entries
// by the bytes they occupy there (compressed, with their key and header),
// from the tiers' indexes (Manager.ScanInfo): no value is read, no hit
// counted, nothing promoted. A listing costs one pass over every index and
// is shared by every request for 5 seconds.
package web

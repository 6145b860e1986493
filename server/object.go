package server

import (
	"errors"
	"io"
	"time"

	"github.com/tiermem/tiermem"
)

var objectSubcommands = map[string]int{"encoding": 3, "refcount": 3, "freq": 3, "idletime": 3, "help": 2}

// cmdObject serves OBJECT ENCODING, REFCOUNT, FREQ, IDLETIME and HELP;
// each replies null for no key.
func cmdObject(c *conn, args [][]byte) {
	sub, ok := c.subcommand(commands["object"], args)
	if !ok {
		return
	}
	if sub == "help" {
		c.help("OBJECT", []string{
			"ENCODING <key>", "    Return the encoding Redis would give the key's string: int, embstr or raw.",
			"FREQ <key>", "    Return the key's recent reads (0 to 15), as tiermem's promotion counts them.",
			"IDLETIME <key>", "    Return the seconds since the key was last read or written, where its tier keeps that time (hot; a tier with a cache policy); else an error.",
			"REFCOUNT <key>", "    Return 1, or Redis's shared-integer count for the integers 0 to 9999.",
		})
		return
	}
	key := keyString(args[2])
	switch sub {
	case "freq":
		n, err := c.s.m.ReadCount(key)
		c.objectReply(err, func() { c.out.int(int64(n)) })
		return
	case "idletime":
		d, err := c.s.m.IdleTime(key)
		if errors.Is(err, tiermem.ErrNoIdleTime) {
			c.out.errorf("tiermem keeps no idle time for this key: its tier's policy keeps no time of a key's last use " +
				"(warm's CLOCK, cold's write age, or a pinned key); OBJECT FREQ gives its recent reads")
			return
		}
		c.objectReply(err, func() { c.out.int(int64(d / time.Second)) })
		return
	}
	enc, refs, err := c.encoding(key)
	c.objectReply(err, func() {
		switch sub {
		case "encoding":
			c.out.bulkString(enc)
		default: // refcount
			c.out.int(refs)
		}
	})
}

// objectReply replies null for no key, the error of another failure, or
// calls ok.
func (c *conn) objectReply(err error, ok func()) {
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.null()
	case err != nil:
		c.managerError(err)
	default:
		ok()
	}
}

// encoding returns the encoding and refcount Redis would give key's
// string. Only a value of at most 44 bytes is read (PeekValue): a longer
// one is "raw" by its size, which a large cold value gives from the cold
// tier's index without being loaded. The look is no use of the key, as in
// Redis (OBJECT does not touch it): its idle time, read count and
// promotion are as they were.
func (c *conn) encoding(key string) (string, int64, error) {
	v, err := c.s.m.PeekValue(key)
	if err != nil {
		return "", 0, err
	}
	defer v.Close()
	if v.Size() > 44 {
		return "raw", 1, nil
	}
	b := make([]byte, v.Size())
	if _, err := v.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", 0, err
	}
	enc := encodingOf(b)
	if n, _ := parseInt(b); enc == "int" && n >= 0 && n < sharedIntegers {
		return enc, 1<<31 - 1, nil // Redis's OBJ_SHARED_REFCOUNT
	}
	return enc, 1, nil
}

// encodingOf is the encoding Redis 7.0 gives a string SET stores: "int"
// for a decimal int64 of up to 20 bytes (as string2ll reads it), "embstr"
// up to 44 bytes, else "raw".
func encodingOf(v []byte) string {
	if len(v) <= 20 {
		if _, ok := parseInt(v); ok {
			return "int"
		}
	}
	if len(v) <= 44 {
		return "embstr"
	}
	return "raw"
}

// sharedIntegers is how many small integers Redis keeps shared: OBJECT
// REFCOUNT reports INT_MAX for those.
const sharedIntegers = 10000

package server

import (
	"errors"

	"github.com/tiermem/tiermem"
)

// cmdRename serves RENAME old new: +OK, "-ERR no such key".
func cmdRename(c *conn, args [][]byte) {
	c.okOrNoSuchKey(c.unheld(args, func() error { return c.s.m.Rename(keyString(args[1]), keyString(args[2]), true) }))
}

// okOrNoSuchKey replies +OK for a nil err, Redis's "-ERR no such key" for
// ErrNotFound, and any other error as managerError does.
func (c *conn) okOrNoSuchKey(err error) {
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.errorf("no such key")
	case err != nil:
		c.managerError(err)
	default:
		c.out.ok()
	}
}

// cmdRenameNX serves RENAMENX old new: 1, or 0 when new exists.
func cmdRenameNX(c *conn, args [][]byte) {
	err := c.unheld(args, func() error { return c.s.m.Rename(keyString(args[1]), keyString(args[2]), false) })
	switch {
	case errors.Is(err, tiermem.ErrNotFound):
		c.out.errorf("no such key")
	case errors.Is(err, tiermem.ErrExists):
		c.out.int(0)
	case err != nil:
		c.managerError(err)
	default:
		c.out.int(1)
	}
}

// cmdCopy serves COPY src dst [DB 0] [REPLACE]: 1, or 0 when src does
// not exist or dst does (without REPLACE). The one database is 0.
func cmdCopy(c *conn, args [][]byte) {
	replace := false
	for j := 3; j < len(args); j++ {
		switch {
		case equalFold(args[j], "replace"):
			replace = true
		case equalFold(args[j], "db") && j+1 < len(args):
			j++
			db, ok := parseInt(args[j])
			switch {
			case !ok || db != int64(int32(db)):
				c.out.error(errNotInt)
				return
			case db != 0:
				c.out.errorf("DB index is out of range")
				return
			}
		default:
			c.out.error(errSyntax)
			return
		}
	}
	src, dst := keyString(args[1]), keyString(args[2])
	if src == dst {
		c.out.errorf("source and destination objects are the same")
		return
	}
	err := c.unheld(args, func() error { return c.s.m.CopyKey(src, dst, replace) })
	switch {
	case errors.Is(err, tiermem.ErrNotFound), errors.Is(err, tiermem.ErrExists):
		c.out.int(0)
	case err != nil:
		c.managerError(err)
	default:
		c.out.int(1)
	}
}

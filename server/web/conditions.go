package web

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/npy"
)

// writeCond is what a PUT or DELETE finds under its key when it writes,
// and the preconditions its request sets (RFC 9110 §13.2.2: If-Match,
// then If-None-Match; If-Unmodified-Since needs a Last-Modified, which a
// value has not, so it is ignored, as §13.1.4 allows). Its check runs
// under the key's lock at the moment of the write (tiermem.OnlyIf,
// Manager.DeleteIf), so no other write comes between the two; it also
// notes whether the key held a value, for 201 against 204.
type writeCond struct {
	ifMatch, ifNoneMatch string // the field lines, joined; "" when absent
	hasMatch, hasNone    bool
	tagOf                tagFunc // the ETag of what the key holds
	found                bool    // the key held a value at the last check
}

// tagFunc returns the ETag of what a key holds (keyTag, arrayTag): nil
// when it has none here, with readable false when that is because the
// value cannot be read.
type tagFunc func(*tiermem.Current) (tag []byte, readable bool)

// newWriteCond returns the conditions of a write to a key whose ETag
// tagOf gives (keyTag, arrayTag).
func newWriteCond(r *http.Request, tagOf tagFunc) *writeCond {
	c := &writeCond{tagOf: tagOf}
	c.ifMatch, c.hasMatch = joined(r.Header, "If-Match")
	c.ifNoneMatch, c.hasNone = joined(r.Header, "If-None-Match")
	return c
}

// any reports whether the request sets a precondition.
func (c *writeCond) any() bool { return c.hasMatch || c.hasNone }

// joined returns a header's field lines joined, and whether it names
// anything: an empty one sets no precondition, as for http.ServeContent.
func joined(h http.Header, name string) (string, bool) {
	v := strings.Join(h.Values(name), ",")
	return v, strings.Trim(v, " \t,") != ""
}

// check is the condition of the write: nil when the preconditions hold
// for what the key holds, else an error wrapping ErrPrecondition.
func (c *writeCond) check(cur *tiermem.Current) error {
	c.found = cur.Found()
	var tag []byte
	tagged, readable := false, true
	tagNow := func() []byte {
		if !tagged && c.found {
			tag, readable = c.tagOf(cur)
			tagged = true
		}
		return tag
	}
	// The message names the value's ETag only when the check needed it:
	// a failed "If-None-Match: *" reads nothing of the value.
	switch {
	case c.hasMatch && !matches(c.ifMatch, c.found, tagNow, true):
		return fmt.Errorf("%w: If-Match %s: the key holds %s", ErrPrecondition, c.ifMatch, describe(c.found, tagged, readable, tag))
	case c.hasNone && matches(c.ifNoneMatch, c.found, tagNow, false):
		return fmt.Errorf("%w: If-None-Match %s: the key holds %s", ErrPrecondition, c.ifNoneMatch, describe(c.found, tagged, readable, tag))
	}
	return nil
}

// checkDelete is check for a DELETE: of a key that holds nothing it is
// ErrNotFound, the 404 the DELETE would get without preconditions, which
// are then ignored (RFC 9110 §13.2.1): a DELETE retried after it landed
// is told the key is gone, not that someone changed it.
func (c *writeCond) checkDelete(cur *tiermem.Current) error {
	if !cur.Found() {
		return fmt.Errorf("%w (the preconditions are not evaluated)", tiermem.ErrNotFound)
	}
	return c.check(cur)
}

// describe says what a key holds for a failed precondition's message:
// with its ETag when tagged (the check computed it, and found whether the
// value is readable).
func describe(found, tagged, readable bool, tag []byte) string {
	switch {
	case !found:
		return "no value"
	case !tagged:
		return "a value"
	case !readable:
		return "a value that cannot be read"
	case tag == nil:
		return "a value of another kind"
	}
	return "the value whose ETag is " + string(tag)
}

// matches reports whether the list of entity tags (or "*") in field
// matches the key's value: "*" any value, a tag the value's ETag, compared
// strongly (If-Match: a weak tag never matches) or weakly (If-None-Match).
// A field that is no list of entity tags matches nothing from where it
// stops being one.
func matches(field string, found bool, tagOf func() []byte, strong bool) bool {
	if !found {
		return false
	}
	for buf := field; ; {
		buf = strings.TrimLeft(buf, " \t,")
		if buf == "" {
			return false
		}
		if buf[0] == '*' {
			return true
		}
		opaque, rest, ok := scanTag(buf)
		if !ok {
			return false
		}
		weak := strings.HasPrefix(buf, "W/")
		if tag := tagOf(); tag != nil && opaque == string(tag) && !(strong && weak) {
			return true
		}
		buf = rest
	}
}

// keyTag is the ETag of a value under /v1/keys: its XXH3-64. A value that
// cannot be read (a corrupt one), which a GET answers with an error, not
// an ETag, has none (nil, readable false): no entity tag a client sends
// matches it, "0000000000000000" (Checksum's 0 for it) included.
func keyTag(cur *tiermem.Current) (tag []byte, readable bool) {
	if !cur.Readable() {
		return nil, false
	}
	return sumTag(nil, cur.Checksum()), true
}

// arrayTag is the ETag of an array under /v1/arrays: nil for a key that
// holds no array NumPy has a type for, and (readable false) for an array
// that cannot be read.
func arrayTag(cur *tiermem.Current) (tag []byte, readable bool) {
	dtype, shape, ok := cur.Array()
	switch {
	case !ok || descrOf(dtype) == "":
		return nil, true
	case !cur.Readable():
		return nil, false
	}
	return npyTag(npy.AppendHeader(nil, descrOf(dtype), shape), cur.Checksum()), true
}

// npyTag is the ETag of a .npy file: the XXH3-64 of its header and of its
// data's XXH3-64, so that a write's condition, which knows the data's
// checksum and not the file's, can compute it without reading the data.
func npyTag(hdr []byte, dataSum uint64) []byte {
	return sumTag(nil, xxh3.Hash(binary.BigEndian.AppendUint64(hdr, dataSum)))
}

// writeStatus is the status of a write that succeeded: 201 when it
// created the key's value, else 204 (RFC 9110 §9.3.4).
func (c *writeCond) writeStatus() int {
	if c.found {
		return http.StatusNoContent
	}
	return http.StatusCreated
}

// precheck evaluates the conditions before a body is read, so that a
// failed one is answered before a large body is sent (a client that sent
// Expect: 100-continue then sends none); the write checks them again, at
// the moment it lands. It changes nothing.
func (h *Handler) precheck(key string, cond *writeCond) error {
	if !cond.any() {
		return nil
	}
	err := h.m.DeleteIf(key, func(cur *tiermem.Current) error {
		if err := cond.check(cur); err != nil {
			return err
		}
		return errKeep
	})
	if errors.Is(err, errKeep) {
		return nil
	}
	return err
}

// errKeep stops precheck's DeleteIf once the conditions hold.
var errKeep = errors.New("web: the conditions hold; nothing to delete")

package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/npy"
	"github.com/zeebo/xxh3"
)

// serveArray serves /v1/arrays/<escaped>: arrays as NumPy .npy files.
func (h *Handler) serveArray(w http.ResponseWriter, r *http.Request, escaped string) {
	start := time.Now()
	rec := newRecorder(w)
	var name string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		name = methodName(r.Method, "array_get", "array_head")
		h.getArray(rec, r, escaped)
	case http.MethodPut:
		name = "array_put"
		h.putArray(rec, r, escaped)
	default:
		name = "other"
		rec.Header().Set("Allow", "GET, HEAD, PUT")
		writeError(rec, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: %s takes GET, HEAD and PUT (DELETE a key under %s)", r.Method, arraysPrefix+"<key>", keysPrefix))
	}
	h.metrics.finish(rec, name, start)
}

func (h *Handler) getArray(w http.ResponseWriter, r *http.Request, escaped string) {
	key, err := parseKey(escaped)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := h.beginRead()
	defer t.end() // should the Manager panic
	if tr, err := h.m.Tier(key); err == nil && (tr == tiermem.Warm || tr == tiermem.Cold) && h.getArrayOpened(w, r, key, &t) {
		return
	}
	// A large hot array is sent where it lies, after the turn.
	a, _, err := h.m.RetrieveArrayShared(key)
	t.end()
	if errors.Is(err, tiermem.ErrType) {
		err = notArray(err, key)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	descr := descrOf(a.DType)
	if descr == "" {
		h.fail(w, r, noNumPyType(key, a.DType))
		return
	}
	hdr := npy.AppendHeader(nil, descr, a.Shape)
	arrayHeaders(w.Header(), npyTag(hdr, xxh3.Hash(a.Data)), a.DType)
	serveContent(w, r, hdr, a.Data)
}

func notArray(err error, key string) error {
	return fmt.Errorf("%w: %q is not an array (GET it under %s)", err, key, keysPrefix)
}

func noNumPyType(key string, dtype tiermem.DType) error {
	return fmt.Errorf("%w: %q holds %v, which has no NumPy type", tiermem.ErrType, key, dtype)
}

// arrayHeaders sets the header fields of an array's reply.
func arrayHeaders(hdr http.Header, tag []byte, dtype tiermem.DType) {
	hdr.Set("ETag", string(tag))
	hdr["Content-Type"] = octetStream
	hdr["X-Content-Type-Options"] = noSniff
	hdr["Content-Security-Policy"] = sandbox
	hdr.Set("X-Tiermem-Dtype", dtype.String())
}

// getArrayOpened serves an array that lies in the warm or the cold tier
// as getOpened serves a value: through OpenValueDeferred, its data sent
// from where it lies (a large warm array's mapping, a raw cold array's
// file, 256 KiB at a time) after its .npy header, made from its dtype and
// shape. A reply without a body (HEAD, 304, 412, 416) reads none of a
// raw cold array's data, and a Range reads only the bytes it sends. The
// dtype and shape are read in a condition (arrayMeta) that also makes sure
// they go with the data opened: for a large warm array it hashes the data
// where it lies, and for an array stored compressed it decodes it once
// more (a copy dropped at once). It reports false, having answered
// nothing, when the key was replaced between the open and the condition:
// RetrieveArrayShared then serves it, as one read. It ends the turn t
// once the array is open and its dtype and shape read.
func (h *Handler) getArrayOpened(w http.ResponseWriter, r *http.Request, key string, t *turn) bool {
	v, err := h.m.OpenValueDeferred(key)
	if err != nil {
		t.end()
		h.fail(w, r, err)
		return true
	}
	defer v.Close()
	dtype, shape, err := h.arrayMeta(key, v)
	if errors.Is(err, errReplaced) {
		return false // read again by the caller, in the same turn
	}
	t.end()
	switch {
	case errors.Is(err, tiermem.ErrType):
		err = notArray(err, key)
	}
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	descr := descrOf(dtype)
	if descr == "" {
		h.fail(w, r, noNumPyType(key, dtype))
		return true
	}
	hdr := npy.AppendHeader(nil, descr, shape)
	tag := npyTag(hdr, v.Checksum())
	size := int64(len(hdr)) + v.Size()
	if r.Method != http.MethodHead && !bodiless(r.Header, tag, size) {
		if err := v.Verify(); err != nil {
			h.fail(w, r, err)
			return true
		}
	}
	arrayHeaders(w.Header(), tag, dtype)
	if err := serveReader(w, r, headed{hdr: hdr, data: v}, size); err != nil {
		h.log.Error("web: reply cut: the array could not be read to its end", "method", r.Method, "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	return true
}

// errReplaced is arrayMeta's error for a key that holds another value
// than the one opened.
var errReplaced = errors.New("web: the key was replaced while it was opened")

// arrayMeta returns the dtype and shape of the array key holds, read under
// the key's lock (a condition of Manager.DeleteIf that never lets it
// delete), when it is the value v holds open: the same size and checksum
// (its stored one for a cold array, read from neither). Else it returns
// errReplaced, or the error of a key that holds no array (ErrType) or no
// value (ErrNotFound).
func (h *Handler) arrayMeta(key string, v *tiermem.ValueReader) (dtype tiermem.DType, shape []int, err error) {
	err = h.m.DeleteIf(key, func(cur *tiermem.Current) error {
		dt, sh, ok := cur.Array()
		switch {
		case !cur.Found():
			return errReplaced // deleted since: RetrieveArrayShared says so
		case !ok:
			return tiermem.ErrType
		case !cur.Readable() || cur.Size() != v.Size() || cur.Checksum() != v.Checksum():
			return errReplaced
		}
		dtype, shape = dt, slices.Clone(sh)
		return errKeep
	})
	if errors.Is(err, errKeep) {
		err = nil
	}
	return dtype, shape, err
}

// headed is an io.ReaderAt over an array's .npy header, then its data.
type headed struct {
	hdr  []byte
	data io.ReaderAt
}

func (hd headed) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(hd.hdr)) {
		n = copy(p, hd.hdr[off:])
		if n == len(p) {
			return n, nil
		}
	}
	m, err := hd.data.ReadAt(p[n:], off+int64(n)-int64(len(hd.hdr)))
	return n + m, err
}

func (h *Handler) putArray(w http.ResponseWriter, r *http.Request, escaped string) {
	key, err := parseKey(escaped)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	opts, err := storeOptions(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cond := newWriteCond(r, arrayTag)
	if err := h.precheck(key, cond); err != nil {
		h.fail(w, r, err)
		return
	}
	var buf []byte
	body, err := readBody(r, h.cfg.MaxBodyBytes, &buf)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := parseNPY(body)
	if err == nil {
		// The Manager's own check of the array, which parseNPY's is meant
		// to match: a shape or size it refuses is a bad .npy file (400),
		// not a value of another type (StoreArray's ErrType, a 409).
		if verr := a.Validate(); verr != nil {
			err = fmt.Errorf("%w: %v", ErrNPY, verr)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := h.beginWrite(key)
	defer t.end() // should StoreArray panic
	err = h.m.StoreArray(key, a, append(opts, tiermem.OnlyIf(cond.check))...)
	t.end()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(cond.writeStatus())
}

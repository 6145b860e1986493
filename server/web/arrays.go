package web

import (
	"errors"
	"fmt"
	"net/http"
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
	// A large hot array is sent where it lies, after the turn.
	t := h.beginRead()
	defer t.end() // should RetrieveArrayShared panic
	a, _, err := h.m.RetrieveArrayShared(key)
	t.end()
	if errors.Is(err, tiermem.ErrType) {
		err = fmt.Errorf("%w: %q is not an array (GET it under %s)", err, key, keysPrefix)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	descr := descrOf(a.DType)
	if descr == "" {
		h.fail(w, r, fmt.Errorf("%w: %q holds %v, which has no NumPy type", tiermem.ErrType, key, a.DType))
		return
	}
	hdr := npy.AppendHeader(nil, descr, a.Shape)
	w.Header().Set("ETag", string(npyTag(hdr, xxh3.Hash(a.Data))))
	w.Header()["Content-Type"] = octetStream
	w.Header()["X-Content-Type-Options"] = noSniff
	w.Header()["Content-Security-Policy"] = sandbox
	w.Header().Set("X-Tiermem-Dtype", a.DType.String())
	serveContent(w, r, hdr, a.Data)
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

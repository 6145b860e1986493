package web

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// The prefixes of the key and array paths; what follows is the key,
// path-escaped.
const (
	keysPrefix   = "/v1/keys/"
	arraysPrefix = "/v1/arrays/"
)

// maxKeyLen is the longest key the Manager takes.
const maxKeyLen = 65535

// parseKey returns the key a path names after its prefix: escaped is
// percent-decoded as a whole, so "a%2Fb" and "a/b" are the same key and
// any byte can be sent as %XX.
func parseKey(escaped string) (string, error) {
	if escaped == "" {
		return "", fmt.Errorf("%w: empty key (the path must be /v1/keys/<key>)", ErrBadKey)
	}
	key := escaped
	if strings.IndexByte(escaped, '%') >= 0 {
		var err error
		if key, err = url.PathUnescape(escaped); err != nil {
			return "", fmt.Errorf("%w: %v", ErrBadKey, err)
		}
	}
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("%w: %d bytes long, at most %d", ErrBadKey, len(key), maxKeyLen)
	}
	return key, nil
}

// storeOptions returns the options a PUT's query asks for: tier=hot|warm|
// cold|glacier, ttl=<Go duration or whole seconds>, pin=true.
func storeOptions(rawQuery string) ([]tiermem.StoreOption, error) {
	if rawQuery == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %v", ErrBadParam, err)
	}
	var opts []tiermem.StoreOption
	for name, values := range q {
		v := values[len(values)-1]
		switch name {
		case "tier":
			t, err := tiermem.ParseTier(v)
			if err != nil {
				return nil, fmt.Errorf("%w: tier %q: want hot, warm, cold or glacier", ErrBadParam, v)
			}
			opts = append(opts, tiermem.InTier(t))
		case "ttl":
			d, err := parseTTL(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, tiermem.WithTTL(d))
		case "pin":
			pin, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%w: pin %q: want true or false", ErrBadParam, v)
			}
			if pin {
				opts = append(opts, tiermem.Pinned())
			}
		default:
			return nil, fmt.Errorf("%w: unknown parameter %q (want tier, ttl or pin)", ErrBadParam, name)
		}
	}
	return opts, nil
}

// parseTTL parses a TTL: a Go duration ("10s", "1h30m") or whole seconds.
func parseTTL(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseInt(v, 10, 64)
		if nerr != nil || n > int64(1<<63-1)/int64(time.Second) {
			return 0, fmt.Errorf("%w: ttl %q: want a duration such as 10s or 1h30m, or whole seconds", ErrBadParam, v)
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: ttl %q: must be positive", ErrBadParam, v)
	}
	return d, nil
}

// smallBuf is the capacity of the pooled buffers: values up to it are read
// and served without an allocation for their bytes.
const smallBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, smallBuf); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 4*smallBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// readBody reads r's whole body, at most limit bytes, into *buf (growing
// it): with a Content-Length of up to aheadMax it reads into a slice of
// exactly that size, once; otherwise it grows as the body comes, so that
// a client that announces a large body and sends nothing holds no more
// than aheadMax.
func readBody(r *http.Request, limit int64, buf *[]byte) ([]byte, error) {
	n := r.ContentLength
	if n > limit {
		return nil, fmt.Errorf("%w: Content-Length %d is over the limit of %d bytes", ErrBodyTooLarge, n, limit)
	}
	if n > aheadMax && int64(cap(*buf)) < n {
		b, err := readGrowing(r, n, buf)
		if err != nil {
			return nil, fmt.Errorf("%w: read %d-byte body: %v", ErrBadBody, n, err)
		}
		return b, nil
	}
	if n >= 0 {
		b := *buf
		if int64(cap(b)) < n {
			b = make([]byte, n)
		}
		b = b[:n]
		*buf = b
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, fmt.Errorf("%w: read %d-byte body: %v", ErrBadBody, n, err)
		}
		return b, nil
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Body.Read(b[len(b):min(int64(cap(b)), limit+1)])
		b = b[:len(b)+m]
		*buf = b
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("%w: body is over the limit of %d bytes", ErrBodyTooLarge, limit)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read body: %v", ErrBadBody, err)
		}
	}
}

// aheadMax is the most memory readBody allocates for a body before its
// bytes come.
const aheadMax = 8 << 20

// readGrowing reads a body of n bytes into *buf, growing it (doubling) as
// the bytes come.
func readGrowing(r *http.Request, n int64, buf *[]byte) ([]byte, error) {
	b := make([]byte, 0, aheadMax)
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(int64(cap(b)), n-int64(len(b)))))
		}
		m, err := r.Body.Read(b[len(b):min(int64(cap(b)), n)])
		b = b[:len(b)+m]
		*buf = b
		if err == io.EOF && int64(len(b)) < n {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return b, nil
}

// readSmall reads a body of at most smallBuf bytes into *buf (one of
// getBuf's), as readBody does; whole is false, with the first smallBuf
// bytes, for a body of unknown length that goes on past them.
func readSmall(r *http.Request, limit int64, buf *[]byte) (value []byte, whole bool, err error) {
	if r.ContentLength >= 0 {
		value, err = readBody(r, limit, buf)
		return value, true, err
	}
	b := (*buf)[:smallBuf]
	n := 0
	for n < len(b) && err == nil {
		var m int
		m, err = r.Body.Read(b[n:])
		n += m
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == io.EOF: // the body's end; a body cut short is io.ErrUnexpectedEOF, a failure
		return b[:n], true, nil
	case errors.As(err, &tooLarge):
		return nil, false, fmt.Errorf("%w: body is over the limit of %d bytes", ErrBodyTooLarge, limit)
	case err != nil:
		return nil, false, fmt.Errorf("%w: read body: %v", ErrBadBody, err)
	}
	return b, false, nil
}

// etag returns a strong entity tag for the bytes of parts, in order: their
// XXH3-64 as 16 hex digits, the checksum the cold tier keeps for a value,
// so that a value has one ETag in whichever tier it is and however it is
// served (sumTag).
func etag(dst []byte, parts ...[]byte) []byte {
	var h xxh3.Hasher
	for _, p := range parts {
		h.Write(p)
	}
	return sumTag(dst, h.Sum64())
}

// serveKey serves /v1/keys/<escaped>.
func (h *Handler) serveKey(w http.ResponseWriter, r *http.Request, escaped string) {
	start := time.Now()
	rec := newRecorder(w)
	var name string
	// Deferred, so that a reply cut by http.ErrAbortHandler is counted too.
	defer func() { h.metrics.finish(rec, name, start) }()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		name = methodName(r.Method, "get", "head")
		h.getKey(rec, r, escaped)
	case http.MethodPut:
		name = "put"
		h.putKey(rec, r, escaped)
	case http.MethodDelete:
		name = "delete"
		h.deleteKey(rec, r, escaped)
	default:
		name = "other"
		rec.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		writeError(rec, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: %s takes GET, HEAD, PUT and DELETE", r.Method, keysPrefix+"<key>"))
	}
}

func methodName(method, get, head string) string {
	if method == http.MethodHead {
		return head
	}
	return get
}

func (h *Handler) getKey(w http.ResponseWriter, r *http.Request, escaped string) {
	key, err := parseKey(escaped)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := h.beginRead()
	defer t.end()
	if tr, err := h.m.Tier(key); err == nil && (tr == tiermem.Cold || tr == tiermem.Warm && r.Method == http.MethodGet) {
		h.getOpened(w, r, key, &t)
		return
	}
	if r.Method == http.MethodHead {
		h.headInMemory(w, r, key, &t)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	value, shared, err := h.m.RetrieveShared((*buf)[:0], key)
	t.end() // a value shared with the tier is never written over
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !shared {
		*buf = value
	}
	var tag [2 + 16]byte
	valueHeaders(w.Header(), etag(tag[:0], value))
	serveContent(w, r, value, nil)
}

// headInMemory answers a HEAD of a value that is not in the cold tier
// from the value where it lies (View), copying none of it: its size, and
// its ETag hashed in place. It ends the turn t once it has read them.
func (h *Handler) headInMemory(w http.ResponseWriter, r *http.Request, key string, t *turn) {
	var size int64
	var sum uint64
	err := h.m.View(key, func(v []byte) error {
		size, sum = int64(len(v)), xxh3.Hash(v)
		return nil
	})
	t.end()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var tag [2 + 16]byte
	valueHeaders(w.Header(), sumTag(tag[:0], sum))
	serveReader(w, r, emptyReader{}, size)
}

// emptyReader is the content of a reply that sends none: a HEAD's.
type emptyReader struct{}

func (emptyReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

// getOpened serves a cold value, or a GET of a warm one, through
// OpenValueDeferred: a cold value is read from disk as it is sent when the
// tier stores it raw (large values), so that a GET of a value of gigabytes
// holds 256 KiB of it in memory at a time, and a large warm value is sent
// from the mapping that holds it, never copied. (A large hot value needs
// no reader: getKey sends the tier's memory itself, RetrieveShared.) Its
// ETag is the value's XXH3-64, which OpenValue verified before the first
// byte went out.
// A read that fails once the reply has begun is logged, and the connection
// is cut (http.ErrAbortHandler).
//
// A reply without a body — a HEAD, or a GET answered 304, 412 or 416
// (bodiless) — is answered from the size and checksum the cold tier keeps,
// without reading the value; any other is verified first, so that a
// corrupt value is an error reply, not a cut one. The turn t ends once the
// value is open: what it sends is the value as it was then.
func (h *Handler) getOpened(w http.ResponseWriter, r *http.Request, key string, t *turn) {
	v, err := h.m.OpenValueDeferred(key)
	t.end()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer v.Close()
	var buf [2 + 16]byte
	tag := sumTag(buf[:0], v.Checksum())
	if r.Method != http.MethodHead && !bodiless(r.Header, tag, v.Size()) {
		if err := v.Verify(); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	valueHeaders(w.Header(), tag)
	if err := serveReader(w, r, v, v.Size()); err != nil {
		h.log.Error("web: reply cut: the value could not be read to its end", "method", r.Method, "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// bodiless reports whether a GET of a value of size bytes whose ETag is
// tag gets no byte of it from serveReader, decided from its header, the
// tag and the size alone: its If-None-Match names the tag (a 304, or a
// 412), its If-Match names neither the tag nor "*" (a 412), or its Range
// selects no byte of the value and its If-Range lets it apply (a 416, once
// the preconditions hold). Each test reads the header exactly as
// serveRanges and http.ServeContent do, or answers no: a wrong yes would
// send a value that was never verified (FuzzBodiless checks this).
func bodiless(h http.Header, tag []byte, size int64) bool {
	return namesTag(h, tag) || ifMatchFails(h, tag) || rangeUnsatisfiable(h, tag, size)
}

// ifMatchFails reports whether a GET's If-Match, read as
// http.ServeContent reads it (the first field line only), names neither
// "*" nor tag (compared strongly): ServeContent then answers 412. A field
// line with a CR or LF in it, which the two might read apart, is left to
// the full path.
func ifMatchFails(h http.Header, tag []byte) bool {
	field := h.Get("If-Match")
	if field == "" || strings.ContainsAny(field, "\r\n") {
		return false
	}
	return !matches(field, true, func() []byte { return tag }, true)
}

// rangeUnsatisfiable reports whether serveRanges answers a GET with this
// header 416 once its preconditions hold: a Range of which no byte of a
// value of size bytes is selected (byteRanges), and an If-Range that lets
// it apply.
func rangeUnsatisfiable(h http.Header, tag []byte, size int64) bool {
	rng := h.Get("Range")
	if size == 0 || rng == "" {
		return false
	}
	_, empty := byteRanges(rng, size)
	return empty && ifRangeHolds(h.Get("If-Range"), []string{string(tag)})
}

// namesTag reports whether a request's If-None-Match names tag (strongly
// or weakly) or is "*", read exactly as http.ServeContent reads it (the
// first field line only, up to the first token that is no entity tag): a
// GET with such a header gets no body from it (a 304, or a 412 for a
// failed If-Match), so its value need not be read. Any other header may
// get a body, which must be verified before the reply begins.
func namesTag(h http.Header, tag []byte) bool {
	buf := h.Get("If-None-Match")
	for {
		buf = strings.TrimLeft(buf, " \t\r\n")
		switch {
		case buf == "":
			return false
		case buf[0] == ',':
			buf = buf[1:]
			continue
		case buf[0] == '*':
			return true
		}
		opaque, rest, ok := scanTag(buf)
		if !ok {
			return false
		}
		if opaque == string(tag) {
			return true
		}
		buf = rest
	}
}

// scanTag splits an entity tag (W/ and its quoted opaque part, as RFC 9110
// spells it) off the front of s, returning the quoted part.
func scanTag(s string) (opaque, rest string, ok bool) {
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s)-start < 2 || s[start] != '"' {
		return "", "", false
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[start : i+1], s[i+1:], true
		case c == 0x21 || c >= 0x23 && c <= 0x7E || c >= 0x80:
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// sumTag returns a strong entity tag for a value's XXH3-64: 16 hex digits.
func sumTag(dst []byte, sum uint64) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, binary.BigEndian.AppendUint64(nil, sum))
	return append(dst, '"')
}

// valueHeaders sets the headers of a value's reply: its ETag, and those
// below.
func valueHeaders(hdr http.Header, tag []byte) {
	hdr["Etag"] = []string{string(tag)}
	hdr["Content-Type"] = octetStream
	hdr["X-Content-Type-Options"] = noSniff
	hdr["Content-Security-Policy"] = sandbox
}

// The headers of every value served, shared by the replies: bytes that no
// browser sniffs as a page, and that run no script if one is opened, so
// that a stored value cannot act on the dashboard's origin.
var (
	octetStream = []string{"application/octet-stream"}
	noSniff     = []string{"nosniff"}
	sandbox     = []string{"sandbox"}
)

func (h *Handler) putKey(w http.ResponseWriter, r *http.Request, escaped string) {
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
	cond := newWriteCond(r, keyTag)
	if err := h.precheck(key, cond); err != nil {
		h.fail(w, r, err)
		return
	}
	opts = append(opts, tiermem.OnlyIf(cond.check))
	if r.ContentLength > smallBuf {
		h.putStreamed(w, r, key, opts, cond, r.Body, r.ContentLength)
		return
	}
	if r.ContentLength < 0 {
		r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	}
	buf := getBuf()
	defer putBuf(buf)
	value, whole, err := readSmall(r, h.cfg.MaxBodyBytes, buf)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !whole { // sent in chunks, and longer than a buffer: streamed on from what came
		h.putStreamed(w, r, key, opts, cond, io.MultiReader(bytes.NewReader(value), r.Body), -1)
		return
	}
	t := h.beginWrite(key)
	defer t.end() // should Store panic
	err = h.m.Store(key, value, opts...)
	t.end()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(cond.writeStatus())
}

// putStreamed stores a body over 64 KiB, of size bytes, with
// Manager.StoreFrom: a value bound for the cold tier goes from the
// connection to the disk through a small buffer, whatever its size; one
// bound for a memory tier is read once, into memory of its length. A body
// of unknown length (size -1: sent in chunks) is staged on the cold
// tier's disk first, then stored from there as one of known length. A
// body shorter than its Content-Length, or one whose read fails, stores
// nothing (400); one over the limit, nothing either (413).
func (h *Handler) putStreamed(w http.ResponseWriter, r *http.Request, key string, opts []tiermem.StoreOption, cond *writeCond, src io.Reader, size int64) {
	if size > h.cfg.MaxBodyBytes {
		h.fail(w, r, fmt.Errorf("%w: Content-Length %d is over the limit of %d bytes", ErrBodyTooLarge, size, h.cfg.MaxBodyBytes))
		return
	}
	body := &watchedBody{r: src, left: size, h: h, key: key}
	defer body.turn.end() // should StoreFrom panic
	err := h.m.StoreFrom(key, body, size, opts...)
	body.turn.end()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		err = fmt.Errorf("%w: body is over the limit of %d bytes", ErrBodyTooLarge, h.cfg.MaxBodyBytes)
	case err != nil && size < 0 && body.err != nil:
		err = fmt.Errorf("%w: read body: %w", ErrBadBody, err)
	case err != nil && (body.err != nil || errors.Is(err, io.ErrUnexpectedEOF)):
		err = fmt.Errorf("%w: read %d-byte body: %w", ErrBadBody, size, err)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(cond.writeStatus())
}

// watchedBody notes whether reading a request body failed, so that the
// failure is answered as the client's (400), not the server's. It tries
// for the write's turn (Handler.tryBeginWrite) as it hands out the body's
// last byte, or its end when its size is unknown: the value is stored in
// the turn, and the upload before it holds up no one. The write holds its
// value's room meanwhile, so it does not wait for a turn that a command
// waiting for that room would hold: it then goes on out of the order.
type watchedBody struct {
	r    io.Reader
	err  error // the first error other than io.EOF
	left int64 // bytes not read yet; -1: unknown (the turn begins at io.EOF)
	h    *Handler
	key  string
	turn turn
	in   bool // the turn began
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	if b.left >= 0 {
		b.left = max(b.left-int64(n), 0)
	}
	if !b.in && (b.left == 0 || err == io.EOF) {
		b.in, b.turn = true, b.h.tryBeginWrite(b.key)
	}
	return n, err
}

func (h *Handler) deleteKey(w http.ResponseWriter, r *http.Request, escaped string) {
	key, err := parseKey(escaped)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := h.beginWrite(key)
	defer t.end() // should Delete panic
	if cond := newWriteCond(r, keyTag); cond.any() {
		err = h.m.DeleteIf(key, cond.checkDelete)
	} else {
		err = h.m.Delete(key)
	}
	t.end()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

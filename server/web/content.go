package web

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serveContent serves the bytes of a then b as http.ServeContent does —
// Range, If-Range, If-None-Match, If-Match, HEAD — with the ETag already
// in w's header, and with two changes: its error replies are JSON like
// every other, and a 416 always says the size in Content-Range. A request
// with none of those headers is answered directly, with two writes.
func serveContent(w http.ResponseWriter, r *http.Request, a, b []byte) {
	size := int64(len(a) + len(b))
	if plain(r.Header) {
		if writeOK(w, r, size) {
			w.Write(a)
			w.Write(b)
		}
		return
	}
	serveRanges(w, r, &twoPart{a: a, b: b}, size)
}

// serveReader is serveContent for a value of size bytes read from rs as it
// is sent, not held in memory. It returns the error of a read that failed
// once the reply had begun: the caller must then cut the connection
// (panic(http.ErrAbortHandler)), so that the client sees a cut reply
// rather than a whole one with wrong bytes. An error of the client's
// connection is not returned: the reply is cut already.
func serveReader(w http.ResponseWriter, r *http.Request, rs io.ReaderAt, size int64) error {
	src := &readErrors{r: io.NewSectionReader(rs, 0, size)}
	if plain(r.Header) {
		if writeOK(w, r, size) {
			buf := chunks.Get().(*[]byte)
			io.CopyBuffer(onlyWriter{w}, src, *buf)
			chunks.Put(buf)
		}
		return src.err
	}
	serveRanges(w, r, src, size)
	return src.err
}

// readErrors keeps the first error, other than io.EOF, of the reader it
// wraps: what http.ServeContent and a copy would drop.
type readErrors struct {
	r   *io.SectionReader
	err error
}

func (e *readErrors) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func (e *readErrors) Seek(offset int64, whence int) (int64, error) {
	return e.r.Seek(offset, whence)
}

// writeOK writes the 200 header of a whole reply of size bytes and reports
// whether its body follows (not for HEAD).
func writeOK(w http.ResponseWriter, r *http.Request, size int64) bool {
	hdr := w.Header()
	hdr["Accept-Ranges"] = acceptBytes
	hdr["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	w.WriteHeader(http.StatusOK)
	return r.Method != http.MethodHead
}

// streamChunk is how much of a streamed value one write sends.
const streamChunk = 256 << 10

// chunks holds the buffers of streamChunk bytes streamed values are sent
// through, so that a GET allocates none.
var chunks = sync.Pool{New: func() any {
	b := make([]byte, streamChunk)
	return &b
}}

// onlyWriter hides a writer's ReadFrom, so that io.CopyBuffer uses the
// buffer it is given.
type onlyWriter struct{ io.Writer }

// serveRanges serves content's size bytes through http.ServeContent, for a
// request with a Range or a precondition header. The preconditions are
// evaluated before the Range (RFC 9110 §13.2.2), also for a Range that no
// byte satisfies, and a Range in a unit other than bytes is ignored
// (§14.2), as is one of more than maxRanges ranges once those that
// overlap or touch are merged (byteRanges).
func serveRanges(w http.ResponseWriter, r *http.Request, content io.ReadSeeker, size int64) {
	rng := r.Header.Get("Range")
	unsatisfiable := false
	if size == 0 && rng != "" {
		// No range of an empty value holds a byte: the whole (empty)
		// value is the answer, 200, as for any Range on it. ServeContent
		// would answer a suffix range with "Content-Range: bytes 0--1/0".
		r.Header.Del("Range")
		rng = ""
	}
	if rng != "" {
		kept, empty := byteRanges(rng, size)
		switch {
		case kept == "":
			r.Header.Del("Range")
		case kept != rng:
			r.Header.Set("Range", kept)
		}
		unsatisfiable = empty && ifRangeHolds(r.Header.Get("If-Range"), w.Header()["Etag"])
	}
	jw := jsonErrorsPool.Get().(*jsonErrors)
	*jw = jsonErrors{ResponseWriter: w, size: size, rng: rng, unsatisfiable: unsatisfiable}
	g := &guarded{r: content}
	http.ServeContent(jw, r, "", time.Time{}, g)
	g.close()
	jw.finish()
	*jw = jsonErrors{}
	jsonErrorsPool.Put(jw)
}

var acceptBytes = []string{"bytes"}

// guarded is content handed to http.ServeContent, which may go on reading
// it after it returns: for several ranges, a goroutine of its own writes
// the parts into a pipe, and stops only at its next write once the reply
// is cut. close waits for a read in progress and ends all later ones, so
// that nothing reads the content (a pooled buffer, a value's memory) once
// serveRanges returns.
type guarded struct {
	mu     sync.Mutex
	r      io.ReadSeeker
	closed bool
}

var errServed = errors.New("web: the reply is over")

func (g *guarded) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, errServed
	}
	return g.r.Read(p)
}

func (g *guarded) Seek(offset int64, whence int) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, errServed
	}
	return g.r.Seek(offset, whence)
}

func (g *guarded) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// plain reports whether a request's header has none of the fields that
// make its reply depend on more than the bytes: ranges and preconditions.
func plain(h http.Header) bool {
	for _, f := range [...]string{"Range", "If-None-Match", "If-Match", "If-Range", "If-Modified-Since", "If-Unmodified-Since"} {
		if _, ok := h[f]; ok {
			return false
		}
	}
	return true
}

// maxRanges is how many disjoint ranges a Range header may ask for once
// its overlapping and adjacent ones are merged: one that asks for more is
// ignored, and the whole value is the answer (RFC 9110 §14.2 lets a server
// ignore a request for many small or overlapping ranges, which a client
// could otherwise use to make a reply many times the value's size).
const maxRanges = 16

// byteRange is a range of a value's bytes: [start, end).
type byteRange struct {
	start, end int64
	first      int // the position of its first spec in the header
}

// byteRanges returns the Range header http.ServeContent is to serve for a
// value of size bytes (size > 0): its unit spelled "bytes" (a unit's name
// is case-insensitive), without the specs that select no byte ("-0", a
// start past the end), and with overlapping or adjacent specs merged, so
// that no byte is sent twice: disjoint ranges, in the order their first
// spec came in (RFC 9110 §15.3.7.2). It returns "" for a header to ignore
// (one in another unit, one without a spec as ServeContent ignores
// "bytes=", one that asks for more than maxRanges disjoint ranges), and ""
// with empty true for one no byte satisfies (a 416 once the preconditions
// hold). A header without a unit, or with a spec that does not parse, is
// left as it is to ServeContent, which answers 416.
func byteRanges(h string, size int64) (kept string, empty bool) {
	unit, set, found := strings.Cut(h, "=")
	switch {
	case !found:
		return h, false
	case !strings.EqualFold(strings.TrimSpace(unit), "bytes"):
		return "", false
	}
	var ranges []byteRange
	specs := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t\r\n")
		if spec == "" {
			continue
		}
		specs++
		r, ok := parseSpec(spec, size)
		if !ok {
			return "bytes=" + set, false
		}
		if r.end > r.start {
			r.first = len(ranges)
			ranges = append(ranges, r)
		}
	}
	if len(ranges) == 0 {
		return "", specs > 0 // no spec at all: ServeContent ignores the header
	}
	ranges = mergeRanges(ranges)
	if len(ranges) > maxRanges {
		return "", false
	}
	b := make([]byte, 0, len("bytes=")+len(ranges)*24)
	b = append(b, "bytes="...)
	for i, r := range ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, r.start, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, r.end-1, 10)
	}
	return string(b), false
}

// parseSpec parses one spec of a bytes Range ("a-b", "a-", "-n") as
// http.ServeContent does, into the bytes of a value of size bytes it
// selects (none for "-0" and for a start at or past the end); ok is false
// for a spec ServeContent refuses as invalid.
func parseSpec(spec string, size int64) (r byteRange, ok bool) {
	start, end, found := strings.Cut(spec, "-")
	if !found {
		return r, false
	}
	start, end = strings.Trim(start, " \t\r\n"), strings.Trim(end, " \t\r\n")
	if start == "" {
		if end == "" || end[0] == '-' {
			return r, false
		}
		n, err := strconv.ParseInt(end, 10, 64)
		if err != nil || n < 0 {
			return r, false
		}
		return byteRange{start: size - min(n, size), end: size}, true
	}
	a, err := strconv.ParseInt(start, 10, 64)
	if err != nil || a < 0 {
		return r, false
	}
	if a >= size {
		return byteRange{start: size, end: size}, true // no byte
	}
	if end == "" {
		return byteRange{start: a, end: size}, true
	}
	b, err := strconv.ParseInt(end, 10, 64)
	if err != nil || b < a {
		return r, false
	}
	return byteRange{start: a, end: min(b, size-1) + 1}, true
}

// mergeRanges merges the ranges that overlap or touch, and returns the
// disjoint ones left in the order of their first spec.
func mergeRanges(ranges []byteRange) []byteRange {
	slices.SortFunc(ranges, func(a, b byteRange) int { return cmp.Compare(a.start, b.start) })
	merged := ranges[:1]
	for _, r := range ranges[1:] {
		last := &merged[len(merged)-1]
		if r.start > last.end {
			merged = append(merged, r)
			continue
		}
		last.end = max(last.end, r.end)
		last.first = min(last.first, r.first)
	}
	slices.SortFunc(merged, func(a, b byteRange) int { return cmp.Compare(a.first, b.first) })
	return merged
}

// ifRangeHolds reports whether a request's If-Range lets its Range apply
// (RFC 9110 §13.1.5): it is absent, or it names the value's strong ETag.
// A date never holds: a value has no Last-Modified.
func ifRangeHolds(ifRange string, etag []string) bool {
	if ifRange == "" {
		return true
	}
	return len(etag) == 1 && strings.TrimSpace(ifRange) == etag[0] && !strings.HasPrefix(etag[0], "W/")
}

// jsonErrors turns the error replies of http.ServeContent (412, 416, and
// its plain-text bodies) into JSON ones.
type jsonErrors struct {
	http.ResponseWriter
	size    int64
	rng     string       // the request's Range header
	status  int          // the error status written, or 0
	message bytes.Buffer // the text ServeContent wrote with it
	// unsatisfiable turns the 200 of a request whose Range no byte
	// satisfies (ServeContent, which served it without its Range, found
	// its preconditions held) into a 416.
	unsatisfiable bool
}

func (j *jsonErrors) WriteHeader(code int) {
	if code == http.StatusOK && j.unsatisfiable {
		j.status = http.StatusRequestedRangeNotSatisfiable
		j.message.WriteString("no part of it is within them")
		return
	}
	if code < 400 {
		j.ResponseWriter.WriteHeader(code)
		return
	}
	j.status = code
}

func (j *jsonErrors) Write(p []byte) (int, error) {
	if j.status != 0 && j.unsatisfiable {
		return 0, errServed // the body of the 200 it stands for: not sent, and not read further
	}
	if j.status != 0 {
		return j.message.Write(p)
	}
	return j.ResponseWriter.Write(p)
}

// finish writes the JSON error reply, if there is one.
func (j *jsonErrors) finish() {
	if j.status == 0 {
		return
	}
	msg := strings.TrimSpace(j.message.String())
	if msg == "" {
		msg = http.StatusText(j.status)
	}
	if j.status == http.StatusRequestedRangeNotSatisfiable {
		j.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(j.size, 10))
		msg = fmt.Sprintf("range %q of %d bytes: %s", j.rng, j.size, msg)
	}
	writeError(j.ResponseWriter, j.status, msg)
}

// Unwrap returns the ResponseWriter beneath, for http.ResponseController.
func (j *jsonErrors) Unwrap() http.ResponseWriter { return j.ResponseWriter }

// ReadFrom keeps the ResponseWriter's own ReadFrom within io.Copy's reach.
func (j *jsonErrors) ReadFrom(src io.Reader) (int64, error) {
	if j.status != 0 && j.unsatisfiable {
		return 0, errServed
	}
	if j.status != 0 {
		return j.message.ReadFrom(src)
	}
	return readFrom(j.ResponseWriter, src)
}

var jsonErrorsPool = sync.Pool{New: func() any { return new(jsonErrors) }}

// twoPart is an io.ReadSeeker over a then b, for http.ServeContent.
type twoPart struct {
	a, b []byte
	off  int64
}

func (t *twoPart) size() int64 { return int64(len(t.a) + len(t.b)) }

func (t *twoPart) Read(p []byte) (int, error) {
	if t.off >= t.size() {
		return 0, io.EOF
	}
	var n int
	if t.off < int64(len(t.a)) {
		n = copy(p, t.a[t.off:])
	}
	if n < len(p) && t.off+int64(n) >= int64(len(t.a)) {
		n += copy(p[n:], t.b[t.off+int64(n)-int64(len(t.a)):])
	}
	t.off += int64(n)
	return n, nil
}

func (t *twoPart) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += t.off
	case io.SeekEnd:
		offset += t.size()
	}
	if offset < 0 {
		return 0, errors.New("web: seek before the start")
	}
	t.off = offset
	return offset, nil
}

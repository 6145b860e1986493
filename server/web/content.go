package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
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
// request with a Range or a precondition header.
func serveRanges(w http.ResponseWriter, r *http.Request, content io.ReadSeeker, size int64) {
	if rng := r.Header.Get("Range"); rng != "" {
		kept, ok := dropEmptySuffixes(rng)
		if !ok {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			writeError(w, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("range %q: no part of it is within the %d bytes", rng, size))
			return
		}
		if kept != rng {
			r.Header.Set("Range", kept)
		}
	}
	jw := jsonErrorsPool.Get().(*jsonErrors)
	*jw = jsonErrors{ResponseWriter: w, size: size, rng: r.Header.Get("Range")}
	http.ServeContent(jw, r, "", time.Time{}, content)
	jw.finish()
	*jw = jsonErrors{}
	jsonErrorsPool.Put(jw)
}

var acceptBytes = []string{"bytes"}

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

// dropEmptySuffixes returns a Range header without its "-0" ranges (the
// last zero bytes: nothing), which http.ServeContent would answer with a
// 206 of nothing; ok is false when nothing is left of a bytes range set.
// Other headers, well formed or not, are left to ServeContent.
func dropEmptySuffixes(h string) (kept string, ok bool) {
	unit, set, found := strings.Cut(h, "=")
	if !found || strings.TrimSpace(unit) != "bytes" || !strings.Contains(set, "-0") {
		return h, true
	}
	var specs []string
	for spec := range strings.SplitSeq(set, ",") {
		s := strings.TrimSpace(spec)
		if strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0") == "" && len(s) > 1 {
			continue
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return "", false
	}
	return unit + "=" + strings.Join(specs, ","), true
}

// jsonErrors turns the error replies of http.ServeContent (412, 416, and
// its plain-text bodies) into JSON ones.
type jsonErrors struct {
	http.ResponseWriter
	size    int64
	rng     string       // the request's Range header
	status  int          // the error status written, or 0
	message bytes.Buffer // the text ServeContent wrote with it
}

func (j *jsonErrors) WriteHeader(code int) {
	if code < 400 {
		j.ResponseWriter.WriteHeader(code)
		return
	}
	j.status = code
}

func (j *jsonErrors) Write(p []byte) (int, error) {
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

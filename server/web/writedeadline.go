package web

import (
	"io"
	"net/http"
	"time"
)

// deadlineWriter is a ResponseWriter whose every write must be taken by
// the client within d (Config.WriteTimeout): it writes at most
// streamChunk bytes at a time, each with a write deadline d from when it
// begins, set through the response's controller. A write that passes
// its deadline fails, and the server closes the connection, so a client
// that stops reading ends its request, and lets go of the value it was
// sent; one that reads, however slowly, takes each piece in time. A
// connection that cannot take deadlines (a test's recorder) is written
// as it is.
type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
	ok bool // the connection takes deadlines
}

func newDeadlineWriter(w http.ResponseWriter, d time.Duration) *deadlineWriter {
	return &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d, ok: true}
}

// arm sets the write deadline to t (zero: none).
func (dw *deadlineWriter) arm(t time.Time) {
	if dw.ok && dw.rc.SetWriteDeadline(t) != nil {
		dw.ok = false
	}
}

func (dw *deadlineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), streamChunk)]
		dw.arm(time.Now().Add(dw.d))
		m, err := dw.ResponseWriter.Write(piece)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// ReadFrom copies src through Write, a piece of streamChunk at a time in
// a pooled buffer, so that each piece gets its deadline (the
// ResponseWriter's own ReadFrom would write without one).
func (dw *deadlineWriter) ReadFrom(src io.Reader) (int64, error) {
	buf := chunks.Get().(*[]byte)
	defer chunks.Put(buf)
	return io.CopyBuffer(onlyWriter{dw}, src, *buf)
}

// FlushError flushes the reply within the deadline.
func (dw *deadlineWriter) FlushError() error {
	dw.arm(time.Now().Add(dw.d))
	return dw.rc.Flush()
}

// Flush is FlushError for http.Flusher.
func (dw *deadlineWriter) Flush() { dw.FlushError() }

// Unwrap returns the ResponseWriter beneath, for http.ResponseController.
func (dw *deadlineWriter) Unwrap() http.ResponseWriter { return dw.ResponseWriter }

// done sets a deadline d from now for what the server writes once the
// handler has returned: the rest of the reply it holds in its buffers.
// The server clears it once the reply is written (net/http's conn.serve
// does after each request), so that it never ends the connection's next
// request, nor the "100 Continue" that one's body may ask for.
func (dw *deadlineWriter) done() { dw.arm(time.Now().Add(dw.d)) }

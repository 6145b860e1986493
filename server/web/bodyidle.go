package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// idleBody is a request body whose every read must bring a byte within d
// (Config.BodyIdleTimeout): a read deadline is set before each read
// through the response's controller, and a read that passes it fails with
// ErrBodyStalled. A server whose connection cannot take deadlines (an
// HTTP/2 stream of some transports, a test's recorder) reads the body as
// it is.
type idleBody struct {
	io.ReadCloser
	rc *http.ResponseController
	d  time.Duration
	ok bool // the connection takes deadlines
	// stalled says a read passed the deadline: the connection is then
	// closed after the reply, the rest of the body never read.
	stalled bool
}

func newIdleBody(w http.ResponseWriter, body io.ReadCloser, d time.Duration) *idleBody {
	return &idleBody{ReadCloser: body, rc: http.NewResponseController(w), d: d, ok: true}
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.ok && b.rc.SetReadDeadline(time.Now().Add(b.d)) != nil {
		b.ok = false
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.stalled = true
		err = fmt.Errorf("%w: no byte of it for %v", ErrBodyStalled, b.d)
	}
	return n, err
}

// done clears the deadline the last read set, so that it never ends the
// connection's next request or its wait between requests. After a stall it
// stays: the server's read of what is left of the body (before it reuses
// the connection) then fails at once, and the connection is closed after
// the reply instead of waiting for a body that does not come.
func (b *idleBody) done() {
	if b.ok && !b.stalled {
		b.rc.SetReadDeadline(time.Time{})
	}
}

package main

import "io"

// errWriter passes writes on to w until one fails, then remembers that
// error and writes nothing more, as bufio.Writer does: a report printed
// by many Fprintf calls is checked once, at its end, and a report that
// could not be written (standard output on a full disk) is an error
// rather than an exit status of 0.
type errWriter struct {
	w   io.Writer
	err error // the first write error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

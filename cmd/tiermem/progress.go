package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// showProgress decides from a --progress flag whether to draw progress bars
// on errOut: "auto" only when errOut is a terminal (not a log file, a pipe or
// /dev/null), "always" or "never" whatever it is.
func showProgress(mode string, errOut io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return isTerminal(errOut), nil
	}
	return false, fmt.Errorf("--progress %q: want auto, always or never", mode)
}

// progressUsage is the help of every --progress flag.
const progressUsage = "progress bars on stderr: auto (only when it is a terminal), always or never"

// isTerminal reports whether w is a file descriptor open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// barEvery is the shortest time between two drawings of a bar. Tests lower it.
var barEvery = 100 * time.Millisecond

// rateAfter is how long a bar waits before it draws at all, so that the rate
// it shows is measured over that long at least: over the first milliseconds
// it is noise ("17 TB/s"), and work done sooner needs no bar. Tests lower it.
var rateAfter = time.Second

// bar is a progressbar whose drawing starts once it has run rateAfter: the
// progressbar measures from the bar's start, and what it draws before then
// is dropped. A hidden bar draws nothing. Its methods return the error of
// drawing. A bar is not safe for concurrent use.
type bar struct {
	pb *progressbar.ProgressBar
}

// newBar returns a bar over total items (0 or less when not known) on
// errOut, drawn only if show.
func newBar(total int64, what string, errOut io.Writer, show bool) *bar {
	return newProgress(total, what, errOut, show, progressbar.OptionShowIts())
}

// newBytesBar is newBar for a count of bytes.
func newBytesBar(total int64, what string, errOut io.Writer, show bool) *bar {
	return newProgress(total, what, errOut, show, progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true))
}

func newProgress(total int64, what string, errOut io.Writer, show bool, unit ...progressbar.Option) *bar {
	if total <= 0 {
		total = -1
	}
	w := &delayedWriter{w: errOut, from: time.Now().Add(rateAfter)}
	opts := append([]progressbar.Option{
		progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionSetVisibility(show), progressbar.OptionThrottle(barEvery),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30), progressbar.OptionShowCount(),
	}, unit...)
	return &bar{pb: progressbar.NewOptions64(total, opts...)}
}

// Add counts n more items done.
func (b *bar) Add(n int) error { return b.pb.Add(n) }

// Add64 counts n more items done.
func (b *bar) Add64(n int64) error { return b.pb.Add64(n) }

// Set64 records that done items are done.
func (b *bar) Set64(done int64) error { return b.pb.Set64(done) }

// Clear blanks the line, so that the caller can print one of its own; the
// next update draws the bar again.
func (b *bar) Clear() error { return b.pb.Clear() }

// Finish blanks the line; the bar draws no more.
func (b *bar) Finish() error { return b.pb.Finish() }

// delayedWriter drops what is written to it before from, and passes the
// rest to w.
type delayedWriter struct {
	w    io.Writer
	from time.Time
}

func (d *delayedWriter) Write(p []byte) (int, error) {
	if time.Now().Before(d.from) {
		return len(p), nil
	}
	return d.w.Write(p)
}

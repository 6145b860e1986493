package main

import (
	"fmt"
	"io"
	"strings"
	"time"

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

const (
	// barEvery is the shortest time between two drawings of a bar.
	barEvery = 100 * time.Millisecond
	// rateAfter is how long a bar runs before it shows a rate and the time
	// left: over the first milliseconds they are noise ("17 TB/s").
	rateAfter = time.Second
)

// bar draws one line of progress: what is being done, how far, and once it
// has run rateAfter the rate and the time left. A hidden bar draws nothing.
// Its methods return the error of writing the line. A bar is not safe for
// concurrent use.
type bar struct {
	w     io.Writer // nil when hidden
	what  string
	total int64 // 0 or less when not known
	bytes bool  // done and total count bytes
	now   func() time.Time
	start time.Time
	drawn time.Time // when the line was last drawn
	done  int64
	width int // of the line last drawn, blanked by the next
}

// newBar returns a bar over total items (0 or less when not known) on
// errOut, drawn only if show.
func newBar(total int64, what string, errOut io.Writer, show bool) *bar {
	b := &bar{what: what, total: total, now: time.Now}
	if show {
		b.w = errOut
	}
	b.start = b.now()
	return b
}

// newBytesBar is newBar for a count of bytes.
func newBytesBar(total int64, what string, errOut io.Writer, show bool) *bar {
	b := newBar(total, what, errOut, show)
	b.bytes = true
	return b
}

// Add adds n to the work done.
func (b *bar) Add(n int) error { return b.Set64(b.done + int64(n)) }

// Add64 adds n to the work done.
func (b *bar) Add64(n int64) error { return b.Set64(b.done + n) }

// Set64 sets the work done and draws the line, at most every barEvery.
func (b *bar) Set64(done int64) error {
	b.done = done
	if b.w == nil {
		return nil
	}
	now := b.now()
	if !b.drawn.IsZero() && now.Sub(b.drawn) < barEvery {
		return nil
	}
	b.drawn = now
	return b.draw(b.line(now.Sub(b.start)))
}

// Finish blanks the line; the bar draws no more.
func (b *bar) Finish() error {
	if b.w == nil || b.width == 0 {
		b.w = nil
		return nil
	}
	_, err := io.WriteString(b.w, "\r"+strings.Repeat(" ", b.width)+"\r")
	b.w = nil
	return err
}

// draw writes line over the one drawn before.
func (b *bar) draw(line string) error {
	pad := max(b.width-len(line), 0)
	b.width = len(line)
	_, err := io.WriteString(b.w, "\r"+line+strings.Repeat(" ", pad))
	return err
}

// line is what the bar shows after elapsed.
func (b *bar) line(elapsed time.Duration) string {
	var s strings.Builder
	s.WriteString(b.what)
	if b.total > 0 {
		fmt.Fprintf(&s, " %3d%%", min(100*b.done/b.total, 100))
	}
	s.WriteString(" " + b.amount(float64(b.done)))
	if b.total > 0 {
		s.WriteString(" / " + b.amount(float64(b.total)))
	}
	if elapsed >= rateAfter && b.done > 0 {
		rate := float64(b.done) / elapsed.Seconds()
		s.WriteString("  " + b.amount(rate) + "/s")
		if b.total > b.done {
			left := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
			s.WriteString("  " + left.Round(time.Second).String() + " left")
		}
	}
	return s.String()
}

// amount formats a count of the bar's unit.
func (b *bar) amount(n float64) string {
	if b.bytes {
		return formatBytes(int64(n))
	}
	return formatCount(n)
}

// formatCount writes a count with a decimal unit: 950, 12.3k, 4.5M.
func formatCount(n float64) string {
	const units = "kMGTPE"
	if n < 1000 {
		return fmt.Sprintf("%.0f", n)
	}
	i := 0
	for n /= 1000; n >= 1000 && i < len(units)-1; i++ {
		n /= 1000
	}
	return fmt.Sprintf("%.1f%c", n, units[i])
}

package server

import (
	"bytes"
	"errors"
	"fmt"
)

// The limits a reader applies, as Redis's defaults.
const (
	maxInline       = 64 << 10  // PROTO_INLINE_MAX_SIZE: an inline command, or a length line
	unauthMultibulk = 10        // the arguments of a command before AUTH
	unauthBulk      = 16 << 10  // the bytes of an argument before AUTH
	readChunk       = 16 << 10  // what one read asks for, at least
	maxKeptBuffer   = 256 << 10 // a buffer grown past this is dropped once empty
	maxKeptArgs     = 4096      // argument lists grown past this many are dropped at the next command
)

// errIncomplete says the buffer holds no whole command yet.
var errIncomplete = errors.New("server: incomplete command")

// protocolError is a frame Redis rejects: the client gets msg as an error
// reply and the connection is closed.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "server: protocol error: " + e.msg }
func (e *protocolError) Unwrap() error { return ErrProtocol }

func protoErr(msg string) error { return &protocolError{msg: msg} }

// reader parses commands out of the bytes a client sent: multibulk frames
// (*N $len arg...) and inline commands, as Redis's processMultibulkBuffer
// and processInlineBuffer do. The arguments it returns point into its
// buffer (or its scratch space, for inline commands): they are valid until
// the next call to fill.
type reader struct {
	buf     []byte // buf[r:w] is unread
	r, w    int
	args    [][]byte
	scratch []byte // inline arguments, unquoted
	need    int    // bytes a partial command needs in all, from r; 0 when unknown

	// A multibulk frame that came in part is resumed where it stopped, so
	// that a frame of many arguments sent in small pieces is read in
	// linear time: its argument count, where its next argument starts and
	// the arguments read so far, all relative to r (which moves when the
	// buffer is compacted).
	partial bool
	count   int64
	pos     int
	spans   [][2]int

	maxBulk  int64 // the longest argument
	maxArgs  int64 // the most arguments
	unauthed bool  // AUTH is required and not done: the tighter limits apply

	// stream lets next return a plain SET whose large value is not all
	// read yet (streamMin), with the value's frame in value.
	stream bool
	value  *valueStream
}

// space returns room to read into, after moving the unread bytes to the
// front and growing the buffer to what a partial command needs.
func (p *reader) space() []byte {
	if p.r == p.w {
		p.r, p.w = 0, 0
		if cap(p.buf) > maxKeptBuffer {
			p.buf = nil
		}
	}
	// A partial argument's announced size is reached by doubling what
	// came, not reserved at once: a client that announces 512 MiB and
	// sends nothing costs nothing.
	unread := p.w - p.r
	want := unread + readChunk
	if p.need > want {
		want = min(p.need, max(2*unread, want))
	}
	if p.r > 0 && (len(p.buf)-p.w < readChunk || len(p.buf)-p.r < want) {
		n := copy(p.buf, p.buf[p.r:p.w])
		p.r, p.w = 0, n
	}
	if len(p.buf)-p.r < want {
		nb := make([]byte, max(want, 2*len(p.buf), 2*readChunk))
		p.w = copy(nb, p.buf[p.r:p.w])
		p.r, p.buf = 0, nb
	}
	return p.buf[p.w:]
}

// next parses the next command: its arguments (none for an empty one,
// which gets no reply), errIncomplete, or a *protocolError.
func (p *reader) next() ([][]byte, error) {
	b := p.buf[p.r:p.w]
	if len(b) == 0 {
		return nil, errIncomplete
	}
	if b[0] == '*' {
		return p.multibulk(b)
	}
	return p.inline(b)
}

// multibulk parses "*N\r\n" and N "$len\r\narg\r\n" from b, from where
// the previous call stopped if it found the frame incomplete.
func (p *reader) multibulk(b []byte) ([][]byte, error) {
	if !p.partial {
		n, pos, err := p.lengthLine(b, 0, "too big mbulk count string")
		if err != nil {
			return nil, err
		}
		count, ok := parseInt(b[1:n])
		switch {
		case !ok || count > 1<<31-1:
			return nil, protoErr("invalid multibulk length")
		case count > unauthMultibulk && p.unauthed:
			return nil, protoErr("unauthenticated multibulk length")
		case count > p.maxArgs:
			return nil, protoErr("invalid multibulk length")
		}
		if cap(p.spans) > maxKeptArgs { // a large command's: not kept for the ones after it
			p.spans = nil
		}
		p.partial, p.count, p.pos, p.spans = true, count, pos, p.spans[:0]
	}
	for int64(len(p.spans)) < p.count {
		pos := p.pos
		n, next, err := p.lengthLine(b, pos, "too big bulk count string")
		if err != nil {
			return nil, p.stop(err)
		}
		if b[pos] != '$' {
			return nil, p.stop(protoErr(fmt.Sprintf("expected '$', got '%c'", b[pos])))
		}
		size, ok := parseInt(b[pos+1 : n])
		switch {
		case !ok || size < 0 || size > p.maxBulk:
			return nil, p.stop(protoErr("invalid bulk length"))
		case size > unauthBulk && p.unauthed:
			return nil, p.stop(protoErr("unauthenticated bulk length"))
		}
		if int64(len(b)-next) < size+2 {
			if p.streamsValue(b, next, size) {
				return p.streamValue(b, next, size), nil
			}
			p.need = next + int(size) + 2
			return nil, errIncomplete
		}
		p.spans = append(p.spans, [2]int{next, next + int(size)})
		p.pos = next + int(size) + 2 // Redis skips the CRLF unchecked, and so do we
	}
	if cap(p.args) > maxKeptArgs {
		p.args = nil
	}
	p.args = p.args[:0]
	for _, sp := range p.spans {
		p.args = append(p.args, b[sp[0]:sp[1]:sp[1]])
	}
	p.r += p.pos
	p.need, p.partial = 0, false
	return p.args, nil
}

// stop ends a partial frame on an error other than errIncomplete.
func (p *reader) stop(err error) error {
	if !errors.Is(err, errIncomplete) {
		p.partial = false
	}
	return err
}

// lengthLine finds the CR that ends the line at b[pos:], returns its index
// and where the next line starts: errIncomplete until a byte follows the
// CR, an error naming what when none comes within maxInline bytes.
func (p *reader) lengthLine(b []byte, pos int, what string) (int, int, error) {
	cr := cIndex(b[pos:], '\r')
	if cr < 0 {
		if len(b)-pos > maxInline {
			return 0, 0, protoErr(what)
		}
		p.need = 0
		return 0, 0, errIncomplete
	}
	cr += pos
	if cr+2 > len(b) {
		p.need = 0
		return 0, 0, errIncomplete
	}
	return cr, cr + 2, nil
}

// cIndex is C's strchr on b: the index of c, or -1 when a NUL byte or
// the end comes first (Redis looks for line ends so, and waits for more
// bytes after a NUL).
func cIndex(b []byte, c byte) int {
	i := bytes.IndexByte(b, c)
	if i < 0 {
		return -1
	}
	if bytes.IndexByte(b[:i], 0) >= 0 {
		return -1
	}
	return i
}

// inline parses one line of space-separated, optionally quoted arguments.
func (p *reader) inline(b []byte) ([][]byte, error) {
	nl := cIndex(b, '\n')
	if nl < 0 {
		if len(b) > maxInline {
			return nil, protoErr("too big inline request")
		}
		p.need = 0
		return nil, errIncomplete
	}
	line := b[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := splitArgs(line, p.args[:0], p.scratch[:0])
	if !ok {
		return nil, protoErr("unbalanced quotes in request")
	}
	p.args = args
	p.r += nl + 1
	p.need = 0
	return args, nil
}

// splitArgs is Redis's sdssplitargs: arguments separated by blanks, in
// "double quotes" (with \xHH, \n, \r, \t, \b, \a and \c escapes) or 'single
// quotes' (with \'). A NUL byte ends the line. The unquoted bytes go to
// scratch, which the arguments point into.
func splitArgs(line []byte, args [][]byte, scratch []byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	// The arguments are written to scratch first and sliced after, since
	// appending may move it.
	var ends []int
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		var ok bool
		if scratch, i, ok = splitArg(line, i, scratch); !ok {
			return nil, false
		}
		ends = append(ends, len(scratch))
	}
	start := 0
	for _, end := range ends {
		args = append(args, scratch[start:end:end])
		start = end
	}
	return args, true
}

// splitArg appends one argument that starts at line[i] to dst and returns
// where the line goes on.
func splitArg(line []byte, i int, dst []byte) ([]byte, int, bool) {
	at := func(j int) byte { // NUL past the end, as in C
		if j < len(line) {
			return line[j]
		}
		return 0
	}
	inq, insq := false, false
	for {
		c := at(i)
		switch {
		case inq:
			switch {
			case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
				dst = append(dst, unhex(at(i+2))<<4|unhex(at(i+3)))
				i += 3
			case c == '\\' && at(i+1) != 0:
				i++
				dst = append(dst, unescape(at(i)))
			case c == '"':
				if n := at(i + 1); n != 0 && !isSpace(n) {
					return nil, 0, false
				}
				return dst, i + 1, true
			case c == 0:
				return nil, 0, false
			default:
				dst = append(dst, c)
			}
		case insq:
			switch {
			case c == '\\' && at(i+1) == '\'':
				i++
				dst = append(dst, '\'')
			case c == '\'':
				if n := at(i + 1); n != 0 && !isSpace(n) {
					return nil, 0, false
				}
				return dst, i + 1, true
			case c == 0:
				return nil, 0, false
			default:
				dst = append(dst, c)
			}
		default:
			switch c {
			case ' ', '\n', '\r', '\t', 0:
				return dst, min(i+1, len(line)), true
			case '"':
				inq = true
			case '\'':
				insq = true
			default:
				dst = append(dst, c)
			}
		}
		i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

package server

// prepareWindow is how many pipelined commands' keys the Manager prepares
// at once (Manager.PrepareLookups): the command about to run and those
// buffered after it.
const prepareWindow = 16

// prepareAhead hands the Manager the key of the command about to run and
// of up to prepareWindow-1 whole commands buffered after it, so that their
// lookups overlap instead of each waiting for memory, once per window. A
// command's key is taken to be its second argument, as for most commands;
// where it is not, the hint costs a probe and changes nothing. A lone
// command (nothing buffered after it) and a client not yet authenticated
// get no hint.
func (c *conn) prepareAhead(args [][]byte) {
	if c.prepared > 0 {
		c.prepared--
		return
	}
	if c.in.r == c.in.w || !c.authed {
		return
	}
	keys := c.ahead[:0]
	if len(args) > 1 {
		keys = append(keys, args[1])
	}
	keys, c.prepared = c.in.peekKeys(keys, prepareWindow-1)
	if len(keys) > 1 {
		c.s.m.PrepareLookups(keys)
	}
	clear(keys) // they point into the read buffer, which may be let go
	c.ahead = keys[:0]
}

// peekKeys appends the second argument of each whole multibulk command
// buffered after the one last parsed, up to max commands, and returns them
// and how many commands it looked at. It stops at the first command that is
// not a whole multibulk frame of at most peekArgs arguments with lengths of
// at most 9 digits, leaving every check to next: it parses nothing the
// reader relies on. The keys point into the buffer, valid until space.
func (p *reader) peekKeys(keys [][]byte, max int) ([][]byte, int) {
	if p.partial {
		return keys, 0
	}
	b := p.buf[p.r:p.w]
	n := 0
	for ; n < max; n++ {
		end, key, ok := peekFrame(b, p.maxArgs, p.maxBulk)
		if !ok {
			break
		}
		if key != nil {
			keys = append(keys, key)
		}
		b = b[end:]
	}
	return keys, n
}

// peekArgs is the most arguments of a command peekKeys looks past.
const peekArgs = 64

// peekFrame reads the whole multibulk frame at the start of b, of at most
// maxArgs arguments of at most maxBulk bytes each (the reader's limits):
// where it ends and its second argument (nil if it has one argument); ok
// is false for anything else.
func peekFrame(b []byte, maxArgs, maxBulk int64) (end int, key []byte, ok bool) {
	if len(b) == 0 || b[0] != '*' {
		return 0, nil, false
	}
	count, pos, ok := peekLength(b, 1)
	if !ok || count < 1 || count > peekArgs || int64(count) > maxArgs {
		return 0, nil, false
	}
	for i := range count {
		if pos >= len(b) || b[pos] != '$' {
			return 0, nil, false
		}
		size, next, ok := peekLength(b, pos+1)
		if !ok || int64(size) > maxBulk || size+2 > len(b)-next {
			return 0, nil, false
		}
		if i == 1 {
			key = b[next : next+size : next+size]
		}
		pos = next + size + 2
	}
	return pos, key, true
}

// peekLength parses the decimal digits at b[i:] up to a CRLF: the number
// and where the next line starts; ok is false for no digit, more than 9, a
// leading zero (as parseInt), or no CRLF after them.
func peekLength(b []byte, i int) (n, next int, ok bool) {
	start := i
	if i+1 < len(b) && b[i] == '0' && b[i+1] != '\r' {
		return 0, 0, false
	}
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i-start == 9 {
			return 0, 0, false
		}
		n = n*10 + int(b[i]-'0')
	}
	if i == start || i+1 >= len(b) || b[i] != '\r' || b[i+1] != '\n' {
		return 0, 0, false
	}
	return n, i + 2, true
}

package web

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/tiermem/tiermem"
)

// descrs is NumPy's type string for each DType, as tiermem writes them.
var descrs = [...]string{
	tiermem.Float64: "<f8", tiermem.Float32: "<f4",
	tiermem.Int64: "<i8", tiermem.Int32: "<i4", tiermem.Int16: "<i2", tiermem.Int8: "|i1",
	tiermem.Uint64: "<u8", tiermem.Uint32: "<u4", tiermem.Uint16: "<u2", tiermem.Uint8: "|u1",
	tiermem.Bool: "|b1", tiermem.Complex64: "<c8", tiermem.Complex128: "<c16",
}

// descrOf returns NumPy's type string for d, or "" for an unknown DType.
func descrOf(d tiermem.DType) string {
	if int(d) >= len(descrs) {
		return ""
	}
	return descrs[d]
}

// dtypeOf returns the DType a NumPy type string names, and whether its
// elements are big-endian (and so must be swapped): the byte order is '<',
// '>', '=' (native: little-endian on every platform tiermem runs on) or
// '|' (not applicable), then the kind and the size.
func dtypeOf(descr string) (d tiermem.DType, bigEndian bool, err error) {
	if len(descr) < 2 {
		return 0, false, fmt.Errorf("%w: dtype %q", ErrNPY, descr)
	}
	order, kind := descr[0], descr[1:]
	switch order {
	case '<', '=', '|':
	case '>':
		bigEndian = true
	default:
		return 0, false, fmt.Errorf("%w: dtype %q: byte order %q is not <, >, = or |", ErrNPY, descr, order)
	}
	for t, s := range descrs {
		if s != "" && s[1:] == kind {
			return tiermem.DType(t), bigEndian, nil
		}
	}
	return 0, false, fmt.Errorf("%w: dtype %q has no tiermem element type (want one of f8 f4 i8 i4 i2 i1 u8 u4 u2 u1 b1 c8 c16)", ErrNPY, descr)
}

// npyHeader is what a .npy file's header says.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// maxDims bounds the dimensions of an array read: NumPy's own limit is 64.
const maxDims = 64

// parseNPY parses a .npy file, versions 1.0 to 3.0, into an Array over
// b's bytes (big-endian elements are swapped in place).
func parseNPY(b []byte) (tiermem.Array, error) {
	const magic = "\x93NUMPY"
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return tiermem.Array{}, fmt.Errorf("%w: no \\x93NUMPY magic", ErrNPY)
	}
	major := b[6]
	var hlen, start int
	if b[7] != 0 { // no minor version but 0 exists: NumPy refuses 1.5 as it refuses 4.0
		return tiermem.Array{}, fmt.Errorf("%w: version %d.%d (want 1.0, 2.0 or 3.0)", ErrNPY, major, b[7])
	}
	switch major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return tiermem.Array{}, fmt.Errorf("%w: truncated header", ErrNPY)
		}
		n := binary.LittleEndian.Uint32(b[8:])
		if uint64(n) > uint64(len(b)) {
			return tiermem.Array{}, fmt.Errorf("%w: header length %d past the end of the file", ErrNPY, n)
		}
		hlen, start = int(n), 12
	default:
		return tiermem.Array{}, fmt.Errorf("%w: version %d.%d (want 1.0, 2.0 or 3.0)", ErrNPY, major, b[7])
	}
	if start+hlen > len(b) {
		return tiermem.Array{}, fmt.Errorf("%w: header length %d past the end of the file", ErrNPY, hlen)
	}
	hdr, err := parseHeader(string(b[start : start+hlen]))
	if err != nil {
		return tiermem.Array{}, err
	}
	if hdr.fortran {
		return tiermem.Array{}, fmt.Errorf("%w: fortran_order True: send a C-ordered array (numpy.ascontiguousarray)", ErrNPY)
	}
	dt, bigEndian, err := dtypeOf(hdr.descr)
	if err != nil {
		return tiermem.Array{}, err
	}
	data := b[start+hlen:]
	// The size is the element's times the dimensions that are not 0, up
	// to 2^63-1 (NumPy refuses a larger shape as "too big" even when
	// another dimension is 0, and so does Array.Validate), or 0 when one
	// is 0.
	want, empty := uint64(dt.Size()), false
	for _, d := range hdr.shape {
		if d == 0 {
			empty = true
			continue
		}
		hi, lo := bits.Mul64(want, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return tiermem.Array{}, fmt.Errorf("%w: shape %v of %s is larger than any array (over 2^63-1 bytes, counting the dimensions that are not 0)", ErrNPY, hdr.shape, hdr.descr)
		}
		want = lo
	}
	if empty {
		want = 0
	}
	if want != uint64(len(data)) {
		return tiermem.Array{}, fmt.Errorf("%w: shape %v of %s needs %d data bytes, the file has %d", ErrNPY, hdr.shape, hdr.descr, want, len(data))
	}
	if bigEndian {
		swap(data, dt)
	}
	if dt == tiermem.Bool {
		canonicalBools(data)
	}
	return tiermem.Array{DType: dt, Shape: hdr.shape, Data: data}, nil
}

// canonicalBools writes 1 for every non-zero byte of a bool array's data:
// NumPy reads any of them as True, and Go's bools, which Elements and
// Bools give over the data, must be 0 or 1.
func canonicalBools(data []byte) {
	for i, c := range data {
		if c > 1 {
			data[i] = 1
		}
	}
}

// swap reverses the bytes of each element of data (each half of a complex).
func swap(data []byte, d tiermem.DType) {
	n := d.Size()
	if d == tiermem.Complex64 || d == tiermem.Complex128 {
		n /= 2
	}
	for i := 0; i+n <= len(data); i += n {
		e := data[i : i+n]
		for j, k := 0, n-1; j < k; j, k = j+1, k-1 {
			e[j], e[k] = e[k], e[j]
		}
	}
}

// parseHeader parses the Python dict literal of a .npy header:
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } and spaces.
func parseHeader(s string) (npyHeader, error) {
	p := &pyParser{s: s}
	var h npyHeader
	var seen [3]bool
	p.space()
	if !p.eat('{') {
		return h, p.errorf("want '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		p.space()
		if !p.eat(':') {
			return h, p.errorf("want ':' after %q", key)
		}
		p.space()
		var i int
		switch key {
		case "descr":
			i = 0
			h.descr, err = p.str()
		case "fortran_order":
			i = 1
			h.fortran, err = p.boolean()
		case "shape":
			i = 2
			h.shape, err = p.tuple()
		default:
			return h, p.errorf("unknown key %q", key)
		}
		if err != nil {
			return h, err
		}
		if seen[i] {
			return h, p.errorf("key %q twice", key)
		}
		seen[i] = true
		p.space()
		if !p.eat(',') {
			p.space()
			if !p.eat('}') {
				return h, p.errorf("want ',' or '}'")
			}
			break
		}
	}
	if p.space(); p.i != len(p.s) {
		return h, p.errorf("text after the dict")
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return h, fmt.Errorf("%w: header lacks one of descr, fortran_order, shape", ErrNPY)
	}
	return h, nil
}

// pyParser reads the few Python literals a .npy header holds.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header at byte %d: %s", ErrNPY, p.i, fmt.Sprintf(format, args...))
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a quoted string without escapes, as NumPy writes them.
func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("want a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", p.errorf("escapes in strings are not read")
	}
	p.i += end + 2
	return v, nil
}

func (p *pyParser) boolean() (bool, error) {
	for _, w := range [...]string{"False", "True"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, p.errorf("want True or False")
}

// tuple reads a tuple of non-negative integers: (), (3,), (3, 4).
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("want a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 0)
		if err != nil || n > 1<<48 {
			return nil, p.errorf("want a dimension, a non-negative integer")
		}
		if len(shape) == maxDims {
			return nil, p.errorf("more than %d dimensions", maxDims)
		}
		shape = append(shape, int(n))
		p.i = j
		p.space()
		if !p.eat(',') {
			p.space()
			if !p.eat(')') {
				return nil, p.errorf("want ',' or ')' in the shape")
			}
			if len(shape) == 1 {
				return nil, p.errorf("(n) is not a tuple: want (n,)")
			}
			return shape, nil
		}
	}
}

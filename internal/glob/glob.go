// Package glob matches keys against Redis's glob-style patterns, as KEYS
// and SCAN's MATCH do: * (any run of bytes), ? (any one byte), [abc],
// [^abc], [a-z] and \x (x literally). It is a port of Redis 7's
// stringmatchlen, byte for byte, so a pattern matches here exactly what it
// matches in Redis built for x86-64 (or any platform where C's char is
// signed): the ends of a range and the byte tested against it compare as
// signed bytes, so a byte of 0x80 or more sorts below 0x00 and "[a-\xff]"
// is the range \xff-a, which does not hold "b". Redis on arm64, whose char
// is unsigned, differs from Match in such ranges only.
package glob

// Match reports whether s matches pattern.
func Match(pattern, s string) bool {
	skip := false
	return match(pattern, s, 0, &skip)
}

// maxNesting bounds the recursion of consecutive stars, as Redis does.
const maxNesting = 1000

// match is stringmatchlen_impl. skipLonger is set once a star found no
// match for any suffix: a longer string cannot match either.
func match(p, s string, nesting int, skipLonger *bool) bool {
	if nesting > maxNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, nesting+1, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			var ok bool
			if p, ok = matchClass(p, s[0]); !ok {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// matchClass matches c against the class that p opens ("[...]") and returns
// p at the class's last byte (the ']', or the pattern's last byte when the
// class is not closed), so that the caller's step moves past it.
func matchClass(p string, c byte) (string, bool) {
	p = p[1:]
	not := len(p) > 0 && p[0] == '^'
	if not {
		p = p[1:]
	}
	found := false
	for {
		switch {
		case len(p) >= 2 && p[0] == '\\':
			p = p[1:]
			if p[0] == c {
				found = true
			}
		case len(p) == 0:
			// An unclosed class: Redis steps back onto its last byte.
			return " ", found != not
		case p[0] == ']':
			return p, found != not
		case len(p) >= 3 && p[1] == '-':
			if inRange(p[0], p[2], c) {
				found = true
			}
			p = p[2:]
		default:
			if p[0] == c {
				found = true
			}
		}
		if len(p) == 1 {
			return p, found != not // unclosed: the last byte ends it
		}
		p = p[1:]
	}
}

// inRange reports whether c lies in the range of a class from a to b, in
// either order, comparing the bytes as signed, as Redis does where C's char is
// signed (x86-64).
func inRange(a, b, c byte) bool {
	lo, hi := int8(a), int8(b)
	if lo > hi {
		lo, hi = hi, lo
	}
	return int8(c) >= lo && int8(c) <= hi
}

package kvtext

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxLine is the longest line a Reader takes, in bytes, its end of line
// left out: a record, its value in base64 included, fits in it. A longer
// line is ErrLineTooLong, found once MaxLine bytes are read, so that a file
// with no newlines (the wrong input) is not read whole into memory.
const MaxLine = 64 << 20

// byteOrderMark is UTF-8's, which some editors and exports (Excel's
// "Unicode text", Windows PowerShell 5) put at the start of a file. It is
// not part of the first record.
const byteOrderMark = "\xef\xbb\xbf"

// Reader reads records from text. Blank lines are skipped: empty or white
// space, and in TSV without a tab (" \t " is the record of key " " and value
// " "). A byte order mark at the start of the text is dropped. The slices
// it returns are valid until the next call to Next.
type Reader struct {
	r                *bufio.Reader
	format           Format
	line             int64
	key, value, meta []byte
	buf              []byte // the current line when it outgrows r's buffer
	scratch          []byte // decoded JSON parts
	err              error
}

// NewReader returns a Reader of r in format f (JSONLines or TSV).
func NewReader(r io.Reader, f Format) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 1<<20), format: f}
}

// Next reads the next record and reports whether there is one. At the end,
// or at a malformed line, it returns false and Err says which.
func (r *Reader) Next() bool {
	for r.err == nil {
		line, err := r.readLine()
		if len(line) > 0 {
			r.err = r.parse(line)
			return r.err == nil
		}
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			return false
		}
	}
	return false
}

// readLine returns the next line without its end of line, or nil for a
// blank one; it counts lines. A line over MaxLine is ErrLineTooLong.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.buf = append(r.buf[:0], line...)
		for err == bufio.ErrBufferFull && len(r.buf) <= MaxLine+len("\r\n") {
			line, err = r.r.ReadSlice('\n')
			r.buf = append(r.buf, line...)
		}
		line = r.buf
	}
	if len(line) > 0 || err == nil {
		r.line++
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxLine {
		r.buf = nil // not kept: a Reader holds at most MaxLine between lines
		return nil, fmt.Errorf("%w: line %d: over %d bytes", ErrLineTooLong, r.line, MaxLine)
	}
	if r.line == 1 {
		line = bytes.TrimPrefix(line, []byte(byteOrderMark))
	}
	if r.blank(line) {
		line = nil
	}
	return line, err
}

// blank reports whether line holds no record: it is empty or white space,
// and in TSV it has no tab, which would make it a record of spaces.
func (r *Reader) blank(line []byte) bool {
	if len(bytes.TrimSpace(line)) > 0 {
		return false
	}
	return r.format != TSV || bytes.IndexByte(line, '\t') < 0
}

func (r *Reader) parse(line []byte) error {
	r.meta = nil
	if r.format == TSV {
		k, v, ok := bytes.Cut(line, []byte("\t"))
		if !ok {
			return r.syntax("no tab between key and value")
		}
		r.key, r.value = k, v
		return nil
	}
	return r.parseJSON(line)
}

// jsonRecord is a JSON line, its parts kept raw to be decoded by kind.
type jsonRecord struct {
	Key         json.RawMessage `json:"key"`
	KeyBase64   json.RawMessage `json:"key_base64"`
	Value       json.RawMessage `json:"value"`
	ValueBase64 json.RawMessage `json:"value_base64"`
	Meta        json.RawMessage `json:"meta"`
}

func (r *Reader) parseJSON(line []byte) error {
	var rec jsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return r.syntax(err.Error())
	}
	if !present(rec.Key) && !present(rec.KeyBase64) {
		return r.syntax(`no "key" or "key_base64"`)
	}
	r.scratch = r.scratch[:0]
	var spans [3][2]int
	parts := [3]struct {
		name      string
		text, b64 json.RawMessage
	}{{"key", rec.Key, rec.KeyBase64}, {"value", rec.Value, rec.ValueBase64}, {"meta", rec.Meta, nil}}
	for i, p := range parts {
		start := len(r.scratch)
		var err error
		if r.scratch, err = appendPart(r.scratch, p.name, p.text, p.b64); err != nil {
			return r.syntax(err.Error())
		}
		spans[i] = [2]int{start, len(r.scratch)}
	}
	part := func(i int) []byte { return r.scratch[spans[i][0]:spans[i][1]:spans[i][1]] }
	r.key, r.value = part(0), part(1)
	if present(rec.Meta) {
		r.meta = part(2)
	}
	return nil
}

// present reports whether a field was given: neither missing nor null.
func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// appendPart appends the bytes of the field name, given as JSON text or as
// base64 (name_base64), not both.
func appendPart(dst []byte, name string, text, b64 json.RawMessage) ([]byte, error) {
	switch {
	case present(text) && present(b64):
		return dst, fmt.Errorf("both %q and %q", name, name+"_base64")
	case present(b64):
		var s string
		if err := json.Unmarshal(b64, &s); err != nil {
			return dst, fmt.Errorf("%q: want a string of base64", name+"_base64")
		}
		out, err := base64.StdEncoding.AppendDecode(dst, []byte(s))
		if err != nil {
			return dst, fmt.Errorf("%q: %v", name+"_base64", err)
		}
		return out, nil
	}
	if err := checkUTF8(text); err != nil {
		return dst, fmt.Errorf("%q %v: give binary data as %q", name, err, name+"_base64")
	}
	return appendJSONText(dst, text)
}

// checkUTF8 reports why raw, a JSON value, would not decode to the text it
// spells: bytes that are not UTF-8, or a \u escape of half a surrogate pair.
// The decoder would turn either into U+FFFD, and two different keys into the
// same one.
func checkUTF8(raw []byte) error {
	if !utf8.Valid(raw) {
		return errors.New("is not valid UTF-8")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // raw is valid JSON: an escape is whole
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		if r < 0xd800 || r >= 0xe000 {
			continue
		}
		if r < 0xdc00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
			if low := hex4(raw[i+3:]); low >= 0xdc00 && low < 0xe000 {
				i += 6
				continue
			}
		}
		return fmt.Errorf("holds the unpaired surrogate \\u%04x", r)
	}
	return nil
}

// hex4 returns the value of the 4 hex digits at the start of b.
func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(v)
}

// appendJSONText appends a JSON string decoded, or any other JSON value as
// its compact text; nothing for a missing value.
func appendJSONText(dst []byte, raw json.RawMessage) ([]byte, error) {
	if !present(raw) {
		return dst, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return dst, err
		}
		return append(dst, s...), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return dst, err
	}
	return append(dst, b.Bytes()...), nil
}

func (r *Reader) syntax(why string) error {
	return fmt.Errorf("%w: line %d: %s", ErrSyntax, r.line, why)
}

// Key returns the current record's key.
func (r *Reader) Key() []byte { return r.key }

// Value returns the current record's value.
func (r *Reader) Value() []byte { return r.value }

// Meta returns the current record's meta area (JSON lines only), or nil.
func (r *Reader) Meta() []byte { return r.meta }

// Line returns the number of the line of the current record.
func (r *Reader) Line() int64 { return r.line }

// Err returns the error that ended the reading, if any.
func (r *Reader) Err() error {
	if errors.Is(r.err, io.EOF) {
		return nil
	}
	return r.err
}

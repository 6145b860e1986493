package kvtext

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Reader reads records from text. Blank lines are skipped. The slices it
// returns are valid until the next call to Next.
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

// readLine returns the next line without its end of line; it counts lines.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.buf = append(r.buf[:0], line...)
		for err == bufio.ErrBufferFull {
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
	if len(bytes.TrimSpace(line)) == 0 {
		line = nil
	}
	return line, err
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
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
	Meta  json.RawMessage `json:"meta"`
}

func (r *Reader) parseJSON(line []byte) error {
	var rec jsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return r.syntax(err.Error())
	}
	if len(rec.Key) == 0 || string(rec.Key) == "null" {
		return r.syntax(`no "key"`)
	}
	r.scratch = r.scratch[:0]
	var err error
	var spans [3][2]int
	for i, raw := range []json.RawMessage{rec.Key, rec.Value, rec.Meta} {
		start := len(r.scratch)
		if r.scratch, err = appendJSONText(r.scratch, raw); err != nil {
			return r.syntax(err.Error())
		}
		spans[i] = [2]int{start, len(r.scratch)}
	}
	part := func(i int) []byte { return r.scratch[spans[i][0]:spans[i][1]:spans[i][1]] }
	r.key, r.value = part(0), part(1)
	if len(rec.Meta) > 0 && string(rec.Meta) != "null" {
		r.meta = part(2)
	}
	return nil
}

// appendJSONText appends a JSON string decoded, or any other JSON value as
// its compact text; nothing for a missing value.
func appendJSONText(dst []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
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

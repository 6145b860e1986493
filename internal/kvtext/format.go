package kvtext

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is a text layout of records.
type Format uint8

const (
	// Auto detects the format: by the file's extension, else by the first
	// line (a '{' means JSON lines).
	Auto Format = iota
	// JSONLines is one JSON object per line: "key" (a string, or any JSON
	// value, used as its text), "value" (a string is stored decoded, any
	// other JSON value as its compact text; missing or null means empty) and
	// an optional "meta" string. Binary keys and values are given in base64
	// instead, as "key_base64" and "value_base64" (standard encoding, with
	// padding). Text must be valid UTF-8: invalid bytes, or a \u escape of
	// half a surrogate pair, in a key, value or meta are an error rather than
	// U+FFFD, so that two different keys never become one.
	JSONLines
	// TSV is the key, a tab, and the rest of the line as the value, stored as
	// it is (no unescaping). A line without a tab is an error.
	TSV
)

var formatNames = [...]string{"auto", "jsonl", "tsv"}

// String returns "auto", "jsonl" or "tsv".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat parses the names String returns, "json" and "ndjson".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "auto", "":
		return Auto, nil
	case "jsonl", "json", "ndjson":
		return JSONLines, nil
	case "tsv", "tab":
		return TSV, nil
	}
	return Auto, fmt.Errorf("%w: %q (want auto, jsonl or tsv)", ErrFormat, s)
}

// Detect resolves Auto for a file named name whose first bytes are head,
// which may start with a byte order mark.
func Detect(name string, head []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		return JSONLines
	case ".tsv", ".tab":
		return TSV
	}
	head = bytes.TrimPrefix(head, []byte(byteOrderMark))
	if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")) {
		return JSONLines
	}
	return TSV
}

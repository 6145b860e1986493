package kvtext

import "errors"

// ErrSyntax is wrapped, with the line number, by Reader.Err for a line that
// is not a record of the format: bad JSON, no "key", no tab.
var ErrSyntax = errors.New("kvtext: malformed record")

// ErrFormat is returned by ParseFormat for an unknown format name.
var ErrFormat = errors.New("kvtext: unknown format")

// ErrLineTooLong is wrapped, with the line number, by Reader.Err for a line
// longer than MaxLine.
var ErrLineTooLong = errors.New("kvtext: line too long")

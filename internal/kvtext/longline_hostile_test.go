package kvtext_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/kvtext"
)

// endless is a reader of the byte c forever.
type endless byte

func (c endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

// TestHostileLineWithoutEndIsBounded: a file with no newline (the wrong
// input, a binary dump of gigabytes) was read whole into memory before any
// error. A line longer than MaxLine is now ErrLineTooLong naming its line,
// found after MaxLine bytes; a line of MaxLine bytes is still a record.
func TestHostileLineWithoutEndIsBounded(t *testing.T) {
	noNewline := io.LimitReader(endless('x'), 2*kvtext.MaxLine) // finite, so that a Reader without the bound fails rather than hangs
	r := kvtext.NewReader(io.MultiReader(strings.NewReader("a\t1\n"), noNewline), kvtext.TSV)
	if !r.Next() || string(r.Key()) != "a" {
		t.Fatalf("first record: key %q, err %v", r.Key(), r.Err())
	}
	if r.Next() {
		t.Fatalf("an endless line gave a record of %d bytes", len(r.Key())+len(r.Value()))
	}
	if err := r.Err(); !errors.Is(err, kvtext.ErrLineTooLong) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Err after an endless line = %v, want ErrLineTooLong naming line 2", err)
	}

	line := append([]byte("k\t"), bytes.Repeat([]byte{'v'}, kvtext.MaxLine-2)...)
	r = kvtext.NewReader(bytes.NewReader(append(line, "\r\n"...)), kvtext.TSV)
	if !r.Next() || len(r.Value()) != kvtext.MaxLine-2 || r.Err() != nil {
		t.Errorf("a line of MaxLine bytes: value of %d bytes, err %v; want a record", len(r.Value()), r.Err())
	}
}

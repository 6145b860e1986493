package kvtext_test

import (
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/kvtext"
)

// TestHostileTSVRecordOfSpacesSkipped: the TSV line " \t " is the record of
// key " " and value " " (both legal in tiermem, as in Redis), but readLine
// took any line that is all white space, the tab included, for a blank line
// and skipped it: the file loaded one record short, without an error. In
// TSV a blank line now has no tab; one of spaces alone is still skipped.
func TestHostileTSVRecordOfSpacesSkipped(t *testing.T) {
	r := kvtext.NewReader(strings.NewReader("a\t1\n \t \n  \r\nb\t2\n"), kvtext.TSV)
	var keys []string
	for r.Next() {
		keys = append(keys, string(r.Key()))
	}
	if r.Err() != nil || len(keys) != 3 || keys[1] != " " {
		t.Errorf("keys %q, err %v; want [\"a\" \" \" \"b\"]", keys, r.Err())
	}
}

package kvtext_test

import (
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/kvtext"
)

// TestHostileByteOrderMarkBecomesPartOfFirstKey: a TSV file that starts with
// a UTF-8 byte order mark (Excel's "Unicode text" and "CSV UTF-8" exports,
// PowerShell 5's Out-File and Notepad on older Windows write one) loaded its
// first record under the key "\ufeffuser:1": `tiermem bundle build` stored
// it there without a word, and a GET of "user:1" then missed. A JSON lines
// file with one failed on line 1, and Detect took it for TSV. The mark is
// now dropped from the start of the text and of Detect's head.
func TestHostileByteOrderMarkBecomesPartOfFirstKey(t *testing.T) {
	r := kvtext.NewReader(strings.NewReader("\ufeffuser:1\tAda\nuser:2\tBob\n"), kvtext.TSV)
	if !r.Next() {
		t.Fatalf("no first record: %v", r.Err())
	}
	if got := string(r.Key()); got != "user:1" {
		t.Errorf("first key = %q, want \"user:1\" (the byte order mark is not part of it)", got)
	}
	j := kvtext.NewReader(strings.NewReader("\ufeff{\"key\":\"a\",\"value\":\"1\"}\n"), kvtext.JSONLines)
	if !j.Next() || string(j.Key()) != "a" {
		t.Errorf("JSON lines with a byte order mark: key %q, err %v; want \"a\"", j.Key(), j.Err())
	}
	if f := kvtext.Detect("data.txt", []byte("\ufeff{\"key\":\"a\"}\n")); f != kvtext.JSONLines {
		t.Errorf("Detect of a JSON lines file with a byte order mark = %v, want jsonl", f)
	}
}

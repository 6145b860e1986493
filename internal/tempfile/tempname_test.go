package tempfile

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTempBaseKeepsUTF8: a long UTF-8 name is cut at a rune's start, so the
// temporary file's name stays valid UTF-8 (which some file systems demand).
func TestTempBaseKeepsUTF8(t *testing.T) {
	name := "a" + strings.Repeat("é", 124) // 249 bytes; byte 200 is inside an é
	got := tempBase(name)
	if len(got) > maxTempBase || !utf8.ValidString(got) || !strings.HasPrefix(name, got) {
		t.Errorf("tempBase cut a %d-byte name to %d bytes (valid UTF-8 %v), want a valid prefix of at most %d",
			len(name), len(got), utf8.ValidString(got), maxTempBase)
	}
	if got := tempBase("short"); got != "short" {
		t.Errorf("tempBase(%q) = %q", "short", got)
	}
}

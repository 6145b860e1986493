package server

import (
	"bytes"
	"testing"
)

// FuzzPeekKeys checks the pipeline's look ahead (peekKeys) against the
// reader on any bytes: it never panics, and every command it reports is one
// the reader parses, in the same order, with the same second argument, so
// that the keys handed to PrepareLookups are those the commands will look
// up; it never looks past max commands.
func FuzzPeekKeys(f *testing.F) {
	for _, seed := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$1\r\nv\r\n",
		"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "*2\r\n$3\r\nGET\r\n$5\r\nk\r\n",
		"GET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nkXY*1\r\n$4\r\nPING\r\n",
		"*0\r\n*-1\r\n", "*2\r\n$3\r\nGET\r\n$1234567890\r\n", "*2\r\n$+3\r\nGET\r\n$1\r\nk\r\n",
	} {
		f.Add([]byte(seed), uint8(16))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		p := reader{maxBulk: 1 << 20, maxArgs: 1 << 20}
		p.w = copy(p.space(), data)
		keys, n := p.peekKeys(nil, int(max))
		if n > int(max) || len(keys) > n {
			t.Fatalf("looked at %d commands with %d keys, max %d", n, len(keys), max)
		}
		var want [][]byte
		for range n {
			args, err := p.next()
			if err != nil || len(args) == 0 {
				t.Fatalf("peekKeys counted a command the reader does not parse: %q, %v", args, err)
			}
			if len(args) > 1 {
				want = append(want, bytes.Clone(args[1]))
			}
		}
		if len(keys) != len(want) {
			t.Fatalf("peekKeys found %d keys, the reader's commands have %d", len(keys), len(want))
		}
		for i := range keys {
			if !bytes.Equal(keys[i], want[i]) {
				t.Fatalf("key %d: peekKeys %q, the reader %q", i, keys[i], want[i])
			}
		}
	})
}

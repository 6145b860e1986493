package memory

import (
	"fmt"
	"strings"
)

// HexDump returns the n bytes at off as lines of 16 hexadecimal bytes, each
// prefixed by its offset in the view and followed by the printable ASCII, after
// a header line describing the view. It is meant for debugging.
func (v view) HexDump(off, n int64) string {
	data := v.Bytes(off, n)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s, bytes %d..%d:\n", v.String(), off, off+n)
	for line := 0; line < len(data); line += 16 {
		row := data[line:min(line+16, len(data))]
		fmt.Fprintf(&sb, "%08x ", off+int64(line))
		for i := range 16 {
			if i == 8 {
				sb.WriteByte(' ')
			}
			if i < len(row) {
				fmt.Fprintf(&sb, " %02x", row[i])
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteString("  |")
		for _, c := range row {
			if c < 32 || c > 126 {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteString("|\n")
	}
	return sb.String()
}

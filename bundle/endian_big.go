//go:build armbe || arm64be || m68k || mips || mips64 || mips64p32 || ppc || ppc64 || s390 || s390x || shbe || sparc || sparc64

package bundle

import (
	"math/bits"

	"github.com/tiermem/tiermem/memory"
)

// hostOrder is the byte order of this machine; index words are viewed in it.
const hostOrder = memory.BigEndian

// le64 converts a little-endian word read in host order.
func le64(x uint64) uint64 { return bits.ReverseBytes64(x) }

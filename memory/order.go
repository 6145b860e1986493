package memory

import "encoding/binary"

// Order is the byte order in which a view reads and writes multi-byte values.
type Order uint8

const (
	// LittleEndian stores the least significant byte first (x86, ARM).
	LittleEndian Order = iota
	// BigEndian stores the most significant byte first (network order).
	BigEndian
)

// nativeOrder is the byte order of the machine the program runs on.
var nativeOrder = func() Order {
	var probe [2]byte
	binary.NativeEndian.PutUint16(probe[:], 1)
	if probe[0] == 1 {
		return LittleEndian
	}
	return BigEndian
}()

// String returns "little-endian" or "big-endian".
func (o Order) String() string {
	if o == BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

//go:build 386 || arm || mips || mipsle

package dataset

// dataset counts sizes and offsets in int, which it takes to be 64 bits wide
// (entries, files and mappings past 4 GiB); it is built for 64-bit systems
// only. The undefined name below makes a 32-bit build fail here, with a
// message that says why, rather than with constant overflows elsewhere or
// at run time.
var _ = tiermem_requires_a_64_bit_system_amd64_or_arm64

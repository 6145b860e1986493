//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package bundle

import "github.com/tiermem/tiermem/memory"

// hostOrder is the byte order of this machine; index words are viewed in it.
const hostOrder = memory.LittleEndian

// le64 converts a little-endian word read in host order: nothing to do here.
func le64(x uint64) uint64 { return x }

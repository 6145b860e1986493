//go:build !(linux || darwin || freebsd)

package tiermem

// availableRAM returns 4 GiB: this system is not one whose memory tiermem
// knows how to ask about.
func availableRAM() int64 { return 4 << 30 }

// freeDisk returns 16 GiB: this system is not one whose free disk space
// tiermem knows how to ask about.
func freeDisk(string) int64 { return 16 << 30 }

//go:build !(linux || darwin || freebsd)

package machine

// AvailableRAM returns 4 GiB: this system is not one whose memory tiermem
// knows how to ask about.
func AvailableRAM() int64 { return 4 << 30 }

// FreeDisk returns 16 GiB: this system is not one whose free disk space
// tiermem knows how to ask about.
func FreeDisk(string) int64 { return 16 << 30 }

// RSS reports ok false: this system has no /proc to read it from.
func RSS() (now, peak int64, ok bool) { return 0, 0, false }

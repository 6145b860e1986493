package vfs

// vfs locks store directories with flock(2) and maps files with mmap(2),
// which Windows does not have; tiermem is built for Linux, macOS and FreeBSD
// only. The undefined name below makes a Windows build fail here, with a
// message that says why, rather than when a store is opened.
var _ = tiermem_requires_a_unix_system_linux_darwin_or_freebsd

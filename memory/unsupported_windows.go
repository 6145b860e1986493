package memory

// memory maps files and anonymous memory with mmap(2), which Windows does not
// have; it is built for Linux, macOS and FreeBSD only. The undefined name
// below makes a Windows build fail here, with a message that says why,
// rather than at run time.
var _ = tiermem_requires_a_unix_system_linux_darwin_or_freebsd

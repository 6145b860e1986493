// Package machine asks the system about the resources tiermem sizes itself
// by: the memory available without swapping (within the process's cgroup
// limit, on Linux), the disk free under a directory, and this process's
// resident memory. Each probe returns a stated default, or reports that it
// cannot tell, on systems it does not know how to ask.
package machine

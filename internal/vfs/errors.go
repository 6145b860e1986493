package vfs

import "errors"

var (
	// ErrNotMappable is returned by Map for a file that cannot be memory-mapped.
	ErrNotMappable = errors.New("vfs: file cannot be mapped")

	// ErrMappingFault is returned by AppendMapped when the mapped bytes are gone
	// (the file was cut short under the mapping, or the disk failed).
	ErrMappingFault = errors.New("vfs: mapped file bytes are gone")
)

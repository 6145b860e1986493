package disk

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File names in a store's directory: NNNNNNNNNNNNNNNN.seg holds a segment,
// NNNNNNNNNNNNNNNN.hint its hint file (the id in 16 hex digits, so names
// sort by id), *.tmp a file being written (removed at Open) and LOCK the
// lock that keeps a second store out.
const (
	segmentExt = ".seg"
	hintExt    = ".hint"
	tmpExt     = ".tmp"
	lockName   = "LOCK"
)

func fileName(dir string, id uint64, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", id, ext))
}

// parseName returns the id and extension of a segment or hint file name.
func parseName(name string) (id uint64, ext string, ok bool) {
	ext = filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if len(base) != 16 || (ext != segmentExt && ext != hintExt) {
		return 0, "", false
	}
	id, err := strconv.ParseUint(base, 16, 64)
	if err != nil {
		return 0, "", false
	}
	return id, ext, true
}

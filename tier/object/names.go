package object

import (
	"fmt"
	"strconv"
	"strings"
)

// Object names. Every object of a store lies under packDir; a pack and
// its index share a 16-digit hexadecimal sequence number, so that names
// sort in write order:
//
//	pack/0000000000000001.pack
//	pack/0000000000000001.idx
const (
	packDir    = "pack/"
	packSuffix = ".pack"
	idxSuffix  = ".idx"
)

func packName(seq uint64) string  { return fmt.Sprintf("%s%016x%s", packDir, seq, packSuffix) }
func indexName(seq uint64) string { return fmt.Sprintf("%s%016x%s", packDir, seq, idxSuffix) }

// parseName returns the sequence number of a pack or index object's name,
// and whether it is an index; ok is false for any other name.
func parseName(name string) (seq uint64, isIndex, ok bool) {
	rest, found := strings.CutPrefix(name, packDir)
	if !found {
		return 0, false, false
	}
	digits, isIndex := strings.CutSuffix(rest, idxSuffix)
	if !isIndex {
		if digits, found = strings.CutSuffix(rest, packSuffix); !found {
			return 0, false, false
		}
	}
	if len(digits) != 16 {
		return 0, false, false
	}
	seq, err := strconv.ParseUint(digits, 16, 64)
	return seq, isIndex, err == nil
}

package trace

import (
	"fmt"
	"strings"
)

// Format names one trace layout.
type Format int

const (
	// ARC is the ARC paper layout: lines "start count ignored request_no", each
	// standing for count requests of the keys start, start+1, ..., start+count-1.
	ARC Format = iota + 1
	// LIRS is one decimal key per line; blank lines and lines that are "*" are skipped.
	LIRS
	// Scarab is a stream of 8-byte big-endian keys (Scarab Research recommendations).
	Scarab
	// Corda is a stream of 8-byte big-endian keys (R3 Corda vault service).
	Corda
	// Oracle is libCacheSim's oracleGeneral: 24-byte little-endian records
	// {uint32 timestamp; uint64 id; uint32 size; int64 next_access_vtime}.
	Oracle
)

var formatNames = map[Format]string{ARC: "arc", LIRS: "lirs", Scarab: "scarab", Corda: "corda", Oracle: "oracle"}

// String returns the name ParseFormat accepts.
func (f Format) String() string {
	if s, ok := formatNames[f]; ok {
		return s
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the Format named s (arc, lirs, scarab, corda, oracle; case
// does not matter), or an error wrapping ErrFormat.
func ParseFormat(s string) (Format, error) {
	for f, name := range formatNames {
		if strings.EqualFold(s, name) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want arc, lirs, scarab, corda or oracle)", ErrFormat, s)
}

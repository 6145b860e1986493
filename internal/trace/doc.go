// Package trace reads cache access traces: the ARC paper traces, the LIRS traces,
// the 8-byte key streams of the Caffeine simulator (scarab, corda) and libCacheSim's
// oracleGeneral records.
//
// A Decoder turns one trace into a stream of Requests; Open adds the file and its
// decompression (zstd, gzip or xz, recognised by the file's extension, else by
// their whole magic bytes and a valid header). Malformed input is an error that
// names the line or byte offset, never a panic. An ARC line stands
// for a run of keys; its keys are produced one by one as they are read, never
// expanded whole.
//
// ScanFiles checks and counts a trace of one or more files without holding its
// requests, and its Files replays them from disk as often as asked: traces of any
// length in bounded memory. ReadAll holds a trace in memory, up to
// DefaultMaxRequests requests.
//
// A Decoder or a File is read by one goroutine at a time; a Files may be replayed
// by many at once.
package trace

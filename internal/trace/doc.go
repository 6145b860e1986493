// Package trace reads cache access traces: the ARC paper traces, the LIRS traces,
// the 8-byte key streams of the Caffeine simulator (scarab, corda) and libCacheSim's
// oracleGeneral records.
//
// A Decoder turns one trace into a stream of Requests; Open adds the file and its
// decompression (zstd, gzip or xz, recognised by their magic bytes). Malformed input
// is an error that names the line or byte offset, never a panic.
//
// Nothing here is safe for concurrent use: one goroutine reads one Decoder.
package trace

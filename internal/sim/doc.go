// Package sim replays cache traces against the cache package's policies and
// against Bélády's optimal policy, counting hit ratios the way published figures
// count them: capacity in entries, every request a Get followed by a Set on a
// miss, hit ratio = hits / all requests, cold misses included, the policy fully
// drained before the next request.
//
// A Trace is replayed as it streams, so the policies run over traces of any
// length in memory that grows with the capacity, not the trace (and a capacity
// above the trace's length is replayed as that length, which hits alike: a cache
// that holds every key never evicts). Only opt, which
// must know each request's next use, holds the trace in memory, up to
// Options.MaxRequests requests.
package sim

package disk

import "sync/atomic"

// Stats is a snapshot of a Store's state and counters.
type Stats struct {
	Keys       int64 // live keys
	Tombstones int64 // deletes still on disk: kept while an older put they shadow may remain
	LiveBytes  int64 // record bytes of the live keys: the sum of what Put reported for them
	DeadBytes  int64 // record bytes nothing references (overwritten, deleted, cut off): what compaction reclaims
	DiskBytes  int64 // bytes of all segment files, headers and tombstones included
	Segments   int   // segment files

	Writes      int64 // records appended: Puts and Deletes
	Commits     int64 // batches the commit pipeline appended (group commit: Writes/Commits per batch)
	Fsyncs      int64 // segment file syncs
	Compactions int64 // compaction runs completed
	Reclaimed   int64 // bytes compaction removed from disk

	RecoveredSegments int   // segments Open found
	HintedSegments    int   // of those, the ones indexed from their hint file
	TruncatedBytes    int64 // bytes Open cut from a torn tail

	BackgroundErrors int64 // failed background syncs, hint writes and compactions; the next attempt retries
}

// counters are the Stats a Store counts as it goes.
type counters struct {
	writes, commits, fsyncs atomic.Int64
	compactions, reclaimed  atomic.Int64
	truncated               atomic.Int64
	recovered, hinted       atomic.Int64
	backgroundErrors        atomic.Int64
}

// Stats returns a snapshot of the store's state. It works after Close too.
func (s *Store) Stats() Stats {
	st := Stats{
		Keys:              s.index.keys.Load(),
		Tombstones:        s.index.tombs.Load(),
		LiveBytes:         s.index.bytes.Load(),
		Writes:            s.stats.writes.Load(),
		Commits:           s.stats.commits.Load(),
		Fsyncs:            s.stats.fsyncs.Load(),
		Compactions:       s.stats.compactions.Load(),
		Reclaimed:         s.stats.reclaimed.Load(),
		RecoveredSegments: int(s.stats.recovered.Load()),
		HintedSegments:    int(s.stats.hinted.Load()),
		TruncatedBytes:    s.stats.truncated.Load(),
		BackgroundErrors:  s.stats.backgroundErrors.Load(),
	}
	gs := s.segs.all()
	defer releaseAll(gs)
	for _, g := range gs {
		st.Segments++
		st.DiskBytes += g.size.Load()
		st.DeadBytes += g.dead()
	}
	return st
}

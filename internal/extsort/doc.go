// Package extsort sorts more records than fit in memory: records are buffered
// up to a memory limit, sorted, spilled to run files in a directory, and the
// runs are merged back into one ordered stream (an external merge sort).
// With Options.Unlink the run files are unlinked as soon as they are made
// and read back through their descriptors, so that a process killed while
// it sorts leaves none behind.
//
// Records are byte strings ordered by a 64-bit key, then by an optional
// compare function on their bytes, then by the order in which they were
// added, so the sort is stable. While one buffer is sorted and spilled by a
// background goroutine the caller fills the other, so adding and spilling
// overlap on two cores.
//
//	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 64 << 20})
//	defer s.Close()
//	for ... { s.Add(key, rec) }
//	it, err := s.Sort()
//	for it.Next() { use(it.Key(), it.Record()) }
//	err = it.Err()
//
// A Sorter is not safe for concurrent use: one goroutine adds, sorts and
// iterates.
package extsort

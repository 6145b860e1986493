package extsort

// source is what an Iter reads: a sorted buffer in memory or a merge of runs.
type source interface {
	next() (bool, error)
	key() uint64
	record() []byte
	close() error
}

// Iter walks the sorted records. It is not safe for concurrent use.
type Iter struct {
	src source
	err error
}

// Next advances to the next record and reports whether there is one. After it
// returns false, Err tells whether the iteration ended by an error.
func (it *Iter) Next() bool {
	if it.err != nil {
		return false
	}
	ok, err := it.src.next()
	if err != nil {
		it.err = err
		return false
	}
	return ok
}

// Key returns the key of the current record.
func (it *Iter) Key() uint64 { return it.src.key() }

// Record returns the bytes of the current record. They stay valid until the
// next call to Next; the caller must not modify them.
func (it *Iter) Record() []byte { return it.src.record() }

// Err returns the error that ended the iteration, if any.
func (it *Iter) Err() error { return it.err }

package extsort

import "errors"

// merger merges sorted runs into one sorted stream with a binary min-heap of
// run readers. Ties on key and compare go to the run added first, which keeps
// the merge stable.
type merger struct {
	heap    []*runReader
	compare func(a, b []byte) int
	top     *runReader // the reader whose record is current; re-sifted on next
}

// newMerger reads the first record of each run. It owns the runs: on error,
// or should compare panic while it orders them, it closes every one of them.
func newMerger(runs []*runReader, compare func(a, b []byte) int) (m *merger, err error) {
	m = &merger{compare: compare}
	done := false
	defer func() {
		if !done {
			closeRuns(runs) // every run, read yet or not (a second close does nothing)
		}
	}()
	for _, r := range runs {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			m.heap = append(m.heap, r)
		} else {
			r.close()
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	done = true
	return m, nil
}

// less orders two readers by their current records.
func (m *merger) less(a, b *runReader) bool {
	if a.k != b.k {
		return a.k < b.k
	}
	if m.compare != nil {
		if c := m.compare(a.rec, b.rec); c != 0 {
			return c < 0
		}
	}
	return a.idx < b.idx
}

func (m *merger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			j = r
		}
		if !m.less(h[j], h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// next advances to the next record of the merged stream.
func (m *merger) next() (bool, error) {
	if m.top != nil {
		ok, err := m.top.next()
		if err != nil {
			return false, err
		}
		if !ok {
			m.top.close()
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		if len(m.heap) > 0 {
			m.down(0)
		}
	}
	if len(m.heap) == 0 {
		m.top = nil
		return false, nil
	}
	m.top = m.heap[0]
	return true, nil
}

func (m *merger) key() uint64    { return m.top.k }
func (m *merger) record() []byte { return m.top.rec }

func (m *merger) close() error {
	err := closeRuns(m.heap)
	m.heap = nil
	return err
}

// closeRuns closes every reader in runs.
func closeRuns(runs []*runReader) error {
	var errs []error
	for _, r := range runs {
		errs = append(errs, r.close())
	}
	return errors.Join(errs...)
}

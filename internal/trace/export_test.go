package trace

// Skip exposes Decoder.skip, the counting step of ScanFiles, to the tests.
func (d *Decoder) Skip() (uint64, error) { return d.skip() }

package trace

import "path/filepath"

// Named returns the files, in dir (the shared traces directory, see its
// README), of a reference trace by the name the hit-ratio tables use: OLTP,
// P3, gli, loop, scarab, or Mixed (corda, loop, corda, one after the other).
// ok is false for any other name.
func Named(dir, name string) (parts []Part, ok bool) {
	part := func(file string, f Format) Part { return Part{Path: filepath.Join(dir, file), Format: f} }
	switch name {
	case "OLTP":
		return []Part{part("OLTP.lis.zst", ARC)}, true
	case "P3":
		return []Part{part("P3.lis.zst", ARC)}, true
	case "gli":
		return []Part{part("gli.trace.gz", LIRS)}, true
	case "loop":
		return []Part{part("loop.trace.gz", LIRS)}, true
	case "scarab":
		return []Part{part("scarab-recs.trace.xz", Scarab)}, true
	case "Mixed":
		corda := part("trace_vaultservice.gz", Corda)
		return []Part{corda, part("loop.trace.gz", LIRS), corda}, true
	}
	return nil, false
}

// ReadKeys reads the keys of parts, one part after the other, into memory
// (a part named twice is read once). Errors are ReadAll's.
func ReadKeys(parts []Part) ([]uint64, error) {
	read := map[Part][]uint64{}
	var keys []uint64
	for _, p := range parts {
		k, ok := read[p]
		if !ok {
			reqs, err := ReadAll(p.Path, p.Format, nil)
			if err != nil {
				return nil, err
			}
			k = make([]uint64, len(reqs))
			for i, r := range reqs {
				k[i] = r.Key
			}
			read[p] = k
		}
		keys = append(keys, k...)
	}
	return keys, nil
}

package disk

import (
	"bytes"
	"testing"
)

// The decoders read files a crash, a bad disk or a stranger may have
// written: garbage must be an error or a skip, never a panic, and whatever
// they accept must satisfy the invariants the store relies on.

// checkRecords fails t unless recs are in order, inside size, and verify.
func checkRecords(t *testing.T, recs []scanned, size int64) {
	t.Helper()
	prev := int64(segmentHeaderSize)
	for i := range recs {
		r := &recs[i]
		if r.off < prev || r.end() > size || !headOK(r.head) || len(r.head) != r.h.headLen() {
			t.Fatalf("record %d at %d (end %d) breaks the invariants (prev %d, size %d)", i, r.off, r.end(), prev, size)
		}
		if h, err := decodeHeader(r.head); err != nil || h != r.h {
			t.Fatalf("record %d: header %+v does not decode back: %v", i, r.h, err)
		}
		prev = r.end()
	}
}

func FuzzScanSegment(f *testing.F) {
	seg, _ := buildSegment("a", "bb", "ccc")
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		res, err := scanSegment(bytes.NewReader(data), size, 0)
		if err != nil {
			t.Fatalf("scan of an in-memory file: %v", err)
		}
		checkRecords(t, res.recs, size)
		if res.end > size || (len(res.recs) > 0 && res.end != res.recs[len(res.recs)-1].end()) {
			t.Fatalf("end %d with %d records in %d bytes", res.end, len(res.recs), size)
		}
		hint := encodeHint(7, size, res.recs)
		back, err := decodeHint(hint, 7, size)
		if err != nil || len(back) != len(res.recs) {
			t.Fatalf("hint of a scan does not decode: %d of %d records, %v", len(back), len(res.recs), err)
		}
	})
}

func FuzzDecodeHint(f *testing.F) {
	seg, recs := buildSegment("a", "bb", "ccc")
	f.Add(encodeHint(1, int64(len(seg)), recs), int64(len(seg)))
	f.Add(encodeHint(1, segmentHeaderSize, nil), int64(segmentHeaderSize))
	f.Add([]byte("\x89TMHINT\n"), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		recs, err := decodeHint(data, 1, size)
		if err != nil {
			return
		}
		checkRecords(t, recs, size)
		if !bytes.Equal(encodeHint(1, size, recs), data) {
			t.Fatal("an accepted hint does not re-encode to itself")
		}
	})
}

func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("key", []byte("meta"), []byte("value"), uint64(1), true)
	f.Add("k", []byte{}, []byte{}, uint64(1<<63), false)
	f.Fuzz(func(t *testing.T, key string, meta, value []byte, seq uint64, put bool) {
		if len(key) == 0 || len(key) > MaxKeyLen || len(meta) > MaxMetaLen {
			return
		}
		h := header{kind: kindPut, seq: seq, stored: uint64(len(value)), raw: uint64(len(value)), sum: valueSum(value)}
		if !put {
			h, meta, value = header{kind: kindDelete, seq: seq, sum: valueSum(nil)}, nil, nil
		}
		seg := segmentHeader{version: formatVersion, minReader: minReaderVersion, id: 3}.encode()
		seg = append(appendHead(seg, h, key, meta), value...)
		res, err := scanSegment(bytes.NewReader(seg), int64(len(seg)), 0)
		if err != nil || len(res.recs) != 1 {
			t.Fatalf("scan found %d records: %v", len(res.recs), err)
		}
		r := &res.recs[0]
		if string(r.key()) != key || !bytes.Equal(r.meta(), meta) || r.h.seq != seq || r.end() != int64(len(seg)) {
			t.Fatalf("record %+v does not match what was written", r)
		}
		if ok, err := valueOK(bytes.NewReader(seg), r); !ok || err != nil {
			t.Fatalf("value does not verify: %v", err)
		}
	})
}

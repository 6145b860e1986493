package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestRecordHeadRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		h    header
		key  string
		meta string
	}{
		{"put", header{kind: kindPut, seq: 7, stored: 5, raw: 5, sum: 0xdeadbeef}, "k", "meta"},
		{"zstd", header{kind: kindPut, codec: codecZstd, seq: 1 << 40, stored: 3, raw: 1 << 30}, "key", ""},
		{"tombstone", header{kind: kindDelete, seq: 9}, "gone", ""},
		{"huge value", header{kind: kindPut, stored: 1 << 41, raw: 1 << 41}, "big", ""},
		{"longest key", header{kind: kindPut}, strings.Repeat("k", MaxKeyLen), strings.Repeat("m", MaxMetaLen)},
	} {
		t.Run(c.name, func(t *testing.T) {
			head := appendHead(nil, c.h, c.key, []byte(c.meta))
			if len(head) != recordHeaderSize+len(c.key)+len(c.meta) {
				t.Fatalf("head is %d bytes", len(head))
			}
			got, err := decodeHeader(head)
			if err != nil {
				t.Fatal(err)
			}
			want := c.h
			want.keyLen, want.metaLen = uint32(len(c.key)), uint32(len(c.meta))
			if got != want {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			if !headOK(head) {
				t.Fatal("header checksum does not verify")
			}
			if got.size() != int64(len(head))+int64(c.h.stored) {
				t.Fatalf("size %d", got.size())
			}
		})
	}
}

func TestRecordHeadChecksumCoversKeyAndMeta(t *testing.T) {
	head := appendHead(nil, header{kind: kindPut, seq: 1}, "key", []byte("meta"))
	for i := range head {
		flipped := bytes.Clone(head)
		flipped[i] ^= 0x10
		if headOK(flipped) {
			t.Errorf("a flipped byte at %d still verifies", i)
		}
	}
}

func TestDecodeHeaderRejects(t *testing.T) {
	valid := func() []byte {
		return appendHead(nil, header{kind: kindPut, stored: 4, raw: 4}, "k", nil)
	}
	for _, c := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"short", func(b []byte) []byte { return b[:recordHeaderSize-1] }},
		{"kind", func(b []byte) []byte { b[4] = 9; return b }},
		{"codec", func(b []byte) []byte { b[5] = 2; return b }},
		{"reserved", func(b []byte) []byte { b[7] = 1; return b }},
		{"empty key", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0); return b }},
		{"long key", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], MaxKeyLen+1); return b }},
		{"long meta", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], MaxMetaLen+1); return b }},
		{"huge value", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[24:], 1<<63); return b }},
		{"raw length differs", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[32:], 5); return b }},
		{"tombstone with value", func(b []byte) []byte { b[4] = byte(kindDelete); return b }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeHeader(c.edit(valid())); !errors.Is(err, errBadHeader) {
				t.Fatalf("decodeHeader = %v, want errBadHeader", err)
			}
		})
	}
}

func TestSegmentHeader(t *testing.T) {
	h := segmentHeader{version: formatVersion, minReader: minReaderVersion, flags: flagCompacted, id: 42}
	b := h.encode()
	if got, err := decodeSegmentHeader(b); err != nil || got != h {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, h)
	}
	for _, c := range []struct {
		name string
		edit func(b []byte)
		want error
	}{
		{"magic", func(b []byte) { b[1] = 'X' }, errBadSegmentHeader},
		{"checksum", func(b []byte) { b[16] ^= 1 }, errBadSegmentHeader},
		{"newer reader", func(b []byte) {
			binary.LittleEndian.PutUint16(b[10:], readerVersion+1)
			copy(b, segmentHeader{version: 2, minReader: readerVersion + 1, id: 42}.encode())
		}, ErrVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := h.encode()
			c.edit(b)
			if _, err := decodeSegmentHeader(b); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := decodeSegmentHeader(b[:10]); !errors.Is(err, errBadSegmentHeader) {
		t.Fatalf("short header: %v", err)
	}
}

// buildSegment returns a segment file holding records for keys, each with
// value key+"-value", plus its records as a scan reports them.
func buildSegment(keys ...string) ([]byte, []scanned) {
	seg := segmentHeader{version: formatVersion, minReader: minReaderVersion, id: 1}.encode()
	var recs []scanned
	for i, k := range keys {
		v := []byte(k + "-value")
		h := header{kind: kindPut, seq: uint64(i + 1), stored: uint64(len(v)), raw: uint64(len(v)), sum: valueSum(v)}
		off := int64(len(seg))
		seg = appendHead(seg, h, k, nil)
		h.keyLen = uint32(len(k))
		recs = append(recs, scanned{off: off, h: h, head: bytes.Clone(seg[off:])})
		seg = append(seg, v...)
	}
	return seg, recs
}

func TestScanSegment(t *testing.T) {
	seg, want := buildSegment("a", "bb", "ccc")
	res, err := scanSegment(bytes.NewReader(seg), int64(len(seg)), 0)
	if err != nil || len(res.recs) != 3 || !res.clean(int64(len(seg))) {
		t.Fatalf("scan = %+v, %v", res, err)
	}
	for i := range want {
		if res.recs[i].off != want[i].off || string(res.recs[i].key()) != string(want[i].key()) {
			t.Errorf("record %d = %+v, want %+v", i, res.recs[i], want[i])
		}
	}
}

func TestScanSegmentStopsAtDamage(t *testing.T) {
	seg, recs := buildSegment("a", "bb", "ccc")
	seg[recs[1].off+10] ^= 0xff // the key length of "bb"
	res, err := scanSegment(bytes.NewReader(seg), int64(len(seg)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.recs) != 1 || res.end != recs[1].off || res.next != recs[2].off || res.torn() {
		t.Fatalf("scan = %+v", res)
	}
}

func TestScanSegmentTornTail(t *testing.T) {
	seg, recs := buildSegment("a", "bb", "ccc")
	for cut := recs[2].off; cut < int64(len(seg)); cut++ {
		res, err := scanSegment(bytes.NewReader(seg[:cut]), cut, 0)
		if err != nil || len(res.recs) != 2 || res.end != recs[2].off || !res.torn() {
			t.Fatalf("cut at %d: %+v, %v", cut, res, err)
		}
	}
	for _, fill := range []byte{0, 0xa5} {
		garbage := append(bytes.Clone(seg), bytes.Repeat([]byte{fill}, 300)...)
		res, _ := scanSegment(bytes.NewReader(garbage), int64(len(garbage)), 0)
		// Zeros are pages a crash never wrote; other bytes a crash
		// does not leave, but damage to the last record does.
		if len(res.recs) != 3 || res.end != int64(len(seg)) || res.torn() != (fill == 0) {
			t.Fatalf("tail of %#x bytes: %+v", fill, res)
		}
	}
}

// TestScanSegmentFlippedLastRecord flips each bit of the last record's
// head: the scan must call it damage, never a torn tail that recovery
// would drop silently (the record may be the newest version of its key).
func TestScanSegmentFlippedLastRecord(t *testing.T) {
	seg, recs := buildSegment("a", "bb", "ccc")
	last := recs[2]
	for bit := last.off * 8; bit < (last.off+int64(len(last.head)))*8; bit++ {
		b := bytes.Clone(seg)
		b[bit/8] ^= 1 << (bit % 8)
		res, err := scanSegment(bytes.NewReader(b), int64(len(b)), 0)
		if err != nil || res.clean(int64(len(b))) || res.torn() || res.end != last.off {
			t.Fatalf("bit %d: %+v, %v", bit, res, err)
		}
		w := window{r: bytes.NewReader(b), size: int64(len(b))}
		fixed, ok, err := w.fixHead(last.off)
		if !ok || err != nil || !bytes.Equal(fixed.head, last.head) || fixed.h != last.h {
			t.Fatalf("bit %d: fixHead = %+v, %v, %v", bit, fixed, ok, err)
		}
	}
}

func TestValueOK(t *testing.T) {
	seg, recs := buildSegment("a", "bb")
	if ok, err := valueOK(bytes.NewReader(seg), &recs[1]); !ok || err != nil {
		t.Fatalf("valueOK = %v, %v", ok, err)
	}
	seg[len(seg)-1] ^= 1
	if ok, _ := valueOK(bytes.NewReader(seg), &recs[1]); ok {
		t.Fatal("a flipped value byte verifies")
	}
	if _, err := valueOK(bytes.NewReader(seg[:len(seg)-2]), &recs[1]); err == nil {
		t.Fatal("a value past the end of the file reads")
	}
}

func TestHintRoundTrip(t *testing.T) {
	seg, recs := buildSegment("a", "bb", "ccc")
	size := int64(len(seg))
	b := encodeHint(1, size, recs)
	got, err := decodeHint(b, 1, size)
	if err != nil || len(got) != len(recs) {
		t.Fatalf("decodeHint = %d records, %v", len(got), err)
	}
	for i := range recs {
		if got[i].off != recs[i].off || got[i].h != recs[i].h || !bytes.Equal(got[i].head, recs[i].head) {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], recs[i])
		}
	}
	if got, err := decodeHint(encodeHint(1, segmentHeaderSize, nil), 1, segmentHeaderSize); err != nil || len(got) != 0 {
		t.Fatalf("empty hint: %v, %v", got, err)
	}
}

func TestDecodeHintRejects(t *testing.T) {
	seg, recs := buildSegment("a", "bb", "ccc")
	size := int64(len(seg))
	good := encodeHint(1, size, recs)
	reseal := func(b []byte) []byte {
		binary.LittleEndian.PutUint64(b[len(b)-8:], sum64(b[:len(b)-8]))
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		id   uint64
		size int64
		want error
	}{
		{"short", good[:20], 1, size, errBadHint},
		{"checksum", func() []byte { b := bytes.Clone(good); b[40] ^= 1; return b }(), 1, size, errBadHint},
		{"other segment", good, 2, size, errBadHint},
		{"other size", good, 1, size - 1, errBadHint},
		{"magic", reseal(func() []byte { b := bytes.Clone(good); b[2] = 'x'; return b }()), 1, size, errBadHint},
		{"newer reader", reseal(func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint16(b[10:], readerVersion+1)
			return b
		}()), 1, size, ErrVersion},
		{"count", reseal(func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint64(b[len(b)-16:], 4)
			return b
		}()), 1, size, errBadHint},
		{"out of order", encodeHint(1, size, []scanned{recs[1], recs[0]}), 1, size, errBadHint},
		{"past the segment", encodeHint(1, recs[2].off+4, recs), 1, recs[2].off + 4, errBadHint},
		{"bad head", reseal(func() []byte {
			b := bytes.Clone(good)
			b[hintHeaderSize+hintEntryFixed+20] ^= 1
			return b
		}()), 1, size, errBadHint},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeHint(c.b, c.id, c.size); !errors.Is(err, c.want) {
				t.Fatalf("decodeHint = %v, want %v", err, c.want)
			}
		})
	}
}

// TestParseName: only the names fileName writes are the store's: 16
// lower-case hex digits of an id below 2^63, and ".seg" or ".hint".
func TestParseName(t *testing.T) {
	for _, c := range []struct {
		name string
		id   uint64
		ext  string
		ok   bool
	}{
		{"000000000000002a.seg", 42, segmentExt, true},
		{"7fffffffffffffff.hint", 1<<63 - 1, hintExt, true},
		{"8000000000000000.seg", 0, "", false},
		{"ffffffffffffffff.hint", 0, "", false},
		{"000000000000002A.seg", 0, "", false},
		{"000000000000002a.SEG", 0, "", false},
		{"000000000000002a.seg.tmp", 0, "", false},
		{"2a.seg", 0, "", false},
		{"zzzzzzzzzzzzzzzz.seg", 0, "", false},
		{"LOCK", 0, "", false},
	} {
		id, ext, ok := parseName(c.name)
		if id != c.id || ext != c.ext || ok != c.ok {
			t.Errorf("parseName(%q) = %d, %q, %v", c.name, id, ext, ok)
		}
	}
}

package object_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// TestPutStoredKeepsAZstdFrame: a zstd frame handed over as stored reads
// back as the value it encodes, from memory and after an upload and a
// reopen; a raw value is put as Put puts it; a frame that does not decode
// to its stated length reads as ErrCorrupt, never as other bytes.
func TestPutStoredKeepsAZstdFrame(t *testing.T) {
	bucket := object.NewMem()
	s, err := object.Open(bucket, quick())
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("glacier keeps cold's frames as they are. "), 100)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := enc.EncodeAll(value, nil)
	if _, err := s.PutStored("z", tier.Stored{Value: frame, Zstd: true, RawLen: int64(len(value)), Meta: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutStored("raw", tier.Stored{Value: []byte("as is"), RawLen: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutStored("lying", tier.Stored{Value: frame, Zstd: true, RawLen: int64(len(value)) + 1}); err != nil {
		t.Fatal(err)
	}
	check := func(s *object.Store) {
		t.Helper()
		got, meta, err := s.GetMeta("z", nil)
		if err != nil || !bytes.Equal(got, value) || string(meta) != "m" {
			t.Fatalf("z: %d bytes, meta %q, %v", len(got), meta, err)
		}
		if got, _, err := s.GetMeta("raw", nil); err != nil || string(got) != "as is" {
			t.Fatalf("raw: %q, %v", got, err)
		}
		if got, _, err := s.GetMeta("lying", nil); !errors.Is(err, tier.ErrCorrupt) {
			t.Fatalf("a frame of another length: %d bytes, %v", len(got), err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = object.Open(bucket, quick()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// TestPendingSaysWhetherSyncHasWork: nothing after Open or Sync; a Put,
// and a Delete, each leave work for the next Sync.
func TestPendingSaysWhetherSyncHasWork(t *testing.T) {
	s, err := object.Open(object.NewMem(), quick())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		name string
		do   func() error
		want bool
	}{
		{"open", func() error { return nil }, false},
		{"put", func() error { _, err := s.Put("k", []byte("v"), nil); return err }, true},
		{"sync", s.Sync, false},
		{"delete", func() error { _, err := s.Delete("k"); return err }, true},
		{"sync again", s.Sync, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := s.Pending(); got != st.want {
			t.Errorf("after %s: Pending = %v, want %v", st.name, got, st.want)
		}
	}
}

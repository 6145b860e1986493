package bundle_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tiermem/tiermem/bundle"
)

// TestStreamedWritesEachValueOnce checks what a streamed build is for: the
// file holds each value once, no temporary file grows with the values (no
// spool, no sort run holds them), and what is read back is what was added.
func TestStreamedWritesEachValueOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.bundle")
	b, err := bundle.NewBuilder(path, &bundle.Options{Streamed: true, MemoryLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, far over MemoryLimit/64
	for i := range 8 {
		v := bytes.Clone(big)
		v[0] = byte(i)
		if err := b.AddRecord(bundle.Record{Key: []byte{'k', byte(i)}, Value: v, Meta: []byte("m")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.AddStream([]byte("stream"), nil, bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	info, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if info.StoredBytes != 9<<20 || info.Deduped != 0 || info.Records != 9 {
		t.Fatalf("StoredBytes %d, Deduped %d, Records %d; want 9 MiB, 0, 9", info.StoredBytes, info.Deduped, info.Records)
	}
	if info.FileSize > 9<<20+4096 {
		t.Fatalf("file of %d bytes for 9 MiB of values", info.FileSize)
	}
	bd := open(t, path)
	for i := range 8 {
		r, err := bd.GetRecord([]byte{'k', byte(i)})
		if err != nil || r.Value[0] != byte(i) || !bytes.Equal(r.Value[1:], big[1:]) || string(r.Meta) != "m" {
			t.Fatalf("GetRecord(k%d): %v", i, err)
		}
	}
	if err := bd.Verify(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "s.bundle")
}

// TestStreamedLastAddWins checks that a key added twice to a streamed exact
// bundle reads as its last value, counts once, and that the earlier record
// left in the file does not trouble Verify.
func TestStreamedLastAddWins(t *testing.T) {
	recs := []rec{{"k", "first", "m1"}, {"other", "x", ""}, {"k", "second", "m2"}, {"k", "third", ""}}
	bd := open(t, build(t, &bundle.Options{Streamed: true}, recs))
	r, err := bd.GetRecord([]byte("k"))
	if err != nil || string(r.Value) != "third" || len(r.Meta) != 0 {
		t.Fatalf("GetRecord = %q, %q, %v; want the last value added", r.Value, r.Meta, err)
	}
	if info := bd.Info(); bd.Len() != 2 || info.ValueBytes != int64(len("third")+len("x")) {
		t.Fatalf("Len %d, ValueBytes %d; want 2 records of 6 bytes", bd.Len(), info.ValueBytes)
	}
	if err := bd.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestStreamedFailedValueFailsTheBuild checks that a value a streamed build
// cannot read whole fails it, with the reader's error, and leaves no file.
func TestStreamedFailedValueFailsTheBuild(t *testing.T) {
	for name, r := range map[string]io.Reader{
		"short":  strings.NewReader("abc"),
		"broken": iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 100<<10))),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.bundle")
			b, err := bundle.NewBuilder(path, &bundle.Options{Streamed: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Add([]byte("a"), []byte("1")); err != nil {
				t.Fatal(err)
			}
			err = b.AddStream([]byte("bad"), nil, r, 200<<10)
			if err == nil {
				t.Fatal("AddStream of a value that cannot be read whole: no error")
			}
			if name == "short" && !errors.Is(err, bundle.ErrShortValue) {
				t.Fatalf("error %v, want ErrShortValue", err)
			}
			if err := b.Add([]byte("b"), []byte("2")); err == nil {
				t.Fatal("Add after a failed value: no error")
			}
			if _, err := b.Finish(); err == nil {
				t.Fatal("Finish after a failed value: no error")
			}
			assertOnly(t, dir)
		})
	}
}

// TestStreamedAbortLeavesNothing checks that an aborted streamed build,
// whose output exists from the start, removes it.
func TestStreamedAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	b, err := bundle.NewBuilder(filepath.Join(dir, "a.bundle"), &bundle.Options{Streamed: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Add([]byte("k"), []byte("v"))
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir)
}

func TestStreamedApproximateIsRefused(t *testing.T) {
	_, err := bundle.NewBuilder(filepath.Join(t.TempDir(), "x"), &bundle.Options{Streamed: true, Index: bundle.Approximate})
	if !errors.Is(err, bundle.ErrOptions) {
		t.Fatalf("error %v, want ErrOptions", err)
	}
}

// TestStreamedBitFlipsAreFound flips one bit in every byte of a small
// streamed bundle, dead record included, and checks that Open or Verify
// reports each flip as ErrCorrupt (or the header's ErrVersion), never a
// wrong value.
func TestStreamedBitFlipsAreFound(t *testing.T) {
	recs := []rec{{"k", "first", "m1"}, {"other", "x", ""}, {"k", "second value", "m2"}, {"", "manifest", ""}}
	path := build(t, &bundle.Options{Streamed: true}, recs)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := filepath.Join(t.TempDir(), "flipped.bundle")
	for i := range orig {
		data := bytes.Clone(orig)
		data[i] ^= 1 << (i % 8)
		if err := os.WriteFile(flipped, data, 0o644); err != nil {
			t.Fatal(err)
		}
		bd, err := bundle.Open(flipped)
		if err == nil {
			err = bd.Verify()
			bd.Close()
		}
		if !errors.Is(err, bundle.ErrCorrupt) && !errors.Is(err, bundle.ErrVersion) {
			t.Fatalf("flip in byte %d of %d: %v, want ErrCorrupt", i, len(orig), err)
		}
	}
}

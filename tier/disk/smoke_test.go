package disk_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(dir, &disk.Options{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		v := bytes.Repeat([]byte{byte(i)}, i)
		if _, err := s.Put(fmt.Sprint(i), v, []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 1000 {
		v, err := s.Get(fmt.Sprint(i), nil)
		if err != nil || !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, i)) {
			t.Fatal(i, err, len(v))
		}
	}
	for i := 0; i < 1000; i += 2 {
		if _, err := s.Delete(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%+v", s.Stats())
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s.Stats())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = disk.Open(dir, &disk.Options{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s.Stats())
	for i := range 1000 {
		v, err := s.Get(fmt.Sprint(i), nil)
		if i%2 == 0 {
			if err == nil {
				t.Fatal("deleted", i)
			}
			continue
		}
		if err != nil || !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, i)) {
			t.Fatal(i, err, len(v))
		}
	}
	s.Close()
}

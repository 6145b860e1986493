package memory_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

func TestGrowCopiesAndInvalidates(t *testing.T) {
	for name, srv := range map[string]interface {
		memory.RequestServer
		Close() error
		Outstanding() int
	}{"heap": memory.NewHeapServer(), "offheap": memory.NewOffHeapServer()} {
		t.Run(name, func(t *testing.T) {
			w, err := srv.Request(memory.WritableMemory{}, 16)
			if err != nil {
				t.Fatal(err)
			}
			w = w.WithOrder(memory.BigEndian)
			w.PutInt64(8, 99)
			old := w
			w, err = memory.Grow(w, 20)
			if err != nil {
				t.Fatal(err)
			}
			if w.Size() != 32 || w.GetInt64(8) != 99 || w.Order() != memory.BigEndian {
				t.Errorf("grown memory: size %d, value %d, %v", w.Size(), w.GetInt64(8), w.Order())
			}
			mustPanic(t, memory.ErrClosed, func() { old.GetInt64(8) })
			if srv.Outstanding() != 1 {
				t.Errorf("%d outstanding, want 1", srv.Outstanding())
			}
			if err := srv.Release(old); !errors.Is(err, memory.ErrNotOwner) {
				t.Errorf("second release = %v, want ErrNotOwner", err)
			}
			if err := srv.Release(memory.Wrap(make([]byte, 4))); !errors.Is(err, memory.ErrNotOwner) {
				t.Errorf("release of foreign memory = %v, want ErrNotOwner", err)
			}
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			mustPanic(t, memory.ErrClosed, func() { w.GetInt64(8) })
		})
	}
}

func TestGrowWithoutServer(t *testing.T) {
	if _, err := memory.Grow(memory.Wrap(make([]byte, 4)), 8); !errors.Is(err, memory.ErrNoServer) {
		t.Errorf("Grow of Wrap'd memory = %v, want ErrNoServer", err)
	}
	if _, err := memory.NewHeapServer().Request(memory.WritableMemory{}, 0); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("Request(0) = %v, want ErrInvalidSize", err)
	}
}

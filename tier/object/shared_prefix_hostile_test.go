package object_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier/object"
)

// TestHostileTwoStoresOnOnePrefix: two Stores given the same bucket and
// prefix by mistake. The second to upload a pack of a sequence number the
// first took fails with ErrExists, naming the sharing, instead of
// overwriting it: every value the first acknowledged still reads back.
// Before, the second's pack replaced the first's, whose index then named
// frames that were not there (ErrCorrupt for values acknowledged durable).
func TestHostileTwoStoresOnOnePrefix(t *testing.T) {
	b := object.NewMem()
	opts := &object.Options{Logger: slog.New(slog.DiscardHandler)}
	first := mustOpen(t, b, opts)
	defer first.Close()
	mustPutSync(t, first, "a1", "first's value 1")
	second := mustOpen(t, b, opts) // lists pack 1: its next pack is 2, as the first's is
	defer second.Close()
	mustPutSync(t, first, "a2", "first's value 2")
	if _, err := second.Put("b1", []byte("second's value"), nil); err != nil {
		t.Fatal(err)
	}
	err := second.Sync()
	if !errors.Is(err, object.ErrExists) || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("the second store's Sync over the first's pack: %v, want ErrExists naming the shared prefix", err)
	}
	for key, want := range map[string]string{"a1": "first's value 1", "a2": "first's value 2"} {
		if v, _, err := first.GetMeta(key, nil); err != nil || string(v) != want {
			t.Errorf("the first store's %s after the second's upload: %q, %v", key, v, err)
		}
	}
	reopened := mustOpen(t, b, opts)
	defer reopened.Close()
	if v, _, err := reopened.GetMeta("a2", nil); err != nil || string(v) != "first's value 2" {
		t.Errorf("a2 after a reopen: %q, %v", v, err)
	}
}

func mustPutSync(t *testing.T, s *object.Store, key, value string) {
	t.Helper()
	if _, err := s.Put(key, []byte(value), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

// lostReplies is a Mem whose first CreateObject of each index stores the
// object and then fails, as a request whose reply was lost does.
type lostReplies struct {
	*object.Mem
	mu   sync.Mutex
	lost map[string]bool
}

func (l *lostReplies) CreateObject(ctx context.Context, name string, data []byte) error {
	if err := l.Mem.CreateObject(ctx, name, data); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.HasSuffix(name, ".idx") && !l.lost[name] {
		l.lost[name] = true
		return errors.New("connection reset by peer (the object was stored)")
	}
	return nil
}

// TestHostileCreateWhoseReplyWasLost: an upload retried after its first
// attempt stored the object and lost the reply finds its own bytes there:
// success, not ErrExists. With no retry left in the request, the next Sync
// retries the whole pack, whose pack object is its own too.
func TestHostileCreateWhoseReplyWasLost(t *testing.T) {
	for _, retries := range []int{2, -1} {
		b := &lostReplies{Mem: object.NewMem(), lost: map[string]bool{}}
		s := mustOpen(t, b, &object.Options{Retries: retries, Logger: slog.New(slog.DiscardHandler)})
		if _, err := s.Put("k", []byte("value"), nil); err != nil {
			t.Fatal(err)
		}
		err := s.Sync()
		if retries < 0 {
			if err == nil {
				t.Fatal("Sync with no retry and a lost reply succeeded")
			}
			err = s.Sync() // the next Sync retries the pack
		}
		if err != nil {
			t.Errorf("retries %d: Sync after a lost reply: %v", retries, err)
		}
		if v, _, err := s.GetMeta("k", nil); err != nil || string(v) != "value" {
			t.Errorf("retries %d: k: %q, %v", retries, v, err)
		}
		s.Close()
	}
}

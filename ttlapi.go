package tiermem

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem/internal/header"
)

// ExpireTime returns when key expires: the zero Time if it has no TTL.
// Errors: ErrNotFound (also for an expired key), ErrInvalidKey, ErrClosed.
func (m *Manager) ExpireTime(key string) (time.Time, error) {
	var at time.Time
	err := m.read(key, uncounted, func(_ *tierState, _ []byte, env header.Header) error {
		if env.Expires != 0 {
			at = time.Unix(0, env.Expires)
		}
		return nil
	})
	return at, err
}

// Expire makes key expire d from now, replacing any TTL it had; a d that
// is not positive deletes it, as Redis's EXPIRE does. The key stays in its
// tier, which changes its header without the value passing through the
// Manager (see UpdateHeader). Errors: ErrNotFound, and those of Update.
func (m *Manager) Expire(key string, d time.Duration) error {
	return m.ExpireAt(key, m.now().Add(d))
}

// ExpireAt makes key expire at t, replacing any TTL it had; a t at or
// before now deletes the key. Errors: ErrNotFound, and those of Update.
func (m *Manager) ExpireAt(key string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%w: ExpireAt(the zero Time): use Persist to remove a TTL", ErrOptions)
	}
	return m.modifyFound(key, func(e *Entry) { e.Expires = t })
}

// Persist removes key's TTL and reports whether it had one. Errors:
// ErrNotFound, and those of Update.
func (m *Manager) Persist(key string) (bool, error) {
	had := false
	err := m.modifyFound(key, func(e *Entry) {
		had = !e.Expires.IsZero()
		e.Expires = time.Time{}
	})
	return had, err
}

// modifyFound changes the TTL or pin of a key present, of any kind, with
// change, or returns ErrNotFound.
func (m *Manager) modifyFound(key string, change func(e *Entry)) error {
	found := false
	err := m.UpdateHeader(key, func(e *Entry) (bool, error) {
		if found = e.Found; !found {
			return false, nil
		}
		change(e)
		return true, nil
	})
	if err == nil && !found {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return err
}

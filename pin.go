package tiermem

import "github.com/tiermem/tiermem/internal/header"

// Pin pins key where it is, as the Pinned option of Store does: no
// migration pass and no need for room demotes or promotes it (Move still
// can); a move the Manager chose before Pin and had not begun by then
// leaves the key where it is. The
// key stays in its tier, which changes its header without the value
// passing through the Manager (see UpdateHeader). Errors: ErrNotFound,
// and those of Update.
func (m *Manager) Pin(key string) error {
	return m.modifyFound(key, func(e *Entry) { e.Pinned = true })
}

// Unpin lets migration move key again. Errors: ErrNotFound, and those of
// Update.
func (m *Manager) Unpin(key string) error {
	return m.modifyFound(key, func(e *Entry) { e.Pinned = false })
}

// IsPinned reports whether key is pinned. Errors: ErrNotFound, ErrInvalidKey,
// ErrClosed.
func (m *Manager) IsPinned(key string) (bool, error) {
	var pinned bool
	err := m.read(key, uncounted, func(_ *tierState, _ []byte, env header.Header) error {
		pinned = env.Pinned
		return nil
	})
	return pinned, err
}

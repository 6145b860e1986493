package disk

import "fmt"

// syncMode returns the mode the store syncs by now.
func (s *Store) syncMode() SyncMode { return SyncMode(s.mode.Load()) }

// SyncMode returns the mode the store syncs by: Options.Sync, or what
// SetSync set since.
func (s *Store) SyncMode() SyncMode { return s.syncMode() }

// SetSync changes when the store makes appended records durable, while it
// serves. Every Put and Delete that commits after SetSync begins follows
// mode; when mode is SyncAlways or SyncEvery, SetSync also syncs what was
// written before, so that when it returns every write acknowledged before
// it is as durable as mode says. If that sync fails the store keeps its
// old mode and SetSync returns the error. Errors: ErrInvalidOptions for an
// invalid mode, tier.ErrClosed after Close.
func (s *Store) SetSync(mode SyncMode) error {
	if mode < SyncAlways {
		return fmt.Errorf("%w: Sync %d", ErrInvalidOptions, mode)
	}
	tok, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(tok)
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	old := SyncMode(s.mode.Swap(int64(mode)))
	if mode != SyncNone {
		// Commits that read the old mode hold the log's lock until their
		// records are buffered: the flush inside syncAll comes after them.
		if err := s.syncAll(); err != nil {
			s.mode.Store(int64(old))
			return fmt.Errorf("disk: setting sync mode %v: syncing what was written under %v: %w", mode, old, err)
		}
	}
	s.syncDebt.Store(false) // paid by the sync above, or owed no more under SyncNone
	select {
	case s.bg.newMode <- struct{}{}:
	default:
	}
	return nil
}

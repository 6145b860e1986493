package tiermem

// Durability returns the Durability the Manager was opened with. It is
// safe to call at any time, after Close too.
func (m *Manager) Durability() Durability { return m.opts.Durability }

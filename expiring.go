package tiermem

// Expiring returns how many keys have a TTL (those whose TTL ran out count
// until a migration pass or a read removes them), as Redis's INFO
// keyspace "expires". It takes no lock: it is cheap at any number of keys.
func (m *Manager) Expiring() int64 { return m.ttl.keys.Load() }

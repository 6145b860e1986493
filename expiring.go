package tiermem

// Expiring returns how many keys have a TTL (those whose TTL ran out count
// until a migration pass or a read removes them), as Redis's INFO
// keyspace "expires". It takes a lock Stores with a TTL take too, for as
// long as reading a map's length: it is cheap at any number of keys.
func (m *Manager) Expiring() int64 {
	m.ttl.mu.Lock()
	defer m.ttl.mu.Unlock()
	return int64(len(m.ttl.at))
}

package tiermem

// Expiring returns how many keys have a TTL that has not run out, as
// Redis's INFO keyspace "expires" (keys whose TTL ran out are not counted,
// as Len does not count them, before a migration pass or a read removes
// them). While no key has a TTL it takes no lock; else its cost grows with
// the keys whose TTL ran out and are not removed yet, not with the rest.
func (m *Manager) Expiring() int64 { return m.ttl.live(m.now().UnixNano()) }

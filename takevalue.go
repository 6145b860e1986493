package tiermem

// TakeValue opens key's value for reading, as OpenValue does, and deletes
// the key, in one step under the key's lock (a Redis GETDEL): no write of
// key lands between the two, and the value is not copied to be handed
// over. The reader's bytes are the value's when it was taken, whatever
// happens to the key after: a large hot or warm value is read where it
// lay, a cold value stored raw from its segment, as OpenValue reads them
// (the memory or segment stays until the reader is closed); close it once
// done. A raw cold value's checksum is verified after the key is gone,
// outside its lock: a value found corrupt then is ErrCorrupt, and the key
// stays deleted (it held no value to give back). The read counts as
// OpenValue's does for analytics.
//
// With a durable Manager, the delete of a glacier copy is made durable
// before TakeValue returns, as Delete makes it; when that fails, the key
// reads as deleted all the same, and TakeValue returns the reader together
// with the error saying so (the next pass retries; a crash before then
// brings the glacier copy back): the value is never lost between the two.
// Errors: ErrNotFound for an absent or expired key (nothing is deleted),
// and those of OpenValue and Delete; on any other error, but ErrCorrupt,
// the key keeps its value. Safe for concurrent use.
func (m *Manager) TakeValue(key string) (*ValueReader, error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return nil, err
	}
	defer m.gate.Leave(tok)
	v := &ValueReader{}
	t, inGlacier, err := m.takeLocked(key, v)
	if err != nil {
		err = m.readError(key, err) // after the lock: an expired key is deleted under it
	} else {
		err = v.ready(key)
	}
	if c := m.analytics.Load(); c != nil {
		c.countRead(tok, t, err)
	}
	if err != nil {
		return nil, err
	}
	if m.syncsRemoval(key, inGlacier) {
		if err := m.syncDelete(key); err != nil {
			return v, err // the key is gone: the value goes to the caller all the same
		}
	}
	return v, nil
}

// takeLocked opens key's value into v and deletes the key from every tier,
// under the key's lock; it reports the tier read and whether glacier held
// a copy. On an error nothing is deleted and v holds nothing.
func (m *Manager) takeLocked(key string, v *ValueReader) (*tierState, bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	t, err := m.openFirst(key, v)
	if err != nil {
		return t, false, err
	}
	_, inGlacier, err := m.deleteLocked(key)
	if err != nil {
		v.Close()
		*v = ValueReader{}
		return t, false, err
	}
	return t, inGlacier, nil
}

package tiermem

import "unsafe"

// The methods below take the key as a []byte, for callers that hold keys as
// bytes, such as a server reading them off the network. They allocate
// nothing for the key: the Manager keeps no reference to key past the call
// (it copies whatever key it keeps; see Keys in the package doc), so key may
// be reused or changed once the call returns, but not during it.

// StoreBytes is Store with the key as bytes.
func (m *Manager) StoreBytes(key, value []byte, opts ...StoreOption) error {
	return m.Store(keyString(key), value, opts...)
}

// RetrieveAppendBytes is RetrieveAppend with the key as bytes: a read of a
// present key into a dst with room allocates nothing. dst must not share
// memory with key (the value would overwrite the key while the read is
// still being counted against it).
func (m *Manager) RetrieveAppendBytes(dst, key []byte) ([]byte, error) {
	return m.RetrieveAppend(dst, keyString(key))
}

// ViewBytes is View with the key as bytes.
func (m *Manager) ViewBytes(key []byte, fn func(value []byte) error) error {
	return m.View(keyString(key), fn)
}

// ViewBytesShared is ViewShared with the key as bytes.
func (m *Manager) ViewBytesShared(key []byte, fn func(value []byte, shared bool) error) error {
	return m.ViewShared(keyString(key), fn)
}

// ViewBytesSharedSmall is ViewSharedSmall with the key as bytes.
func (m *Manager) ViewBytesSharedSmall(key []byte, fn func(value []byte, shared bool) error) error {
	return m.ViewSharedSmall(keyString(key), fn)
}

// DeleteBytes is Delete with the key as bytes.
func (m *Manager) DeleteBytes(key []byte) error { return m.Delete(keyString(key)) }

// keyString returns a string over key's bytes, valid while they do not change.
func keyString(key []byte) string { return unsafe.String(unsafe.SliceData(key), len(key)) }

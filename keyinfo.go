package tiermem

import (
	"errors"
	"time"
)

// KeyInfo is what a tier's index says of one entry, read without its
// value.
type KeyInfo struct {
	// Key is valid only until the callback returns: strings.Clone it to
	// keep it (a store may pass keys over memory it reuses).
	Key  string
	Tier Tier
	// Size is the bytes the entry occupies in its tier, as its budget
	// counts them: the stored (maybe compressed) value with its key,
	// header and the store's per-entry overhead. It is not the value's
	// length, which only a read of the value can give for a compressed one.
	Size int64
	// Expires is when the entry's TTL ends; the zero Time when it has none.
	Expires time.Time
	Pinned  bool
}

// errStopInfo stops a tier's Scan when ScanInfo's callback returns false.
var errStopInfo = errors.New("tiermem: ScanInfo stopped")

// ScanInfo calls fn for every entry of every tier, fastest tier first,
// with its key, tier, stored size, expiry and pin, until fn returns false.
// It reads only the tiers' indexes (kept in memory by every tier, glacier
// included): no value is read, no hit is counted, nothing is promoted and
// no read time changes, so it is what a dashboard or an operator's listing
// may call on a loaded Manager. Expired entries not yet deleted are left
// out. A key kept in two tiers (Copy) is passed once per tier; a key that
// moves between tiers during the call may be passed twice or not at all,
// as it is in one tier or the other when each is read.
//
// It costs a pass over every index: O(keys) time. fn runs while a tier
// holds its index's lock (writes to that tier wait), so it must be quick
// and must not call the Manager. ScanInfo is safe for concurrent use; it
// returns ErrClosed once Close has begun, and ErrCorrupt for an entry
// whose header cannot be decoded.
func (m *Manager) ScanInfo(fn func(KeyInfo) bool) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	now := m.now()
	for _, t := range m.tiers {
		err := t.store.Scan(func(key string, meta []byte, size int64) error {
			env, err := decodeHeader(meta)
			if err != nil {
				return err
			}
			if env.Expired(now) {
				return nil
			}
			info := KeyInfo{Key: key, Tier: t.level, Size: size, Pinned: env.Pinned}
			if env.Expires != 0 {
				info.Expires = time.Unix(0, env.Expires)
			}
			if !fn(info) {
				return errStopInfo
			}
			return nil
		})
		if errors.Is(err, errStopInfo) {
			return nil
		}
		if err != nil {
			return storeError(err)
		}
	}
	return nil
}

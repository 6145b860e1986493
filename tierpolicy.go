package tiermem

import "fmt"

var policyNames = [...]string{PolicyAuto: "auto", PolicyAdaptive: "adaptive", PolicyLRU: "lru", PolicyLFU: "lfu",
	PolicyFIFO: "fifo", PolicyClock: "clock", PolicyS3FIFO: "s3fifo"}

// String returns the policy's name: "auto", "adaptive", "lru", "lfu",
// "fifo", "clock" or "s3fifo".
func (p Policy) String() string {
	if p >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// TierPolicy returns the Policy tier t was opened with: PolicyAuto unless
// its TierOptions named one. Errors: ErrUnknownTier for a tier this
// Manager has not.
func (m *Manager) TierPolicy(t Tier) (Policy, error) {
	if _, err := m.tierOf(t); err != nil {
		return 0, err
	}
	return m.policyOf(t), nil
}

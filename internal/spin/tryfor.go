package spin

import "time"

// TryFor calls try until it reports true or d has passed, pausing between
// calls (50 µs at first, doubling up to 5 ms), and reports whether try
// succeeded. It is for a caller that must not queue for a lock (a
// sync.RWMutex's TryRLock) because the lock's holder may be waiting for
// something the caller holds: it gives up after d instead.
func TryFor(d time.Duration, try func() bool) bool {
	deadline := time.Now().Add(d)
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		if try() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
}

package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

// hostileProxyOptions are a Manager's options over a glacier tier reached
// through url, giving up after two requests of 500 ms each.
func hostileProxyOptions(url string) *tiermem.Options {
	return &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: url, Object: &object.Options{PackSize: 64 << 10,
			Compression: object.ZstdFastest, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 500 * time.Millisecond}},
	}
}

// within runs fn and fails t if it does not return within d.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s did not return within %v: a glacier store that stopped answering hangs it", what, d)
		return nil
	}
}

// hostileFaultScenario: a Manager whose glacier values are in the bucket,
// then the store stops answering (stall) or goes away (drop). Reads of
// glacier values fail with ErrUnavailable in bounded time, a Store into
// glacier is kept and Close refuses to drop it (the Manager stays open),
// and once the store is back Close succeeds and a new Manager over the
// bucket finds every value.
func hostileFaultScenario(t *testing.T, fault func(p *hostileProxy, on bool)) {
	p := newHostileProxy(t)
	direct := s3test.URL(t)
	dir := t.TempDir()
	m, err := tiermem.Open(dir, hostileProxyOptions(p.url(direct)))
	if err != nil {
		t.Fatal(err)
	}
	uploadToGlacier(t, m, "g", 10)
	fault(p, true)
	err = within(t, 20*time.Second, "Retrieve of a glacier value", func() error { _, err := m.Retrieve("g3"); return err })
	if !errors.Is(err, tiermem.ErrUnavailable) {
		t.Errorf("Retrieve of a glacier value while the store is down: %v, want ErrUnavailable", err)
	}
	if err := m.Store("late", hostileValue("late"), tiermem.InTier(tiermem.Glacier)); err != nil {
		t.Logf("Store into glacier while the store is down: %v", err)
	}
	err = within(t, 20*time.Second, "Close", m.Close)
	if err == nil {
		fault(p, false)
		t.Fatalf("Close while the glacier store is down returned nil")
	}
	if err := within(t, 20*time.Second, "Retrieve after a failed Close", func() error { _, err := m.Retrieve("g4"); return err }); !errors.Is(err, tiermem.ErrUnavailable) {
		t.Errorf("Retrieve after the failed Close: %v, want ErrUnavailable", err)
	}
	fault(p, false)
	if err := within(t, 20*time.Second, "Close once the store is back", m.Close); err != nil {
		t.Fatalf("Close once the store is back: %v", err)
	}

	m, err = tiermem.Open(t.TempDir(), hostileProxyOptions(direct)) // the bucket alone
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 10 {
		key := fmt.Sprint("g", i)
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, hostileValue(key)) {
			t.Fatalf("%s from the bucket after the outage: %d bytes, %v", key, len(got), err)
		}
	}
}

// TestGlacierHostileStalledStore: the store accepts connections and never
// answers.
func TestGlacierHostileStalledStore(t *testing.T) {
	hostileFaultScenario(t, (*hostileProxy).setStalled)
}

// TestGlacierHostileDroppedConnections: the store closes every connection.
func TestGlacierHostileDroppedConnections(t *testing.T) {
	hostileFaultScenario(t, (*hostileProxy).setDropping)
}

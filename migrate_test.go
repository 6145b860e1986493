package tiermem_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// openClocked opens a Manager whose time is a fake clock.
func openClocked(t *testing.T, o tiermem.Options) (*tiermem.Manager, *tiermem.FakeClock) {
	t.Helper()
	c := tiermem.NewFakeClock()
	if o.Hot.Size == 0 {
		o.Hot, o.Warm, o.Cold = tiermem.TierOptions{Size: 1 << 20}, tiermem.TierOptions{Size: 4 << 20}, tiermem.TierOptions{Size: 64 << 20}
	}
	o.MigrateInterval = -1
	tiermem.SetClock(&o, c)
	return open(t, &o), c
}

// TestIdleDemotionSparesEarnedEntries is the seed's migration example: the
// entries read often stay hot, the others are demoted after DemoteAfter.
func TestIdleDemotionSparesEarnedEntries(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: 2 * time.Second})
	for i := range 5 {
		must(t, m.Store(fmt.Sprint("data_", i), make([]byte, 10<<10), tiermem.InTier(tiermem.Hot)))
	}
	for range 10 {
		for _, key := range []string{"data_0", "data_1"} {
			_, err := m.Retrieve(key)
			must(t, err)
		}
		clock.Advance(100 * time.Millisecond)
	}
	clock.Advance(5 * time.Second)
	must(t, m.Migrate())
	for i, want := range []tiermem.Tier{tiermem.Hot, tiermem.Hot, tiermem.Warm, tiermem.Warm, tiermem.Warm} {
		if got := tierOf(t, m, fmt.Sprint("data_", i)); got != want {
			t.Errorf("data_%d is in %v, want %v", i, got, want)
		}
	}
	if s := m.Stats(); s.Tiers[tiermem.Hot].Demotions != 3 {
		t.Errorf("hot demotions = %d, want 3", s.Tiers[tiermem.Hot].Demotions)
	}
}

func TestWatermarksBringTiersDown(t *testing.T) {
	m, _ := openClocked(t, tiermem.Options{DemoteAfter: -1})
	for i := range 9 { // 9 × 110 KiB ≈ 0.97 of the hot budget
		must(t, m.Store(fmt.Sprint("k", i), make([]byte, 110<<10), tiermem.InTier(tiermem.Hot)))
	}
	must(t, m.Migrate())
	u := m.Usage()[tiermem.Hot]
	if u.Percent > 75 {
		t.Errorf("hot at %.1f%% after a pass, want at most the low watermark (75%%)", u.Percent)
	}
}

func TestPromotionNeedsHitsAndRoom(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: -1, PromoteHits: 3})
	must(t, m.Store("once", []byte("v"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Store("often", []byte("v"), tiermem.InTier(tiermem.Cold)))
	m.Retrieve("once")
	for range 3 {
		m.Retrieve("often")
	}
	must(t, m.Migrate())
	if got := tierOf(t, m, "often"); got != tiermem.Warm {
		t.Errorf("a key read 3 times is in %v, want warm", got)
	}
	if got := tierOf(t, m, "once"); got != tiermem.Cold {
		t.Errorf("a key read once is in %v, want cold", got)
	}
	for range 3 {
		m.Retrieve("often")
	}
	must(t, m.Migrate())
	if got := tierOf(t, m, "often"); got != tiermem.Hot {
		t.Errorf("after 3 more reads the key is in %v, want hot", got)
	}
	// Reads fade: after the window the count is halved.
	clock.Advance(2 * time.Minute)
	must(t, m.Store("late", []byte("v"), tiermem.InTier(tiermem.Cold)))
	m.Retrieve("late")
	must(t, m.Migrate())
	if got := tierOf(t, m, "late"); got != tiermem.Cold {
		t.Errorf("a key read once is in %v", got)
	}
}

func TestPromotionDoesNotPushOthersOut(t *testing.T) {
	m, _ := openClocked(t, tiermem.Options{DemoteAfter: -1})
	for i := range 9 {
		must(t, m.Store(fmt.Sprint("hot", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	}
	must(t, m.Store("cold", make([]byte, 100<<10), tiermem.InTier(tiermem.Warm)))
	for range 5 {
		m.Retrieve("cold")
	}
	must(t, m.Migrate())
	if got := tierOf(t, m, "cold"); got != tiermem.Warm {
		t.Errorf("promotion into a tier above its high watermark: the key is in %v", got)
	}
}

func TestPinnedNeverMoves(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: time.Second})
	must(t, m.Store("pinned", make([]byte, 300<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	for i := range 10 { // needs room: the pinned entry must not be the one to go
		must(t, m.Store(fmt.Sprint("k", i), make([]byte, 200<<10), tiermem.InTier(tiermem.Hot)))
	}
	clock.Advance(time.Minute)
	must(t, m.Migrate())
	if got := tierOf(t, m, "pinned"); got != tiermem.Hot {
		t.Errorf("pinned entry moved to %v", got)
	}
	must(t, m.Move("pinned", tiermem.Cold)) // an explicit Move still works
	if got := tierOf(t, m, "pinned"); got != tiermem.Cold {
		t.Errorf("Move of a pinned entry left it in %v", got)
	}
}

func TestHotFullOfPinnedIsNoSpace(t *testing.T) {
	m, _ := openClocked(t, tiermem.Options{})
	must(t, m.Store("a", make([]byte, 900<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	err := m.Store("b", make([]byte, 200<<10), tiermem.InTier(tiermem.Hot))
	if !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Store into a hot tier full of pinned entries = %v, want ErrNoSpace", err)
	}
	if _, err := m.Retrieve("a"); err != nil {
		t.Errorf("the pinned entry is gone: %v", err)
	}
}

func TestTTLExpires(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		must(t, m.Store("ttl-"+tr.String(), []byte("v"), tiermem.InTier(tr), tiermem.WithTTL(time.Minute)))
	}
	must(t, m.Store("forever", []byte("v")))
	clock.Advance(59 * time.Second)
	if _, err := m.Retrieve("ttl-warm"); err != nil {
		t.Fatalf("before its TTL: %v", err)
	}
	clock.Advance(2 * time.Second)
	if _, err := m.Retrieve("ttl-warm"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after its TTL Retrieve = %v, want ErrNotFound", err)
	}
	must(t, m.Migrate()) // sweeps the others
	u := m.Usage()
	if items := u[tiermem.Hot].Items + u[tiermem.Warm].Items + u[tiermem.Cold].Items; items != 1 {
		t.Errorf("%d keys left after the TTL sweep, want 1: %+v", items, u)
	}
	if _, err := m.Retrieve("forever"); err != nil {
		t.Error(err)
	}
	if err := m.Store("bad", nil, tiermem.WithTTL(0)); err == nil {
		t.Error("a zero TTL was accepted")
	}
}

// TestEveryPolicyKeepsTheBudget fills the hot tier with each policy and
// checks that room is made and nothing is lost.
func TestEveryPolicyKeepsTheBudget(t *testing.T) {
	for _, p := range []tiermem.Policy{tiermem.PolicyAuto, tiermem.PolicyAdaptive, tiermem.PolicyLRU, tiermem.PolicyLFU,
		tiermem.PolicyFIFO, tiermem.PolicyClock, tiermem.PolicyS3FIFO} {
		m, _ := openClocked(t, tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20, Policy: p},
			Warm: tiermem.TierOptions{Size: 4 << 20, Policy: p}, Cold: tiermem.TierOptions{Size: 64 << 20}})
		for i := range 40 {
			must(t, m.Store(fmt.Sprint("k", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
		}
		u := m.Usage()
		if u[tiermem.Hot].Used > u[tiermem.Hot].Capacity || u[tiermem.Hot].Items+u[tiermem.Warm].Items+u[tiermem.Cold].Items != 40 {
			t.Errorf("policy %d: %+v", p, u)
		}
	}
}

// TestReadOnceIsNotPromotedAtScale reads each of 300,000 warm keys once:
// with PromoteHits 3 none of them earned promotion. The first read-frequency
// estimate, a fixed 4 × 64 K table, counted 79% of them as read three times.
func TestReadOnceIsNotPromotedAtScale(t *testing.T) {
	n := 300_000
	if raceEnabled {
		n = 50_000
	}
	m, _ := openClocked(t, tiermem.Options{DemoteAfter: -1, Hot: tiermem.TierOptions{Size: 256 << 20},
		Warm: tiermem.TierOptions{Size: 256 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	for i := range n {
		must(t, m.Store(fmt.Sprint("key-", i), []byte("sixteen byte val"), tiermem.InTier(tiermem.Warm)))
	}
	must(t, m.Migrate()) // sizes the estimate for the keys held
	for i := range n {
		_, err := m.Retrieve(fmt.Sprint("key-", i))
		must(t, err)
	}
	must(t, m.Migrate())
	if p := m.Stats().Tiers[tiermem.Hot].Promotions; p > int64(n/1000) {
		t.Errorf("%d of %d keys read once were promoted as if read 3 times", p, n)
	}
}

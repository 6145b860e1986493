package web_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

type biggestBody struct {
	Time  time.Time `json:"time"`
	Tiers []struct {
		Tier string `json:"tier"`
		Keys []struct {
			Key       string     `json:"key"`
			Path      string     `json:"path"`
			SizeBytes int64      `json:"size_bytes"`
			Expires   *time.Time `json:"expires"`
			Pinned    bool       `json:"pinned"`
		} `json:"keys"`
	} `json:"tiers"`
}

func TestBiggest(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i := range 30 {
		v := make([]byte, 1000+100*i) // random bytes: the stored size follows the length
		rand.Read(v)
		must(t, m.Store(fmt.Sprintf("key/%02d", i), v, tiermem.InTier(tiers[i%3])))
	}
	hostile := "<img src=x onerror=alert(1)>"
	big := make([]byte, 10000)
	rand.Read(big)
	must(t, m.Store(hostile, big, tiermem.InTier(tiermem.Cold), tiermem.WithTTL(time.Hour), tiermem.Pinned()))
	must(t, m.Store("bin\xff\x00", big[:9000], tiermem.InTier(tiermem.Cold)))
	reads, err := m.ReadCount("key/02")
	must(t, err)

	resp, body := do(t, http.MethodGet, srv.URL+"/v1/biggest?n=5", nil)
	wantStatus(t, resp, body, http.StatusOK, "")
	var b biggestBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Tiers) != 4 || b.Tiers[3].Tier != "glacier" || len(b.Tiers[3].Keys) != 0 {
		t.Fatalf("tiers: %s", body)
	}
	for i, tb := range b.Tiers[:3] {
		if tb.Tier != tiers[i].String() || len(tb.Keys) != 5 {
			t.Fatalf("tier %d: %s with %d keys", i, tb.Tier, len(tb.Keys))
		}
		for j, k := range tb.Keys {
			if j > 0 && k.SizeBytes > tb.Keys[j-1].SizeBytes {
				t.Errorf("%s: not largest first: %s", tb.Tier, body)
			}
			key, err := url.PathUnescape(strings.TrimPrefix(k.Path, "/v1/keys/"))
			if err != nil {
				t.Errorf("path %q: %v", k.Path, err)
			}
			if tier, err := m.Tier(key); err != nil || tier != tiers[i] {
				t.Errorf("%q listed in %s, but is in %v (%v)", key, tb.Tier, tier, err)
			}
		}
	}
	hot := b.Tiers[0].Keys
	if hot[0].Key != "key/27" || hot[4].Key != "key/15" || hot[0].SizeBytes < 1000+2700 {
		t.Errorf("hot's biggest: %+v", hot)
	}
	cold := b.Tiers[2].Keys
	if cold[0].Key != hostile || !cold[0].Pinned || cold[0].Expires == nil || cold[1].Path != "/v1/keys/bin%FF%00" {
		t.Errorf("cold's biggest: %+v", cold)
	}
	if after, _ := m.ReadCount("key/02"); after != reads {
		t.Errorf("listing read key/02: read count %d, was %d", after, reads)
	}
	// Without n: ten per tier, or as many as the tier has.
	resp, body = do(t, http.MethodGet, srv.URL+"/v1/biggest", nil)
	wantStatus(t, resp, body, http.StatusOK, "")
	b = biggestBody{}
	json.Unmarshal(body, &b)
	if len(b.Tiers[0].Keys) != 10 || len(b.Tiers[2].Keys) != 10 {
		t.Errorf("default n: %s", body)
	}
	for _, bad := range []string{"0", "101", "x", "-1"} {
		resp, body := do(t, http.MethodGet, srv.URL+"/v1/biggest?n="+bad, nil)
		wantStatus(t, resp, body, http.StatusBadRequest, "want 1 to 100")
	}
}

// TestBiggestClosed: 503 once the Manager is closed.
func TestBiggestClosed(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	m.Close()
	resp, body := do(t, http.MethodGet, srv.URL+"/v1/biggest", nil)
	wantStatus(t, resp, body, http.StatusServiceUnavailable, "closed")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

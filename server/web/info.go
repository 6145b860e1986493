package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tiermem/tiermem"
)

// usageJSON is the body of GET /v1/usage.
type usageJSON struct {
	Time  time.Time       `json:"time"`
	Tiers []tierUsageJSON `json:"tiers"` // fastest first: hot, warm, cold[, glacier]
}

type tierUsageJSON struct {
	Tier           string  `json:"tier"`
	UsedBytes      int64   `json:"used_bytes"`
	CapacityBytes  int64   `json:"capacity_bytes"` // 0: no budget
	Percent        float64 `json:"percent"`        // 0 without a budget
	Items          int64   `json:"items"`
	HeldBytes      int64   `json:"held_bytes"`      // values that left the tier that readers still hold
	StreamingBytes int64   `json:"streaming_bytes"` // room held for values being streamed in
}

func (h *Handler) serveUsage(w http.ResponseWriter, r *http.Request) {
	u := h.m.Usage()
	body := usageJSON{Time: time.Now().UTC()}
	for _, t := range h.tiers {
		body.Tiers = append(body.Tiers, tierUsageJSON{Tier: t.String(), UsedBytes: u[t].Used,
			CapacityBytes: u[t].Capacity, Percent: u[t].Percent, Items: u[t].Items, HeldBytes: u[t].Held, StreamingBytes: u[t].Streaming})
	}
	writeJSON(w, body)
}

// statsJSON is the body of GET /v1/stats: the Manager's counters since
// Open, and the servers' since the Handler was made.
type statsJSON struct {
	Time          time.Time       `json:"time"`
	Tiers         []tierStatsJSON `json:"tiers"`
	Passes        int64           `json:"passes"`
	FailedPasses  int64           `json:"failed_passes"`
	LastPassError string          `json:"last_pass_error"`
	Server        serverJSON      `json:"server"`
}

type tierStatsJSON struct {
	Tier        string `json:"tier"`
	Promotions  int64  `json:"promotions"`
	Demotions   int64  `json:"demotions"`
	Evictions   int64  `json:"evictions"`
	Expirations int64  `json:"expirations"`
}

type serverJSON struct {
	HTTPRequests int64 `json:"http_requests"` // HTTP requests served
	RESPCommands int64 `json:"resp_commands"` // commands the RESP server recorded
	RESPClients  int64 `json:"resp_clients"`  // RESP clients connected now
	HTTPClients  int64 `json:"http_clients"`  // HTTP connections open now, where the server reports them (Metrics.ConnState)
}

func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	s := h.m.Stats()
	mt := h.metrics
	body := statsJSON{Time: time.Now().UTC(), Passes: s.Passes, FailedPasses: s.FailedPasses,
		LastPassError: s.LastPassError, Server: serverJSON{HTTPRequests: mt.httpRequests.Load(),
			RESPCommands: mt.respCommands.Load(), RESPClients: mt.clientsNow.Load(), HTTPClients: mt.httpClientsNow.Load()}}
	for _, t := range h.tiers {
		ts := s.Tiers[t]
		body.Tiers = append(body.Tiers, tierStatsJSON{Tier: t.String(), Promotions: ts.Promotions,
			Demotions: ts.Demotions, Evictions: ts.Evictions, Expirations: ts.Expirations})
	}
	writeJSON(w, body)
}

// serveAnalytics serves the Manager's analytics in WriteAnalytics's JSON
// (docs/analytics.md); ?since=<RFC 3339 time> keeps only the samples taken
// after it, so that a poller fetches each sample once.
func (h *Handler) serveAnalytics(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	if since == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := h.m.WriteAnalytics(w); err != nil {
			h.log.Warn("web: writing analytics", "err", err)
		}
		return
	}
	t, err := time.Parse(time.RFC3339Nano, since)
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: since %q: want an RFC 3339 time such as 2026-12-03T19:40:34.88Z", ErrBadParam, since))
		return
	}
	doc, err := h.analyticsSince(t)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, doc)
}

// analyticsDoc is WriteAnalytics's document with its samples left as the
// Manager wrote them.
type analyticsDoc struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Tiers   []string          `json:"tiers"`
	Samples []json.RawMessage `json:"samples"`
}

// analyticsSince returns m's analytics document with only the samples
// taken after t. The document is the Manager's, cut: it costs a
// WriteAnalytics of the whole ring, unless no sample is newer than t.
func (h *Handler) analyticsSince(t time.Time) (*analyticsDoc, error) {
	m := h.m
	samples := m.Analytics()
	if len(samples) == 0 || !samples[len(samples)-1].Time.After(t) {
		doc := h.analyticsHead // the Manager's format, version and tiers, without samples
		doc.Samples = []json.RawMessage{}
		return &doc, nil
	}
	doc, err := readAnalyticsDoc(m)
	if err != nil {
		return nil, err
	}
	kept := doc.Samples[:0]
	for _, raw := range doc.Samples {
		var s struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("reading the Manager's analytics: %w", err)
		}
		if s.Time.After(t) {
			kept = append(kept, raw)
		}
	}
	doc.Samples = kept
	return doc, nil
}

// readAnalyticsDoc returns the document m's WriteAnalytics writes.
func readAnalyticsDoc(m *tiermem.Manager) (*analyticsDoc, error) {
	var buf bytes.Buffer
	if err := m.WriteAnalytics(&buf); err != nil {
		return nil, err
	}
	var doc analyticsDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("reading the Manager's analytics: %w", err)
	}
	return &doc, nil
}

func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// serveReady answers 200 while the Manager serves, 503 once it is closed.
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	if err := h.open(); err != nil {
		h.fail(w, r, fmt.Errorf("not ready: %w", err))
		return
	}
	writeJSON(w, map[string]string{"status": "ready"})
}

// open returns an error wrapping tiermem.ErrClosed once the Manager is
// closed: a Tier of a key no one stores, which is no read (it counts
// nowhere) and fails with ErrClosed first.
func (h *Handler) open() error {
	if _, err := h.m.Tier("\x00tiermem-readyz"); err != nil && statusOf(err) != http.StatusNotFound {
		return err
	}
	return nil
}

// whileOpen serves fn while the Manager is open, and a 503 once it is
// closed: what a closed Manager's Usage or a kept listing would say is
// no longer true (a dashboard would go on showing it as live).
func (h *Handler) whileOpen(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.open(); err != nil {
			h.fail(w, r, err)
			return
		}
		fn(w, r)
	}
}

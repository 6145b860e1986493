package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tiermem/tiermem"
)

// DefaultMaxBodyBytes bounds a request body when Config.MaxBodyBytes is 0:
// 1 GiB.
const DefaultMaxBodyBytes = 1 << 30

// DefaultBodyIdleTimeout is Config.BodyIdleTimeout when it is 0.
const DefaultBodyIdleTimeout = time.Minute

// DefaultWriteTimeout is Config.WriteTimeout when it is 0: a minute, as
// `tiermem serve --write-timeout` and a RESP server's WriteTimeout.
const DefaultWriteTimeout = time.Minute

// Config configures a Handler. The zero value serves without a password,
// accepts bodies up to DefaultMaxBodyBytes, logs to slog.Default and keeps
// its metrics in a registry of its own.
type Config struct {
	// Password, when set, is required for every path but /healthz and
	// /readyz: as a bearer token (Authorization: Bearer <password>) or as
	// the password of HTTP basic auth (any user name). It is compared in
	// constant time; a wrong one is logged without it (one line a second
	// at most, with the count of those not logged), and slows down the
	// next attempts from its client's address (FailedAuthDelay).
	// Handler.PasswordFrom replaces it with a password that may change (a
	// RESP server's requirepass).
	Password string
	// MaxBodyBytes bounds a PUT's body: a longer one is refused with 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// AllowedHosts are the host names (lower case, without a port) a
	// request may name in its Host when Password is not set, besides IP
	// addresses, localhost and names under it: any other gets 403, so that
	// a web page that rebinds its own name to this machine's address
	// (DNS rebinding) cannot make the browser use the API. With a password
	// every host is answered.
	AllowedHosts []string
	// BodyIdleTimeout ends a request whose body sends nothing for that
	// long (408, ErrBodyStalled): a stalled upload then gives back the
	// room its value holds in its tier, however long its client keeps the
	// connection. Each read of the body gets it anew, so a slow upload
	// that keeps sending is never cut. Zero means DefaultBodyIdleTimeout;
	// negative, none.
	BodyIdleTimeout time.Duration
	// WriteTimeout ends a reply whose client takes less than 256 KiB of
	// it in that long (a client that stops reading): the body is written
	// 256 KiB at a time, each piece with a write deadline that long from
	// when it begins, so that the request ends, and the value it sends
	// (a hot value's memory, a warm value's mapping, a cold value's file)
	// is let go, where it would otherwise be held as long as the client
	// keeps the connection. A download that keeps taking its pieces,
	// however long it takes overall, is never cut (the kernel hands room
	// in a socket's send buffer back in batches, up to a third of the
	// buffer's few MiB: a client must read that much per WriteTimeout,
	// as a RESP client must). The connection is closed: the
	// client sees a cut body. What the server writes once the handler
	// has returned (the end of the reply) gets a deadline too. Zero means
	// DefaultWriteTimeout; negative, none.
	WriteTimeout time.Duration
	// Logger receives the failed authentications and the server errors
	// (5xx). nil means slog.Default().
	Logger *slog.Logger
	// Registerer, when set, also receives the handler's collectors (the
	// tiers' gauges and counters, the request histograms, the client
	// counts), so that a program's own registry exports them. /metrics
	// always serves the handler's own registry, which adds the Go runtime
	// and process collectors.
	Registerer prometheus.Registerer
}

// FailedAuthDelay slows down password guessing, by client address: after
// a wrong password from an address, the next request from that address
// that carries credentials, right or wrong, has them checked only once
// FailedAuthDelay has passed since that failure, and the credentials of
// one address's requests are checked one at a time. So trying N passwords
// from one address takes about N × FailedAuthDelay, whether the client
// waits for each 401 or gives up on it early (a 401 comes as soon as the
// check, so its silence says nothing), and guesses sent in parallel take
// turns. A request without credentials gets its 401 at once and counts
// for nothing. An address that never gives a wrong password never waits.
// An address is the client's IP (an IPv6 one's /64 prefix): clients
// behind one proxy or NAT share it, and wait for each other's failures.
// The handler keeps at most 4096 addresses with a failure less than
// FailedAuthDelay old; past that, the others share one record of their
// last failure, and each of their attempts waits until it is
// FailedAuthDelay old (at most one delay, whatever the others do).
const FailedAuthDelay = 200 * time.Millisecond

// Handler serves a Manager over HTTP: the key and array API under /v1/,
// the tiers' usage, stats and analytics as JSON, /metrics, /debug/pprof/,
// the health checks and the dashboard at /. It is safe for concurrent use.
type Handler struct {
	m       *tiermem.Manager
	cfg     Config
	log     *slog.Logger
	tiers   []tiermem.Tier // the tiers the Manager has, fastest first
	metrics *Metrics
	mux     *http.ServeMux // everything but /v1/keys/ and /v1/arrays/
	auth    *authenticator
	biggest biggestCache
	seq     atomic.Pointer[Sequencer] // SequenceWith's; nil: none

	// analyticsHead is the Manager's analytics document without its
	// samples (format, version, tiers), for a ?since with nothing newer.
	analyticsHead analyticsDoc
}

// New returns a Handler serving m. It returns an error wrapping ErrConfig
// for a Config that cannot work.
func New(m *tiermem.Manager, cfg Config) (*Handler, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil Manager", ErrConfig)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: MaxBodyBytes %d is negative", ErrConfig, cfg.MaxBodyBytes)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	cfg.AllowedHosts = slices.Clone(cfg.AllowedHosts)
	for i, host := range cfg.AllowedHosts {
		cfg.AllowedHosts[i] = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	h := &Handler{m: m, cfg: cfg, log: cfg.Logger, tiers: managerTiers(m)}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.auth = newAuthenticator(cfg.Password)
	metrics, err := newMetrics(h, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h.metrics = metrics
	head, err := readAnalyticsDoc(m)
	if err != nil {
		return nil, fmt.Errorf("web: reading the Manager's analytics: %w", err)
	}
	h.analyticsHead, h.analyticsHead.Samples = *head, nil
	h.mux = h.routes()
	return h, nil
}

// managerTiers returns the tiers m has: all four, or three when its
// glacier tier is disabled.
func managerTiers(m *tiermem.Manager) []tiermem.Tier {
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}
	if _, err := m.GlacierPacks(); errors.Is(err, tiermem.ErrUnknownTier) {
		tiers = tiers[:3]
	}
	return tiers
}

// Metrics returns the handler's metrics, through which the RESP server
// records its commands and clients.
func (h *Handler) Metrics() *Metrics { return h.metrics }

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	h.handle(mux, "GET /v1/usage", "usage", h.whileOpen(h.serveUsage))
	h.handle(mux, "GET /v1/stats", "stats", h.whileOpen(h.serveStats))
	h.handle(mux, "GET /v1/analytics", "analytics", h.whileOpen(h.serveAnalytics))
	h.handle(mux, "GET /v1/biggest", "biggest", h.whileOpen(h.serveBiggest))
	h.handle(mux, "GET /healthz", "healthz", h.serveHealth)
	h.handle(mux, "GET /readyz", "readyz", h.serveReady)
	mux.Handle("GET /metrics", h.instrument("metrics", promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})))
	h.handle(mux, "/debug/pprof/", "pprof", pprof.Index)
	h.handle(mux, "/debug/pprof/cmdline", "pprof", pprof.Cmdline)
	h.handle(mux, "/debug/pprof/profile", "pprof", pprof.Profile)
	h.handle(mux, "/debug/pprof/symbol", "pprof", pprof.Symbol)
	h.handle(mux, "/debug/pprof/trace", "pprof", pprof.Trace)
	h.handle(mux, "GET /{$}", "dashboard", serveDashboard)
	h.handle(mux, "/", "other", serveOther)
	return mux
}

// getPaths are the paths served to GET (and HEAD) alone, outside the
// keys and arrays.
var getPaths = map[string]bool{"/": true, "/v1/usage": true, "/v1/stats": true, "/v1/analytics": true,
	"/v1/biggest": true, "/healthz": true, "/readyz": true, "/metrics": true}

// serveOther answers what no route took: another method on a path served
// to GET is a 405 naming the methods it takes (RFC 9110 §15.5.6), any
// other path a 404. Both are counted, as "other".
func serveOther(w http.ResponseWriter, r *http.Request) {
	if getPaths[r.URL.Path] {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: it takes GET and HEAD", r.Method, r.URL.Path))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no such path: %s %s", r.Method, r.URL.Path))
}

func (h *Handler) handle(mux *http.ServeMux, pattern, name string, fn http.HandlerFunc) {
	mux.Handle(pattern, h.instrument(name, fn))
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path != "/healthz" && path != "/readyz" && !h.authorized(w, r) {
		return
	}
	if r.Body != nil && r.Body != http.NoBody && h.cfg.BodyIdleTimeout > 0 {
		b := newIdleBody(w, r.Body, h.cfg.BodyIdleTimeout)
		r.Body = b
		defer b.done()
	}
	if h.cfg.WriteTimeout > 0 {
		dw := newDeadlineWriter(w, h.cfg.WriteTimeout)
		w = dw
		defer dw.done()
	}
	// The key paths bypass the mux: it would clean "a//b" and "../x",
	// which are keys like any other here.
	switch {
	case strings.HasPrefix(path, keysPrefix):
		h.serveKey(w, r, path[len(keysPrefix):])
	case strings.HasPrefix(path, arraysPrefix):
		h.serveArray(w, r, path[len(arraysPrefix):])
	default:
		h.mux.ServeHTTP(w, r)
	}
}

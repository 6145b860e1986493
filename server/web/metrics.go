package web

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// maxCommands bounds the distinct command names a protocol records: the
// names come from clients, and each is a time series. Names past it are
// recorded as "other".
const maxCommands = 256

// Metrics holds the request and client metrics of the servers in front of
// one Manager: the HTTP handler records its own, and the RESP server
// records through ObserveCommand, ClientConnected and ClientDisconnected.
// Its methods are safe for concurrent use and allocate nothing once a
// command name has been seen.
type Metrics struct {
	reg        *prometheus.Registry
	resp, http observers
	codes      cache[int, prometheus.Counter]
	// Connections by protocol: RESP's from ClientConnected and
	// ClientDisconnected, HTTP's from ConnState.
	respClients, httpClients prometheus.Gauge
	respConns, httpConns     prometheus.Counter
	respRefused              prometheus.Counter // RESP clients past the server's MaxClients

	own []prometheus.Collector // the collectors above and the tiers', without Go's and the process's

	// Totals for /v1/stats, which the dashboard turns into rates.
	respCommands, httpRequests atomic.Int64
	clientsNow, httpClientsNow atomic.Int64
}

// latencyBuckets are the request histograms' upper bounds in seconds:
// 5 µs to 4.7 s, each 2.5 times the one before.
var latencyBuckets = prometheus.ExponentialBuckets(5e-6, 2.5, 16)

func newMetrics(h *Handler, extra prometheus.Registerer) (*Metrics, error) {
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tiermem_request_duration_seconds",
		Help:    "Time to serve a request, by protocol (resp, http) and command.",
		Buckets: latencyBuckets,
	}, []string{"protocol", "command"})
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tiermem_http_responses_total",
		Help: "HTTP responses, by status code.",
	}, []string{"code"})
	m := &Metrics{
		reg:  prometheus.NewRegistry(),
		resp: newObservers(requests, "resp"),
		http: newObservers(requests, "http"),
	}
	clients := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tiermem_connected_clients",
		Help: "Client connections open now, by protocol (resp, http).",
	}, []string{"protocol"})
	connections := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tiermem_client_connections_total",
		Help: "Client connections accepted, by protocol (resp, http).",
	}, []string{"protocol"})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tiermem_client_connections_refused_total",
		Help: "Client connections refused past the client limit, by protocol (resp).",
	}, []string{"protocol"})
	m.respRefused = refused.WithLabelValues("resp")
	m.respClients, m.httpClients = clients.WithLabelValues("resp"), clients.WithLabelValues("http")
	m.respConns, m.httpConns = connections.WithLabelValues("resp"), connections.WithLabelValues("http")
	m.codes = newCache(func(code int) prometheus.Counter {
		return responses.WithLabelValues(strconv.Itoa(code))
	})
	m.own = []prometheus.Collector{requests, responses, clients, connections, refused, newTierCollector(h)}
	for _, c := range m.own {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if extra != nil {
			if err := extra.Register(c); err != nil {
				return nil, fmt.Errorf("%w: Registerer: %v", ErrConfig, err)
			}
		}
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m, nil
}

// Describe sends the descriptors of the handler's own metrics (not the Go
// runtime's and the process's): Metrics is a prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.own {
		c.Describe(ch)
	}
}

// Collect sends the handler's own metrics, reading the Manager's Usage,
// Stats and analytics now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.own {
		c.Collect(ch)
	}
}

// ObserveCommand records that the RESP server served one command called
// name (lower case, as in "get" or "tier.move") in d.
func (m *Metrics) ObserveCommand(name string, d time.Duration) {
	m.respCommands.Add(1)
	m.resp.get(name).Observe(d.Seconds())
}

// ClientConnected records a RESP client's connection.
func (m *Metrics) ClientConnected() {
	m.respConns.Inc()
	m.respClients.Inc()
	m.clientsNow.Add(1)
}

// ClientRefused records a RESP client refused past the server's client
// limit (server.RefusalObserver).
func (m *Metrics) ClientRefused() { m.respRefused.Inc() }

// ClientDisconnected records the end of a RESP client's connection.
func (m *Metrics) ClientDisconnected() {
	m.respClients.Dec()
	m.clientsNow.Add(-1)
}

// ConnState counts an http.Server's connections: set it as the server's
// ConnState (hs.ConnState = h.Metrics().ConnState).
func (m *Metrics) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		m.httpConns.Inc()
		m.httpClients.Inc()
		m.httpClientsNow.Add(1)
	case http.StateHijacked, http.StateClosed:
		m.httpClients.Dec()
		m.httpClientsNow.Add(-1)
	}
}

// observeHTTP records one HTTP request to the route called name.
func (m *Metrics) observeHTTP(name string, code int, d time.Duration) {
	m.httpRequests.Add(1)
	m.http.get(name).Observe(d.Seconds())
	m.countResponse(code)
}

func (m *Metrics) countResponse(code int) { m.codes.get(code).Inc() }

// finish records the request rec answered, begun at start, and recycles
// rec.
func (m *Metrics) finish(rec *recorder, name string, start time.Time) {
	m.observeHTTP(name, rec.code(), time.Since(start))
	rec.free()
}

// observers are the latency histograms of one protocol's commands.
type observers struct {
	cache[string, prometheus.Observer]
}

func newObservers(vec *prometheus.HistogramVec, protocol string) observers {
	var o observers
	o.cache = newCache(func(name string) prometheus.Observer {
		return vec.WithLabelValues(protocol, name)
	})
	return o
}

// cache maps a label value to its series, creating it on first use; reads
// take no lock and allocate nothing. It holds at most maxCommands values:
// past them, every new one shares one "other" series.
type cache[K comparable, V any] struct {
	m     *atomic.Pointer[map[K]V] // replaced, never changed, by add
	mu    *sync.Mutex              // serializes add
	newV  func(K) V
	other *V // the series for the values past maxCommands; guarded by mu
}

func newCache[K comparable, V any](newV func(K) V) cache[K, V] {
	c := cache[K, V]{m: new(atomic.Pointer[map[K]V]), mu: new(sync.Mutex), newV: newV, other: new(V)}
	c.m.Store(&map[K]V{})
	return c
}

func (c cache[K, V]) get(k K) V {
	if v, ok := (*c.m.Load())[k]; ok {
		return v
	}
	return c.add(k)
}

func (c cache[K, V]) add(k K) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if v, ok := old[k]; ok {
		return v
	}
	if len(old) >= maxCommands {
		if any(*c.other) == nil {
			*c.other = c.newV(otherKey[K]())
		}
		return *c.other
	}
	if s, ok := any(k).(string); ok {
		k = any(string([]byte(s))).(K) // the caller's string may be over reused bytes
	}
	v := c.newV(k)
	next := make(map[K]V, len(old)+1)
	for ok, ov := range old {
		next[ok] = ov
	}
	next[k] = v
	c.m.Store(&next)
	return v
}

// otherKey is the label value of the series past maxCommands.
func otherKey[K comparable]() K {
	var k K
	switch p := any(&k).(type) {
	case *string:
		*p = "other"
	case *int:
		*p = 0
	}
	return k
}

// recorder is a ResponseWriter that keeps the status code written.
type recorder struct {
	http.ResponseWriter
	status int
}

var recorderPool = sync.Pool{New: func() any { return new(recorder) }}

func newRecorder(w http.ResponseWriter) *recorder {
	rec := recorderPool.Get().(*recorder)
	rec.ResponseWriter, rec.status = w, 0
	return rec
}

func (r *recorder) free() {
	r.ResponseWriter = nil
	recorderPool.Put(r)
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap returns the ResponseWriter beneath, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ReadFrom lets io.Copy reach the ResponseWriter's own ReadFrom, which
// copies through a pooled buffer (or sendfile) instead of a new one.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return readFrom(r.ResponseWriter, src)
}

// readFrom copies src to w, through w's ReadFrom when it has one.
func readFrom(w http.ResponseWriter, src io.Reader) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w}, src)
}

// instrument wraps next so that its requests are recorded as route name.
func (h *Handler) instrument(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := newRecorder(w)
		next.ServeHTTP(rec, r)
		h.metrics.finish(rec, name, start)
	})
}

package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/internal/authlimit"
)

// Options configures a Server. The zero value serves without a password,
// with Redis's default limits.
type Options struct {
	// RequirePass, when set, is the password clients must give with AUTH
	// (or HELLO's AUTH) before any other command, as Redis's requirepass.
	RequirePass string

	// MaxBulkLen bounds one argument's bytes (Redis's proto-max-bulk-len):
	// 512 MiB when 0. A longer one is a protocol error.
	MaxBulkLen int64

	// MaxMultibulkLen bounds the arguments of one command: 1 Mi when 0.
	MaxMultibulkLen int64

	// MaxClients bounds the connections served at once: 10000 when 0. A
	// client past it gets "-ERR max number of clients reached" and is
	// closed, as in Redis.
	MaxClients int

	// Logger receives connection errors and AUTH failures (never the
	// password): slog.Default() when nil.
	Logger *slog.Logger

	// IdleTimeout, when positive, closes a connection that sends nothing
	// for that long (Redis's timeout). 0 keeps idle clients forever.
	// CONFIG SET timeout changes it for every client, those waiting for
	// their next command included.
	IdleTimeout time.Duration

	// WriteTimeout, when positive, closes a connection that takes less
	// than 256 KiB of its replies in that long: a client that pipelines
	// and never reads then costs its goroutine that long, not until
	// Shutdown, while one that reads a large reply slowly is served to the
	// end (the deadline is renewed every 256 KiB).
	WriteTimeout time.Duration

	// MaxOutput bounds the memory one connection's replies keep before
	// they are written (Redis's client-output-buffer-limit for normal
	// clients, its hard limit), in two ways. Replies the socket did not
	// take, queued while the connection reads on, are bounded by it, the
	// memory they keep counted: past it the connection stops reading until
	// its client takes some. And one command's reply, held whole until it is handed
	// on, is bounded by it in the copies of values in its buffer, not the
	// values sent from where their tier holds them (a hot value, a large
	// warm one in its own mapping, a raw cold one read from disk), nor the
	// largest copy of the reply: one value is always served, however large
	// (a GET of a 2 GB glacier value, copied). What passes that is an MGET
	// or an EXEC of many values, a KEYS: the connection is then closed, its
	// replies dropped, and a warning logged; the commands of an EXEC still
	// all run. 1 GiB when 0; negative for no limit; at least 1 MiB (a
	// smaller one is taken as 1 MiB). CONFIG SET client-output-buffer-limit
	// changes it.
	MaxOutput int64

	// Observer, when set, is told of every command served and of clients
	// coming and going (package server/web's Metrics is one).
	Observer Observer

	// SnapshotPath is the file SAVE, BGSAVE and SHUTDOWN SAVE write the
	// Manager's snapshot to (written beside it and renamed: a reader never
	// sees half a file). When "", they answer an error.
	SnapshotPath string

	// OnShutdown, when set, is called once, in a goroutine of its own,
	// after a client's SHUTDOWN (and its SAVE, if asked) succeeded: the
	// owner then stops the server (Shutdown) and closes the Manager. When
	// nil, SHUTDOWN answers Redis's "-ERR Errors trying to SHUTDOWN" and
	// the server goes on.
	OnShutdown func()
}

// minOutputLimit is the smallest MaxOutput: the replies of a pipeline are
// written 64 KiB at a time, and a connection's buffer keeps its capacity.
const minOutputLimit = 1 << 20

// Observer receives what a Server does, for metrics. Its methods are
// called from every connection's goroutine at once.
type Observer interface {
	// ObserveCommand records one command, by its lower-case name, and the
	// time it took.
	ObserveCommand(name string, d time.Duration)
	ClientConnected()
	ClientDisconnected()
}

// RefusalObserver is an Observer that also counts the clients refused
// past MaxClients (Redis's rejected_connections); the Server calls it when
// its Observer implements it.
type RefusalObserver interface {
	ClientRefused()
}

// Server serves a Manager over RESP. Its methods are safe for concurrent use.
type Server struct {
	m       *tiermem.Manager
	opts    Options // RequirePass, MaxClients, IdleTimeout and MaxOutput are read from the fields below
	log     *slog.Logger
	started time.Time
	ids     atomic.Int64 // the last client id given

	// What CONFIG SET changes while clients run.
	pass       atomic.Pointer[string] // RequirePass
	maxClients atomic.Int64
	idle       atomic.Int64 // IdleTimeout, ns
	maxOutput  atomic.Int64 // MaxOutput; 0 for no limit
	// auth slows down password guessing (auththrottle.go).
	auth authState

	accepted atomic.Int64 // connections accepted since New or CONFIG RESETSTAT
	rejected atomic.Int64 // connections refused past maxclients, since the same
	changes  atomic.Int64 // write commands run, for INFO's rdb_changes_since_last_save
	watches  watchList    // the keys WATCH watches
	saves    saver        // SAVE and BGSAVE
	down     atomic.Bool  // a SHUTDOWN called OnShutdown

	// exclusive orders commands that must run alone (MSET, MSETNX, EXEC):
	// every connection holds its read side while it runs a batch of
	// commands, those take the write side.
	exclusive sync.RWMutex
	// unheldWrites' read side is held by each write that runs without
	// exclusive's while it may wait for room (conn.unheld); the commands
	// that run alone take its write side before exclusive's (lockAlone).
	unheldWrites sync.RWMutex

	mu        sync.Mutex // protects the fields below
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	// clientCount is the connections counted as clients: those in conns
	// but the ones CLIENT KILL closed (see disconnected).
	clientCount int64
	closing     bool
	stopping    atomic.Bool    // closing, read without mu by connections about to block
	served      sync.WaitGroup // connection goroutines; Added under mu while !closing
}

// New returns a Server for m; opts may be nil. The Server does not own m:
// the caller closes it after Shutdown.
func New(m *tiermem.Manager, opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxBulkLen <= 0 {
		o.MaxBulkLen = 512 << 20
	}
	if o.MaxMultibulkLen <= 0 {
		o.MaxMultibulkLen = 1 << 20
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 10000
	}
	if o.MaxOutput == 0 {
		o.MaxOutput = 1 << 30
	} else if o.MaxOutput > 0 {
		o.MaxOutput = max(o.MaxOutput, minOutputLimit)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{m: m, opts: o, log: log, started: time.Now(),
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}
	s.pass.Store(&o.RequirePass)
	s.maxClients.Store(int64(o.MaxClients))
	s.idle.Store(int64(o.IdleTimeout))
	s.maxOutput.Store(max(o.MaxOutput, 0))
	s.watches.keys = map[string]map[*conn]struct{}{}
	s.auth.limit = authlimit.New(wrongPassPause)
	s.saves.last = s.started
	return s
}

// Password returns the password clients must give (Options.RequirePass,
// or what CONFIG SET requirepass set since); "" for none. Package web's
// Handler takes it (Handler.PasswordFrom), so that one password guards
// both protocols. Safe for concurrent use.
func (s *Server) Password() string { return *s.pass.Load() }

// lockAlone lets no other command run: it waits for the writes running
// without the shared lock (conn.unheld) to end, with no lock that the
// other clients need held meanwhile, then for the commands running.
func (s *Server) lockAlone() {
	s.unheldWrites.Lock()
	s.exclusive.Lock()
}

// unlockAlone lets the other commands run again.
func (s *Server) unlockAlone() {
	s.exclusive.Unlock()
	s.unheldWrites.Unlock()
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close, when it returns ErrServerClosed; it returns
// other errors of ln.Accept. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			var errno syscall.Errno
			if errors.As(err, &ne) && ne.Timeout() || errors.As(err, &errno) && errno.Temporary() { // EMFILE, ECONNABORTED: the listener works
				s.log.Warn("server: accepting a client", "error", err)
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		s.start(nc)
	}
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// track adds ln to the listeners Shutdown closes, unless it has begun.
func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
	ln.Close()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// start serves nc in a new goroutine, or refuses it when the server is
// closing or full.
func (s *Server) start(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.clientCount >= s.maxClients.Load() {
		s.mu.Unlock()
		s.rejected.Add(1)
		if r, ok := s.opts.Observer.(RefusalObserver); ok {
			r.ClientRefused()
		}
		go refuse(nc)
		return
	}
	s.conns[c] = struct{}{}
	c.counted = true
	s.clientCount++
	s.accepted.Add(1)
	s.served.Add(1)
	s.mu.Unlock()
	if s.opts.Observer != nil {
		s.opts.Observer.ClientConnected()
	}
	go func() {
		defer s.served.Done()
		defer s.forget(c)
		c.serve()
	}()
}

// refuse answers a client past maxclients and closes it, in a goroutine of
// its own, under one deadline for the whole exchange: a TLS client's
// handshake, which the write starts, must not hold up the accept loop.
func refuse(nc net.Conn) {
	nc.SetDeadline(time.Now().Add(time.Second))
	nc.Write([]byte("-ERR max number of clients reached\r\n"))
	nc.Close()
}

// forget drops c, whose goroutine ends, from the server's connections.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.disconnected(c)
}

// disconnected stops counting c as a client, once: when CLIENT KILL closes
// it (Redis frees a killed client at once, while c's goroutine may still
// be finishing a command) or when its goroutine ends, whichever is first.
// maxclients, INFO and the Observer count clients so.
func (s *Server) disconnected(c *conn) {
	s.mu.Lock()
	was := c.counted
	c.counted = false
	if was {
		s.clientCount--
	}
	s.mu.Unlock()
	if was && s.opts.Observer != nil {
		s.opts.Observer.ClientDisconnected()
	}
}

// Shutdown stops the server gracefully: it closes the listeners, lets
// every connection finish the commands it has read (their replies are
// written) and closes it, and waits for that or ctx, whichever is first;
// then it closes what is left and returns ctx's error if ctx ended first.
// Commands a client sent that the server had not read yet are not run. A
// BGSAVE running is waited for in either case (a snapshot cannot stop
// half way).
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginClose()
	s.eachConn(func(c *conn) { c.nc.SetReadDeadline(time.Now()) })
	done := make(chan struct{})
	go func() {
		s.served.Wait()
		s.saves.background.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.eachConn(func(c *conn) { c.nc.Close() })
		<-done
		return ctx.Err()
	}
}

// Close closes the listeners and every connection at once, and waits for
// the commands running, and a BGSAVE, to return.
func (s *Server) Close() error {
	s.beginClose()
	s.eachConn(func(c *conn) { c.nc.Close() })
	s.served.Wait()
	s.saves.background.Wait()
	return nil
}

// beginClose refuses new connections and closes the listeners.
func (s *Server) beginClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	s.stopping.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
}

// setIdle sets the idle timeout (ns; 0 for none), for the connections
// waiting for their client too, as Redis measures every client's idle time
// against the timeout in force: a client idle longer than a new timeout
// is closed at once. Once Shutdown began, it leaves the deadlines Shutdown
// moved to now alone.
func (s *Server) setIdle(d int64) {
	s.idle.Store(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	for c := range s.conns {
		c.applyIdle(d)
	}
}

func (s *Server) eachConn(fn func(c *conn)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		fn(c)
	}
}

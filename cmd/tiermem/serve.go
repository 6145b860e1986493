package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/bytesize"
	"github.com/tiermem/tiermem/server"
	"github.com/tiermem/tiermem/server/web"
)

// serveConfig is what serve's flags (or TIERMEM_* variables) set.
type serveConfig struct {
	addr, http, dir     string
	requirePass         string
	allowedHosts        string
	hot, warm, cold     string // byte counts; "" = the Manager's defaults
	durability          string
	policies            [3]string // hot, warm, cold; "" = auto
	noGlacier           bool
	maxClients          int
	maxBulk             string
	logFormat, logLevel string
	shutdownWait        time.Duration
	idle, writeTimeout  time.Duration
	bodyIdle            time.Duration
	maxMultibulk        int64
	maxBody             string
	maxOutput           string
	analytics           time.Duration // 0: off
	tlsCert, tlsKey     string
	configFile          string
}

func newServeCmd() *cobra.Command { return serveCommand(runServe) }

// serveCommand returns the serve command, which calls run with the
// settings resolved from flags, TIERMEM_* variables and the config file.
func serveCommand(run func(context.Context, serveConfig, io.Writer) error) *cobra.Command {
	cfg := serveConfig{addr: "127.0.0.1:6380", http: "127.0.0.1:8080", dir: "./tiermem-data", durability: "none",
		maxBulk: "512MiB", logFormat: "text", logLevel: "info", shutdownWait: 10 * time.Second, writeTimeout: time.Minute, bodyIdle: web.DefaultBodyIdleTimeout,
		maxMultibulk: 1 << 20, maxBody: "1GiB", maxOutput: "1GiB", analytics: time.Second}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a Manager over RESP (any Redis client, redis-cli, redis-benchmark) and HTTP",
		Long: "serve opens a Manager in --dir and serves it over RESP, the Redis protocol, on --addr\n" +
			"(loopback only by default) and over HTTP (JSON API, /metrics, dashboard) on --http.\n" +
			"\n" +
			"Every flag can also be set by an environment variable, TIERMEM_ and the flag's name in\n" +
			"upper case with - as _ (e.g. TIERMEM_REQUIREPASS), and in the file --config names (or\n" +
			"TIERMEM_CONFIG): one setting a line, the flag's name without dashes, blanks, the value\n" +
			"(a double-quoted Go string when it starts with \"; \"\" for an empty one), # comments:\n" +
			"\n" +
			"    # tiermem.conf\n" +
			"    addr 0.0.0.0:6380\n" +
			"    hot 8GiB\n" +
			"    requirepass \"correct horse battery staple\"\n" +
			"\n" +
			"A flag given on the command line wins over its variable, which wins over the file, which\n" +
			"wins over the default. An unknown name or a bad value is an error naming file:line.\n" +
			"A TIERMEM_* variable that names no flag (TIERMEM_REQUIRE_PASS for TIERMEM_REQUIREPASS)\n" +
			"is an error too, except those that other commands and the project's scripts read.\n" +
			"\n" +
			"With --tls-cert and --tls-key, both listeners serve TLS only (RESP on --addr, HTTPS on\n" +
			"--http; redis-cli --tls, curl https://): there is no second, plain-text port.\n" +
			"\n" +
			"SIGTERM, SIGINT or SIGHUP (the terminal or ssh session closed) stops it gracefully: no\n" +
			"new connections, the commands read are answered, the Manager is closed (hot and warm\n" +
			"persisted to cold), exit status 0.\n" +
			"\n" +
			"--no-glacier on a directory whose glacier tier (DIR/glacier) holds packs is refused:\n" +
			"their keys would read as missing, and come back at the next serve with glacier.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveSettings(cmd.Flags(), &cfg); err != nil {
				return err
			}
			return run(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.configFile, "config", "", "config file of name value lines (see above)")
	f.StringVar(&cfg.addr, "addr", cfg.addr, "RESP listen address")
	f.StringVar(&cfg.http, "http", cfg.http, `HTTP listen address ("" for no HTTP)`)
	f.StringVar(&cfg.dir, "dir", cfg.dir, "data directory (the cold tier, glacier by default)")
	f.StringVar(&cfg.requirePass, "requirepass", "", "password clients must give (AUTH on RESP, bearer or basic auth on HTTP); prefer TIERMEM_REQUIREPASS, which ps does not show")
	f.StringVar(&cfg.allowedHosts, "http-allowed-hosts", "", "comma-separated host names HTTP requests may name without a password, besides IP addresses and localhost (others get 403: DNS rebinding)")
	f.Var(checked{&cfg.hot, budget, "bytes"}, "hot", "hot tier budget, e.g. 8GiB, at least 1 byte (leave it out for the default: from the machine's RAM)")
	f.Var(checked{&cfg.warm, budget, "bytes"}, "warm", "warm tier budget, at least 1 byte (leave it out for the default: from the machine's RAM)")
	f.Var(checked{&cfg.cold, budget, "bytes"}, "cold", "cold tier budget, at least 1 byte (leave it out for the default: from the free disk)")
	f.Var(checked{&cfg.durability, oneOf("none", "every-second", "always"), "string"}, "durability", "none, every-second or always")
	for i, name := range []string{"hot", "warm", "cold"} {
		f.Var(checked{&cfg.policies[i], oneOf(policyNames...), "string"}, name+"-policy",
			"the "+name+" tier's replacement policy: "+strings.Join(policyNames, ", ")+" (default auto; CONFIG SET changes it)")
	}
	f.BoolVar(&cfg.noGlacier, "no-glacier", false, "run without the glacier tier (refused when DIR/glacier holds packs)")
	f.IntVar(&cfg.maxClients, "max-clients", 10000, "most RESP connections at once")
	f.Var(checked{&cfg.maxBulk, byteCount, "bytes"}, "max-bulk-len", "longest RESP argument")
	f.Int64Var(&cfg.maxMultibulk, "max-multibulk-len", cfg.maxMultibulk, "most arguments of one RESP command")
	f.Var(checked{&cfg.maxOutput, byteCount, "bytes"}, "max-output",
		"most memory one RESP client's unsent replies may keep (an MGET of many values): past it the client is closed (0: no limit)")
	f.Var(checked{&cfg.maxBody, positiveBytes, "bytes"}, "max-body", "largest HTTP request body: a longer PUT gets 413")
	f.DurationVar(&cfg.analytics, "analytics-interval", cfg.analytics, "sample hit rate, latency and moves this often, for the dashboard and /metrics (0: off)")
	f.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve RESP and HTTP over TLS only; needs --tls-key")
	f.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	f.Var(checked{&cfg.logFormat, oneOf("text", "json"), "string"}, "log-format", "text or json")
	f.Var(checked{&cfg.logLevel, oneOf("debug", "info", "warn", "error"), "string"}, "log-level", "debug, info, warn or error")
	f.DurationVar(&cfg.shutdownWait, "shutdown-wait", cfg.shutdownWait, "how long a graceful stop waits for clients to finish their commands before it disconnects them (0: at once)")
	f.DurationVar(&cfg.idle, "idle-timeout", 0, "close a RESP client silent this long, and an HTTP connection idle this long between requests (0: never)")
	f.DurationVar(&cfg.writeTimeout, "write-timeout", cfg.writeTimeout, "close a RESP client, or an HTTP connection, that takes less than 256 KiB of its replies in this long (0: never)")
	f.DurationVar(&cfg.bodyIdle, "body-idle-timeout", cfg.bodyIdle, "end an HTTP request whose body sends nothing this long (408), giving back the room its value holds (0: never)")
	return cmd
}

// policyNames are the values of the --*-policy flags.
var policyNames = []string{"auto", "adaptive", "lru", "lfu", "fifo", "clock", "s3fifo"}

// resolveSettings applies, under the flags given on the command line, the
// TIERMEM_* variables and then the config file, and checks what only
// works in pairs.
func resolveSettings(flags *pflag.FlagSet, cfg *serveConfig) error {
	if err := unknownVariables(flags, os.Environ()); err != nil {
		return err
	}
	fromEnv, err := applyEnv(flags)
	if err != nil {
		return err
	}
	if cfg.configFile != "" {
		if err := applyConfigFile(flags, cfg.configFile, fromEnv); err != nil {
			return err
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if cfg.noGlacier && cfg.policies[2] != "" && cfg.policies[2] != "auto" {
		return fmt.Errorf("--cold-policy %s with --no-glacier: the cold tier is then the last tier and never evicts; leave --cold-policy out", cfg.policies[2])
	}
	if cfg.analytics < 0 || cfg.analytics > 0 && cfg.analytics < minAnalyticsInterval {
		return fmt.Errorf("--analytics-interval %v: want %v or more, or 0 for off (each sample takes a look at every tier)", cfg.analytics, minAnalyticsInterval)
	}
	return cfg.checkLimits()
}

// minAnalyticsInterval is the shortest --analytics-interval: the dashboard
// refreshes once a second, and a sample every few nanoseconds would keep a
// core busy.
const minAnalyticsInterval = 10 * time.Millisecond

// checkLimits refuses an empty RESP address (net.Listen would take every
// interface) or data directory, and limits or durations below what they can mean, naming the
// flag.
func (cfg *serveConfig) checkLimits() error {
	if cfg.addr == "" {
		return errors.New(`--addr "": want host:port, e.g. 127.0.0.1:6380 (the default), or 0.0.0.0:6380 for every interface`)
	}
	if cfg.dir == "" {
		return errors.New(`--dir "" (or TIERMEM_DIR=): want the directory to keep the data in, e.g. ./tiermem-data (the default)`)
	}
	if cfg.maxClients < 1 {
		return fmt.Errorf("--max-clients %d: want at least 1", cfg.maxClients)
	}
	if cfg.maxMultibulk < 1 {
		return fmt.Errorf("--max-multibulk-len %d: want at least 1", cfg.maxMultibulk)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--shutdown-wait", cfg.shutdownWait}, {"--idle-timeout", cfg.idle}, {"--write-timeout", cfg.writeTimeout}, {"--body-idle-timeout", cfg.bodyIdle}} {
		if d.v < 0 {
			return fmt.Errorf("%s %v: want a positive duration, or 0", d.flag, d.v)
		}
	}
	return nil
}

// applyEnv sets every flag not given on the command line from its
// TIERMEM_* variable, if set, and returns the names it set.
func applyEnv(flags *pflag.FlagSet) (map[string]bool, error) {
	var err error
	set := map[string]bool{}
	flags.VisitAll(func(f *pflag.Flag) {
		name := envName(f.Name)
		if f.Name == "help" {
			return // asked for on the command line only
		}
		if v, ok := os.LookupEnv(name); ok && !f.Changed && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
			set[f.Name] = true
		}
	})
	return set, err
}

// serveOptions turns the flags into the Manager's options.
func (cfg serveConfig) managerOptions() (*tiermem.Options, error) {
	o := &tiermem.Options{Glacier: tiermem.GlacierOptions{Disabled: cfg.noGlacier}}
	for _, size := range []struct {
		s   string
		dst *int64
	}{{cfg.hot, &o.Hot.Size}, {cfg.warm, &o.Warm.Size}, {cfg.cold, &o.Cold.Size}} {
		if size.s == "" {
			continue
		}
		n, err := bytesize.Parse(size.s)
		if err != nil {
			return nil, err
		}
		*size.dst = n
	}
	for i, dst := range []*tiermem.Policy{&o.Hot.Policy, &o.Warm.Policy, &o.Cold.Policy} {
		if cfg.policies[i] == "" {
			continue
		}
		p, err := tiermem.ParsePolicy(cfg.policies[i])
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	d, err := tiermem.ParseDurability(cfg.durability)
	if err != nil {
		return nil, fmt.Errorf("--durability: %w", err)
	}
	o.Durability = d
	return o, nil
}

// newLogger returns the logger the flags ask for.
func (cfg serveConfig) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch cfg.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", cfg.logFormat)
}

// runServe serves until ctx ends or a SIGTERM, SIGINT or SIGHUP, then
// stops gracefully and returns nil.
func runServe(ctx context.Context, cfg serveConfig, logw io.Writer) error {
	log, err := cfg.newLogger(logw)
	if err != nil {
		return err
	}
	opts, err := cfg.managerOptions()
	if err != nil {
		return err
	}
	maxBulk, err := bytesize.Parse(cfg.maxBulk)
	if err != nil {
		return fmt.Errorf("--max-bulk-len: %w", err)
	}
	maxOutput, err := bytesize.Parse(cfg.maxOutput)
	if err != nil {
		return fmt.Errorf("--max-output: %w", err)
	}
	if maxOutput == 0 {
		maxOutput = -1 // no limit, as server.Options spells it
	}
	tlsConf, err := cfg.tlsConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	defer stop()
	if cfg.noGlacier {
		if err := noGlacierPacks(cfg.dir); err != nil {
			return err
		}
	}
	m, err := tiermem.Open(cfg.dir, opts)
	if err != nil {
		return err
	}
	if cfg.analytics > 0 {
		if err := m.EnableAnalytics(cfg.analytics); err != nil {
			m.Close()
			return fmt.Errorf("--analytics-interval: %w", err)
		}
	}
	front, err := cfg.newHTTP(m, log, tlsConf)
	if err != nil {
		m.Close()
		return err
	}
	srv := server.New(m, &server.Options{RequirePass: cfg.requirePass, MaxClients: cfg.maxClients, MaxBulkLen: maxBulk,
		MaxMultibulkLen: cfg.maxMultibulk, IdleTimeout: cfg.idle, WriteTimeout: cfg.writeTimeout, MaxOutput: maxOutput, Logger: log, Observer: front.observer(),
		SnapshotPath: filepath.Join(cfg.dir, "dump.tmsnap"), OnShutdown: stop}) // SAVE, BGSAVE; SHUTDOWN stops as a signal does
	hs := front.serve(srv, log)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return cfg.stop(srv, hs, m, log, fmt.Errorf("--addr: %w", err))
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	log.Info("tiermem serving", "resp", ln.Addr().String(), "http", cfg.http, "tls", tlsConf != nil, "dir", cfg.dir)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Info("tiermem stopping")
	case err = <-served: // the listener failed
		log.Error("tiermem: serving RESP", "error", err)
	}
	return cfg.stop(srv, hs, m, log, err)
}

// noGlacierPacks refuses --no-glacier on a directory whose glacier tier
// holds packs: the Manager would not read DIR/glacier at all, so every key
// in it would read as missing (GET nil, DBSIZE and DEL counting none), and
// come back, deleted or not, at the next serve with glacier. The packs are
// DIR/glacier/pack/*.pack, where the glacier store (tier/object) writes
// them.
func noGlacierPacks(dir string) error {
	packs, err := filepath.Glob(filepath.Join(dir, "glacier", "pack", "*.pack"))
	if err != nil || len(packs) == 0 {
		return nil
	}
	var size int64
	for _, p := range packs {
		if fi, err := os.Stat(p); err == nil {
			size += fi.Size()
		}
	}
	held := fmt.Sprintf("%d packs", len(packs))
	if len(packs) == 1 {
		held = "1 pack"
	}
	return fmt.Errorf("--no-glacier: %s holds %s (%d bytes) of the glacier tier, whose keys would read as missing and come back "+
		"at the next serve with glacier: serve without --no-glacier (tiermem glacier ls --dir %s lists them), "+
		"or move %s away first to serve without them", filepath.Join(dir, "glacier"), held, size, dir, filepath.Join(dir, "glacier"))
}

// stop shuts the servers down gracefully, then closes the Manager. Clients
// still running commands after --shutdown-wait are disconnected, with a
// warning: the stop itself goes on (0 disconnects them at once).
func (cfg serveConfig) stop(srv *server.Server, hs *http.Server, m *tiermem.Manager, log *slog.Logger, failed error) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	cut := func(protocol string, err error) error {
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		log.Warn("tiermem: disconnected the clients still busy after --shutdown-wait", "protocol", protocol, "shutdown-wait", cfg.shutdownWait)
		return nil
	}
	errs := []error{failed, cut("resp", srv.Shutdown(ctx))}
	if hs != nil {
		err := hs.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			hs.Close() // Shutdown leaves the busy connections open
		}
		errs = append(errs, cut("http", err))
	}
	errs = append(errs, m.Close())
	err := errors.Join(errs...)
	if err == nil {
		log.Info("tiermem stopped")
	}
	return err
}

// httpFront is package web's handler on --http, with its listener, made
// before the RESP server (which reports its commands to the handler's
// metrics) and serving after it (whose order the handler's reads and
// writes take). The zero httpFront is no --http.
type httpFront struct {
	h   *web.Handler
	hs  *http.Server
	ln  net.Listener
	tls bool
}

// newHTTP makes the handler of --http, if set: the HTTP API, /metrics and
// the dashboard, behind the same password, and listens on --http. With
// tlsConf it will serve HTTPS only.
func (cfg serveConfig) newHTTP(m *tiermem.Manager, log *slog.Logger, tlsConf *tls.Config) (httpFront, error) {
	if cfg.http == "" {
		return httpFront{}, nil
	}
	maxBody, err := bytesize.Parse(cfg.maxBody)
	if err != nil {
		return httpFront{}, fmt.Errorf("--max-body: %w", err)
	}
	bodyIdle, writeTimeout := cfg.bodyIdle, cfg.writeTimeout
	if bodyIdle == 0 {
		bodyIdle = -1 // web.Config's "none"
	}
	if writeTimeout == 0 {
		writeTimeout = -1
	}
	var hosts []string
	for host := range strings.SplitSeq(cfg.allowedHosts, ",") {
		if host = strings.TrimSpace(host); host != "" {
			hosts = append(hosts, host)
		}
	}
	h, err := web.New(m, web.Config{Password: cfg.requirePass, Logger: log, MaxBodyBytes: maxBody, BodyIdleTimeout: bodyIdle,
		WriteTimeout: writeTimeout, AllowedHosts: hosts})
	if err != nil {
		return httpFront{}, err
	}
	ln, err := net.Listen("tcp", cfg.http)
	if err != nil {
		return httpFront{}, fmt.Errorf("--http: %w", err)
	}
	// IdleTimeout: a connection waiting for its next request is closed
	// after --idle-timeout, as a silent RESP client is (0: never, as
	// there).
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: cfg.idle, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: h.Metrics().ConnState, TLSConfig: tlsConf.Clone()} // ServeTLS adds h2 to its config: not to the RESP listener's
	return httpFront{h: h, hs: hs, ln: ln, tls: tlsConf != nil}, nil
}

// observer returns the handler's metrics, which the RESP server reports
// its commands to; nil without --http.
func (f httpFront) observer() server.Observer {
	if f.h == nil {
		return nil
	}
	return f.h.Metrics()
}

// serve puts the handler's reads and writes in the RESP server's order
// and its password in the RESP server's hands (CONFIG SET requirepass
// sets both), and serves it; it returns the HTTP server, nil without
// --http.
func (f httpFront) serve(srv *server.Server, log *slog.Logger) *http.Server {
	if f.h == nil {
		return nil
	}
	f.h.SequenceWith(srv.Sequencer())
	f.h.PasswordFrom(srv.Password)
	go func() {
		var err error
		if f.tls {
			err = f.hs.ServeTLS(f.ln, "", "") // the certificate is in TLSConfig
		} else {
			err = f.hs.Serve(f.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("tiermem: serving HTTP", "error", err)
		}
	}()
	return f.hs
}

// tlsConfig loads --tls-cert and --tls-key: nil without them.
func (cfg serveConfig) tlsConfig() (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

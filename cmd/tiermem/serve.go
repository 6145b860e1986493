package main

import (
	"context"
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
	"github.com/tiermem/tiermem/server"
	"github.com/tiermem/tiermem/server/web"
)

// serveConfig is what serve's flags (or TIERMEM_* variables) set.
type serveConfig struct {
	addr, http, dir     string
	requirePass         string
	hot, warm, cold     string // byte counts; "" = the Manager's defaults
	durability          string
	noGlacier           bool
	maxClients          int
	maxBulk             string
	logFormat, logLevel string
	shutdownWait        time.Duration
	idle, writeTimeout  time.Duration
}

func newServeCmd() *cobra.Command {
	cfg := serveConfig{addr: "127.0.0.1:6380", http: "127.0.0.1:8080", dir: "./tiermem-data", durability: "none",
		maxBulk: "512MiB", logFormat: "text", logLevel: "info", shutdownWait: 10 * time.Second, writeTimeout: time.Minute}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a Manager over RESP (any Redis client, redis-cli, redis-benchmark) and HTTP",
		Long: "serve opens a Manager in --dir and serves it over RESP, the Redis protocol, on --addr\n" +
			"(loopback only by default) and over HTTP (JSON API, /metrics, dashboard) on --http.\n" +
			"Every flag can also be set by an environment variable: TIERMEM_ and the flag's name in\n" +
			"upper case with - as _, e.g. TIERMEM_REQUIREPASS; a flag given on the command line wins.\n" +
			"SIGTERM or SIGINT stops it gracefully: no new connections, the commands read are\n" +
			"answered, the Manager is closed (hot and warm persisted to cold), exit status 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			return runServe(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.addr, "addr", cfg.addr, "RESP listen address")
	f.StringVar(&cfg.http, "http", cfg.http, `HTTP listen address ("" for no HTTP)`)
	f.StringVar(&cfg.dir, "dir", cfg.dir, "data directory (the cold tier, glacier by default)")
	f.StringVar(&cfg.requirePass, "requirepass", "", "password clients must give (AUTH on RESP, bearer or basic auth on HTTP); prefer TIERMEM_REQUIREPASS, which ps does not show")
	f.StringVar(&cfg.hot, "hot", "", "hot tier budget, e.g. 8GiB (default: from the machine's RAM)")
	f.StringVar(&cfg.warm, "warm", "", "warm tier budget (default: from the machine's RAM)")
	f.StringVar(&cfg.cold, "cold", "", "cold tier budget (default: from the free disk)")
	f.StringVar(&cfg.durability, "durability", cfg.durability, "none, every-second or always")
	f.BoolVar(&cfg.noGlacier, "no-glacier", false, "run without the glacier tier")
	f.IntVar(&cfg.maxClients, "max-clients", 10000, "most RESP connections at once")
	f.StringVar(&cfg.maxBulk, "max-bulk-len", cfg.maxBulk, "longest RESP argument")
	f.StringVar(&cfg.logFormat, "log-format", cfg.logFormat, "text or json")
	f.StringVar(&cfg.logLevel, "log-level", cfg.logLevel, "debug, info, warn or error")
	f.DurationVar(&cfg.shutdownWait, "shutdown-wait", cfg.shutdownWait, "how long a graceful stop waits for clients")
	f.DurationVar(&cfg.idle, "idle-timeout", 0, "close a RESP client silent this long (0: never)")
	f.DurationVar(&cfg.writeTimeout, "write-timeout", cfg.writeTimeout, "close a RESP client that does not read its replies this long (0: never)")
	return cmd
}

// applyEnv sets every flag not given on the command line from its
// TIERMEM_* variable, if set.
func applyEnv(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		name := "TIERMEM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && !f.Changed && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
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
		n, err := parseBytes(size.s)
		if err != nil {
			return nil, err
		}
		*size.dst = n
	}
	switch cfg.durability {
	case "none":
	case "every-second":
		o.Durability = tiermem.EverySecond
	case "always":
		o.Durability = tiermem.Always
	default:
		return nil, fmt.Errorf("--durability %q: want none, every-second or always", cfg.durability)
	}
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

// runServe serves until ctx ends or a SIGTERM or SIGINT, then stops
// gracefully and returns nil.
func runServe(ctx context.Context, cfg serveConfig, logw io.Writer) error {
	log, err := cfg.newLogger(logw)
	if err != nil {
		return err
	}
	opts, err := cfg.managerOptions()
	if err != nil {
		return err
	}
	maxBulk, err := parseBytes(cfg.maxBulk)
	if err != nil {
		return fmt.Errorf("--max-bulk-len: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	m, err := tiermem.Open(cfg.dir, opts)
	if err != nil {
		return err
	}
	hs, observer, err := cfg.startHTTP(m, log)
	if err != nil {
		m.Close()
		return err
	}
	srv := server.New(m, &server.Options{RequirePass: cfg.requirePass, MaxClients: cfg.maxClients, MaxBulkLen: maxBulk,
		IdleTimeout: cfg.idle, WriteTimeout: cfg.writeTimeout, Logger: log, Observer: observer,
		SnapshotPath: filepath.Join(cfg.dir, "dump.tmsnap"), OnShutdown: stop}) // SAVE, BGSAVE; SHUTDOWN stops as a signal does
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return cfg.stop(srv, hs, m, log, err)
	}
	log.Info("tiermem serving", "resp", ln.Addr().String(), "http", cfg.http, "dir", cfg.dir)
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

// stop shuts the servers down gracefully, then closes the Manager.
func (cfg serveConfig) stop(srv *server.Server, hs *http.Server, m *tiermem.Manager, log *slog.Logger, failed error) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	errs := []error{failed, srv.Shutdown(ctx)}
	if hs != nil {
		errs = append(errs, hs.Shutdown(ctx))
	}
	errs = append(errs, m.Close())
	err := errors.Join(errs...)
	if err == nil {
		log.Info("tiermem stopped")
	}
	return err
}

// startHTTP serves package web's handler on --http, if set: the HTTP
// API, /metrics and the dashboard, behind the same password. It returns
// the handler's metrics, which the RESP server reports its commands to.
func (cfg serveConfig) startHTTP(m *tiermem.Manager, log *slog.Logger) (*http.Server, server.Observer, error) {
	if cfg.http == "" {
		return nil, nil, nil
	}
	h, err := web.New(m, web.Config{Password: cfg.requirePass, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.http)
	if err != nil {
		return nil, nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("tiermem: serving HTTP", "error", err)
		}
	}()
	return hs, h.Metrics(), nil
}

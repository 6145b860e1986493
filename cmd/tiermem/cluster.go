package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/tier/object"
)

// clusterConfig is what the cluster command's persistent flags set.
type clusterConfig struct {
	nodes     string        // --nodes: seed addresses, comma-separated
	rf        int           // --replication-factor
	chunk     int           // --chunk-size, bytes
	timeout   time.Duration // --timeout: the whole command
	progress  string        // --progress
	password  string        // --password, or TIERMEM_REDIS_PASSWORD
	replicas  bool          // --read-from-replicas
	glacier   string        // --glacier: a directory values spill to when the cluster is full
	sweepWait time.Duration // sweep --grace
}

func newClusterCmd() *cobra.Command {
	cfg := &clusterConfig{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Store, read and delete values in a Redis Cluster, and show its nodes",
		Long: "cluster works on values kept in a Redis Cluster by the cluster package: chunks of\n" +
			"--chunk-size spread over every master, a manifest per key with a checksum per chunk,\n" +
			"and --replication-factor copies acknowledged (WAIT) before put returns. --nodes names\n" +
			"one or more of the cluster's nodes. Progress bars show on big transfers.",
	}
	f := cmd.PersistentFlags()
	f.StringVar(&cfg.nodes, "nodes", "127.0.0.1:7000", "seed nodes of the cluster, host:port, comma-separated")
	f.IntVar(&cfg.rf, "replication-factor", 1, "copies a put waits for: the master's and N-1 replicas'")
	f.IntVar(&cfg.chunk, "chunk-size", 4<<20, "bytes per chunk of a put, 64 KiB to 32 MiB (a larger chunk outgrows Redis's replica output buffer)")
	f.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "give up after this long (more than 0)")
	f.StringVar(&cfg.progress, "progress", "auto", progressUsage)
	f.BoolVar(&cfg.replicas, "read-from-replicas", false, "read chunks from replicas too")
	f.StringVar(&cfg.glacier, "glacier", "", "directory shared by every client that values spill to when the cluster is out of memory")
	f.StringVar(&cfg.password, "password", "", "AUTH password (default $"+redisPasswordEnv+", read when the command runs: help never shows it)")
	cmd.AddCommand(
		&cobra.Command{Use: "status", Short: "Show every node: role, health, memory, keys, slots, replication lag",
			Args: cobra.NoArgs, RunE: cfg.run(cfg.status)},
		&cobra.Command{Use: "put KEY FILE", Short: "Store FILE's bytes (- for stdin) under KEY",
			Args: cobra.ExactArgs(2), RunE: cfg.run(cfg.put)},
		&cobra.Command{Use: "get KEY [FILE]", Short: "Write KEY's bytes to FILE, or stdout",
			Args: cobra.RangeArgs(1, 2), RunE: cfg.run(cfg.get)},
		&cobra.Command{Use: "rm KEY...", Short: "Delete keys", Args: cobra.MinimumNArgs(1), RunE: cfg.run(cfg.rm)},
	)
	sweep := &cobra.Command{Use: "sweep", Short: "Remove the chunks of Stores that crashed (older than --grace)",
		Args: cobra.NoArgs, RunE: cfg.run(cfg.sweep)}
	sweep.Flags().DurationVar(&cfg.sweepWait, "grace", cluster.DefaultSweepGrace, "keep chunks younger than this: their Store may be running")
	cmd.AddCommand(sweep)
	return cmd
}

// options checks the flags, naming them, before any node is dialled, and
// returns the Cluster's options.
func (cfg *clusterConfig) options(cmd *cobra.Command) (cluster.Options, error) {
	nodes, err := nodeList("--nodes", cfg.nodes)
	if err != nil {
		return cluster.Options{}, err
	}
	switch {
	case cfg.timeout <= 0:
		return cluster.Options{}, fmt.Errorf("--timeout %v: want a duration above 0 (the whole command must end within it)", cfg.timeout)
	case cfg.rf < 1:
		return cluster.Options{}, fmt.Errorf("--replication-factor %d: want at least 1 (the master's copy)", cfg.rf)
	case cfg.chunk < minChunk || cfg.chunk > maxChunk:
		return cluster.Options{}, fmt.Errorf("--chunk-size %d: want %d (64 KiB) to %d (32 MiB)", cfg.chunk, minChunk, maxChunk)
	}
	password := cfg.password
	if !cmd.Flags().Changed("password") {
		password = os.Getenv(redisPasswordEnv)
	}
	return cluster.Options{Nodes: nodes, Password: password,
		ReplicationFactor: cfg.rf, ChunkSize: cfg.chunk, ReadFromReplicas: cfg.replicas}, nil
}

// The bounds of --chunk-size, as cluster.Options takes them.
const (
	minChunk = 64 << 10
	maxChunk = 32 << 20 // cluster's own bound, which Open checks too
)

// nodeList splits a comma-separated list of host:port addresses, blanks
// trimmed and empty entries dropped. A list with no address ("" from an
// unset variable in a script, ",", " ") or an address without a port is an
// error naming flag: go-redis would take "" for localhost:6379, a node
// nobody named.
func nodeList(flag, list string) ([]string, error) {
	var nodes []string
	for node := range strings.SplitSeq(list, ",") {
		node = strings.TrimSpace(node)
		if node == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(node); err != nil || port == "" {
			return nil, fmt.Errorf("%s %q: %q is not host:port", flag, list, node)
		}
		nodes = append(nodes, node)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s %q: want host:port,... (one or more of the cluster's nodes)", flag, list)
	}
	return nodes, nil
}

// clusterJob is one subcommand's work on an open Cluster.
type clusterJob func(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, args []string) error

// redisPasswordEnv is the variable --password defaults to. It is read
// when a command runs, not as the flag's default, which help would print.
const redisPasswordEnv = "TIERMEM_REDIS_PASSWORD"

// run checks the flags, opens the cluster, runs job under --timeout, and
// closes the cluster.
func (cfg *clusterConfig) run(job clusterJob) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		opt, err := cfg.options(cmd)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), cfg.timeout)
		defer cancel()
		if cfg.glacier != "" {
			dir, err := object.OpenDir(cfg.glacier)
			if err != nil {
				return err
			}
			opt.Glacier = dir
		}
		c, err := cluster.Open(ctx, opt)
		if err != nil {
			return err
		}
		defer c.Close()
		return job(ctx, c, cmd, args)
	}
}

func (cfg *clusterConfig) status(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, _ []string) error {
	nodes, err := c.NodeStatus(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		fmt.Fprintln(cmd.OutOrStdout(), n)
	}
	return nil
}

// tracked returns ctx with a progress bar of total bytes (unknown when 0)
// on the command's stderr, and the function that clears it.
func (cfg *clusterConfig) tracked(ctx context.Context, cmd *cobra.Command, total int64, what string) (context.Context, func(), error) {
	show, err := showProgress(cfg.progress, cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	b := newBytesBar(total, what, cmd.ErrOrStderr(), show)
	var mu sync.Mutex // a bar is not safe for concurrent use; transfers report from many goroutines
	ctx = cluster.WithProgress(ctx, func(n int64) {
		mu.Lock()
		defer mu.Unlock()
		_ = b.Add64(n)
	})
	return ctx, func() { mu.Lock(); _ = b.Finish(); mu.Unlock() }, nil
}

func (cfg *clusterConfig) put(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, args []string) error {
	var (
		data []byte
		err  error
	)
	if args[1] == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(args[1])
	}
	if err != nil {
		return err
	}
	ctx, done, err := cfg.tracked(ctx, cmd, int64(len(data)), "put "+args[0])
	if err != nil {
		return err
	}
	err = c.Store(ctx, args[0], data)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "stored %q: %d bytes\n", args[0], len(data))
	return nil
}

func (cfg *clusterConfig) get(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, args []string) error {
	ctx, done, err := cfg.tracked(ctx, cmd, 0, "get "+args[0])
	if err != nil {
		return err
	}
	data, err := c.Retrieve(ctx, args[0])
	done()
	if err != nil {
		return err
	}
	if len(args) == 1 || args[1] == "-" {
		_, err = cmd.OutOrStdout().Write(data)
		return err
	}
	return os.WriteFile(args[1], data, 0o644)
}

func (cfg *clusterConfig) rm(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, args []string) error {
	for _, k := range args {
		if err := c.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (cfg *clusterConfig) sweep(ctx context.Context, c *cluster.Cluster, cmd *cobra.Command, _ []string) error {
	st, err := c.Sweep(ctx, cfg.sweepWait)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d chunks seen, %d orphans removed\n", st.Chunks, st.Orphans)
	return nil
}

// distributedDemo runs the seed's Distributed Memory example on the Redis
// Cluster at cfg.cluster: a 10000×10000 float64 array (800 MB; --scale
// shrinks its rows) stored with replication factor 2, read back, compared,
// then every node's status, then the array deleted.
func distributedDemo(cfg demoConfig) error {
	ctx := context.Background()
	seeds, err := nodeList("--cluster", cfg.cluster)
	if err != nil {
		return err
	}
	c, err := cluster.Open(ctx, cluster.Options{Nodes: seeds, ReplicationFactor: 2})
	if err != nil {
		return err
	}
	defer c.Close()
	rows, cols := max(1, int(10000*cfg.scale)), 10000
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = rand.Float64()
	}
	large := tiermem.Float64Array(data, rows, cols)
	if err := transfer(ctx, cfg, int64(len(large.Data)), "store_distributed", func(ctx context.Context) error {
		return c.StoreArray(ctx, "large_matrix", large)
	}); err != nil {
		return err
	}
	var got tiermem.Array
	if err := transfer(ctx, cfg, int64(len(large.Data)), "retrieve_distributed", func(ctx context.Context) (err error) {
		got, err = c.RetrieveArray(ctx, "large_matrix")
		return err
	}); err != nil {
		return err
	}
	if !bytes.Equal(got.Data, large.Data) || !slices.Equal(got.Shape, large.Shape) {
		return fmt.Errorf("the array read back differs from the one stored")
	}
	fmt.Fprintf(cfg.out, "Successfully retrieved distributed data with shape (%d, %d)\n", got.Shape[0], got.Shape[1])
	nodes, err := c.NodeStatus(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		state := "Online"
		if !n.Online {
			state = "Offline"
		}
		usage := fmt.Sprintf("%.2f%%", n.UsagePercent)
		if n.MaxMemory == 0 {
			usage = fmt.Sprintf("%.2f MiB (no maxmemory set)", float64(n.UsedMemory)/(1<<20))
		}
		fmt.Fprintf(cfg.out, "Node %s: %s, Memory usage: %s\n", n.Addr, state, usage)
	}
	return c.Delete(ctx, "large_matrix") // the seed's cleanup()
}

// transfer runs op under a progress bar of total bytes.
func transfer(ctx context.Context, cfg demoConfig, total int64, what string, op func(context.Context) error) error {
	b := newBytesBar(total, what, cfg.err, cfg.show)
	var mu sync.Mutex // transfers report from many goroutines
	err := op(cluster.WithProgress(ctx, func(n int64) { mu.Lock(); _ = b.Add64(n); mu.Unlock() }))
	mu.Lock()
	_ = b.Finish()
	mu.Unlock()
	return err
}

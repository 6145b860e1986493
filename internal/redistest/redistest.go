// Package redistest starts and stops a real Redis Cluster for tests: six
// redis-server processes on 127.0.0.1 (three masters, three replicas), joined
// with redis-cli --cluster create, each with its data directory in a temporary
// directory. It is test mechanism, not part of tiermem's API.
//
// A Cluster's methods are safe for concurrent use. Stop kills every process it
// started and removes the data directories.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Nodes is the number of redis-server processes of a Cluster.
const Nodes = 6

// DefaultBasePort is the first port of the cluster the cluster package's tests
// use: 7000–7005 (and their cluster bus ports, 17000–17005).
const DefaultBasePort = 7000

// Cluster is a running six-node Redis Cluster.
type Cluster struct {
	base int    // first port
	dir  string // holds one data directory per node

	mu    sync.Mutex // protects procs
	procs [Nodes]*exec.Cmd
}

// Start starts six redis-server processes on 127.0.0.1:base…base+5 and joins
// them into a cluster with one replica per master. It fails, rather than
// skipping, when redis-server or redis-cli is missing or a port is taken, so
// that a test run without Redis does not pass silently.
func Start(base int) (*Cluster, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("redistest: %s not on PATH (make deps installs it): %w", bin, err)
		}
	}
	for i := range Nodes {
		if c, err := net.DialTimeout("tcp", addr(base+i), 200*time.Millisecond); err == nil {
			c.Close()
			return nil, fmt.Errorf("redistest: %s is already in use (a cluster left running?)", addr(base+i))
		}
	}
	dir, err := os.MkdirTemp("", "tiermem-redis-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	c := &Cluster{base: base, dir: dir}
	if err := c.start(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	for i := range Nodes {
		if err := os.MkdirAll(c.nodeDir(i), 0o755); err != nil {
			return fmt.Errorf("redistest: %w", err)
		}
		if err := c.Restart(i); err != nil {
			return err
		}
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.WaitHealthy(ctx)
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func (c *Cluster) nodeDir(i int) string { return filepath.Join(c.dir, strconv.Itoa(c.base+i)) }

// Addrs returns the six nodes' addresses, host:port.
func (c *Cluster) Addrs() []string {
	a := make([]string, Nodes)
	for i := range a {
		a[i] = addr(c.base + i)
	}
	return a
}

// Addr returns node i's address.
func (c *Cluster) Addr(i int) string { return addr(c.base + i) }

// Restart starts node i's redis-server (again) on its port and data
// directory, after Kill; it returns once the node answers PING.
func (c *Cluster) Restart(i int) error {
	port := c.base + i
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0",
		"--appendonly", "no", "--save", "", "--dir", c.nodeDir(i),
		"--logfile", "redis.log", "--protected-mode", "no")
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting redis-server on %d: %w", port, err)
	}
	go cmd.Wait() //nolint:errcheck // reaps the process; its exit is what Kill asked for
	c.mu.Lock()
	c.procs[i] = cmd
	c.mu.Unlock()
	for range 100 {
		if _, err := c.Do(i, "PING"); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redistest: redis-server on %d does not answer (see %s)", port, filepath.Join(c.nodeDir(i), "redis.log"))
}

// Kill sends SIGKILL to node i: the process dies at once, as in a crash.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	cmd := c.procs[i]
	c.procs[i] = nil
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return fmt.Errorf("redistest: node %d is not running", i)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("redistest: killing node %d: %w", i, err)
	}
	for range 100 { // until the port is free for Restart
		conn, err := net.DialTimeout("tcp", c.Addr(i), 100*time.Millisecond)
		if err != nil {
			return nil
		}
		conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop kills every node it started and removes the data directories.
func (c *Cluster) Stop() {
	for i := range Nodes {
		c.mu.Lock()
		running := c.procs[i] != nil
		c.mu.Unlock()
		if running {
			_ = c.Kill(i)
		}
	}
	os.RemoveAll(c.dir)
}

// Do runs one command on node i over a fresh connection and returns its
// reply as text: a bulk or simple string, an integer, or the lines of an
// array joined by "\n". A Redis error reply is returned as an error.
func (c *Cluster) Do(i int, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", c.Addr(i), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP2 reply.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}

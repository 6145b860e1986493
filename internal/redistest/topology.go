package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Info returns the fields of node i's INFO section (or CLUSTER INFO when
// section is "cluster-info") as a map.
func (c *Cluster) Info(i int, section string) (map[string]string, error) {
	args := []string{"INFO", section}
	if section == "cluster-info" {
		args = []string{"CLUSTER", "INFO"}
	}
	out, err := c.Do(i, args...)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string)
	for line := range strings.SplitSeq(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}

// Running reports whether node i's process is running (not killed).
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i] != nil
}

// Masters returns the indexes of the running nodes that are masters now.
func (c *Cluster) Masters() ([]int, error) { return c.withRole("master") }

// Replicas returns the indexes of the running nodes that are replicas now.
func (c *Cluster) Replicas() ([]int, error) { return c.withRole("slave") }

func (c *Cluster) withRole(role string) ([]int, error) {
	var idx []int
	for i := range Nodes {
		if !c.Running(i) {
			continue
		}
		info, err := c.Info(i, "replication")
		if err != nil {
			return nil, err
		}
		if info["role"] == role {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

// WaitHealthy waits until every node is running, every node says
// cluster_state:ok, there are three masters each with a connected replica,
// and every replica's link to its master is up.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var why error
	for {
		if why = c.healthy(); why == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: cluster not healthy: %w", why)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitState waits until every running node says cluster_state:ok (after a
// failover, with a master still down).
func (c *Cluster) WaitState(ctx context.Context) error {
	for {
		ok := true
		for i := range Nodes {
			if !c.Running(i) {
				continue
			}
			if info, err := c.Info(i, "cluster-info"); err != nil || info["cluster_state"] != "ok" {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: cluster_state not ok: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy() error {
	masters := 0
	for i := range Nodes {
		if !c.Running(i) {
			return fmt.Errorf("node %d is down", i)
		}
		ci, err := c.Info(i, "cluster-info")
		if err != nil {
			return err
		}
		if ci["cluster_state"] != "ok" || ci["cluster_known_nodes"] != "6" {
			return fmt.Errorf("node %d: cluster_state %s, %s known nodes", i, ci["cluster_state"], ci["cluster_known_nodes"])
		}
		if err := c.agrees(i); err != nil {
			return err
		}
		ri, err := c.Info(i, "replication")
		if err != nil {
			return err
		}
		switch ri["role"] {
		case "master":
			masters++
			if ri["connected_slaves"] != "1" {
				return fmt.Errorf("node %d: master with %s replicas", i, ri["connected_slaves"])
			}
		case "slave":
			if ri["master_link_status"] != "up" {
				return fmt.Errorf("node %d: link to master %s", i, ri["master_link_status"])
			}
		}
	}
	if masters != 3 {
		return fmt.Errorf("%d masters", masters)
	}
	return nil
}

// agrees checks that node i sees three masters and three replicas, none of
// them failing: the gossip has reached it.
func (c *Cluster) agrees(i int) error {
	out, err := c.Do(i, "CLUSTER", "NODES")
	if err != nil {
		return err
	}
	masters, replicas := 0, 0
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		flags := f[2]
		switch {
		case strings.Contains(flags, "fail"):
			return fmt.Errorf("node %d sees %s as %s", i, f[1], flags)
		case strings.Contains(flags, "slave"):
			replicas++
		case strings.Contains(flags, "master") && len(f) > 8:
			masters++
		}
	}
	if masters != 3 || replicas != 3 {
		return fmt.Errorf("node %d sees %d masters with slots and %d replicas", i, masters, replicas)
	}
	return nil
}

// Failovers returns the lines of the nodes' logs that tell of a failover
// (a node marked failing, an election won), so that a test that lost data
// can say whether the cluster failed a node over behind its back: a master
// busy for longer than the node timeout is failed over too.
func (c *Cluster) Failovers() []string {
	var lines []string
	for i := range Nodes {
		b, err := os.ReadFile(filepath.Join(c.nodeDir(i), "redis.log"))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if strings.Contains(line, "Failover election won") || strings.Contains(line, "as failing (quorum reached)") {
				lines = append(lines, fmt.Sprintf("node %d: %s", i, strings.TrimSpace(line)))
			}
		}
	}
	return lines
}

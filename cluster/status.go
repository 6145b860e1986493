package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Node is the status of one node of the cluster, as the cluster reports it
// (CLUSTER SHARDS) and the node itself (INFO).
type Node struct {
	Addr     string // host:port
	ID       string // the node's cluster ID
	Role     string // "master" or "replica"
	MasterID string // a replica's master's ID; "" for a master
	Health   string // the cluster's view: "online", "failed" or "loading"
	Online   bool   // healthy in the cluster's view and answering INFO
	Err      string // why INFO failed, if it did

	UsedMemory   int64   // bytes (INFO used_memory)
	MaxMemory    int64   // bytes (maxmemory); 0 when unlimited
	UsagePercent float64 // UsedMemory / MaxMemory × 100; 0 when unlimited
	Keys         int64   // keys held (DBSIZE)
	Slots        int     // hash slots served (for a replica, its master's)

	ReplicationOffset int64 // the node's replication offset
	LagBytes          int64 // a replica's offset behind its master's; 0 for a master
}

// NodeStatus returns the status of every node the cluster knows, masters
// first, each followed by its replicas. A node that is down is listed with
// Online false.
func (c *Cluster) NodeStatus(ctx context.Context) ([]Node, error) {
	if err := c.enter(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	var shards []redis.ClusterShard
	err := c.retry(ctx, "reading CLUSTER SHARDS", func(ctx context.Context) (err error) {
		shards, err = c.rc.ClusterShards(ctx).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	var nodes []Node
	for _, s := range shards {
		slots, masterID, masterOff := 0, "", int64(0)
		for _, r := range s.Slots {
			slots += int(r.End-r.Start) + 1
		}
		for _, n := range s.Nodes {
			if n.Role == "master" {
				masterID, masterOff = n.ID, n.ReplicationOffset
			}
		}
		first := len(nodes)
		for _, n := range s.Nodes {
			nd := Node{Addr: net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10)), ID: n.ID, Role: n.Role,
				Health: n.Health, Slots: slots, ReplicationOffset: n.ReplicationOffset}
			if n.Role == "replica" {
				nd.MasterID = masterID
				nd.LagBytes = max(0, masterOff-n.ReplicationOffset)
				nodes = append(nodes, nd)
			} else {
				nodes = append(nodes[:first], append([]Node{nd}, nodes[first:]...)...)
			}
		}
	}
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { c.probe(ctx, &nodes[i]) })
	}
	wg.Wait()
	return nodes, nil
}

// probe fills n's memory and key figures from the node itself.
func (c *Cluster) probe(ctx context.Context, n *Node) {
	cl := redis.NewClient(&redis.Options{Addr: n.Addr, Username: c.opt.Username, Password: c.opt.Password,
		DialTimeout: c.opt.DialTimeout, ReadTimeout: c.opt.DialTimeout, MaxRetries: -1, DisableIdentity: true})
	defer cl.Close()
	info, err := cl.Info(ctx, "memory").Result()
	if err == nil {
		n.Keys, err = cl.DBSize(ctx).Result()
	}
	if err != nil {
		n.Err = err.Error()
		return
	}
	n.Online = n.Health != "failed" // Redis 7.0 says "loading" for a replica at offset 0
	fields := infoFields(info)
	n.UsedMemory, _ = strconv.ParseInt(fields["used_memory"], 10, 64)
	n.MaxMemory, _ = strconv.ParseInt(fields["maxmemory"], 10, 64)
	if n.MaxMemory > 0 {
		n.UsagePercent = float64(n.UsedMemory) / float64(n.MaxMemory) * 100
	}
}

func infoFields(info string) map[string]string {
	m := make(map[string]string)
	for line := range strings.SplitSeq(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// String returns one line about n, as `tiermem cluster status` prints it.
func (n Node) String() string {
	state := "online"
	if !n.Online {
		state = "OFFLINE (" + n.Health + ")"
	}
	role := n.Role
	if n.MasterID != "" {
		role += " of " + n.MasterID[:min(8, len(n.MasterID))]
	}
	limit := "no maxmemory"
	if n.MaxMemory > 0 {
		limit = fmt.Sprintf("%.1f%% of %d MiB", n.UsagePercent, n.MaxMemory>>20)
	}
	return fmt.Sprintf("%s %s %s %s: %d MiB used (%s), %d keys, %d slots, lag %d B",
		n.Addr, n.ID[:min(8, len(n.ID))], role, state, n.UsedMemory>>20, limit, n.Keys, n.Slots, n.LagBytes)
}
